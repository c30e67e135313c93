"""Officers' conversations, kept per user in a local SQLite file so that a reload or a
restart does not lose them: list, reopen, delete, and dropped after `app.conversation_
retention_days`.

Who owns a conversation:
- with a login, the account (`user_owner`);
- without one, the browser: a 256-bit random token that the server makes and the page
  keeps (`new_browser_token`), stored here only as its keyed hash (`browser_owner`). A
  client can send any token it likes, but it cannot guess another browser's, and a token
  that is not of the server's shape (too short to be unguessable) is replaced, not used.

What is kept: the question, the answer and its citations (passage and quote), enough to
show the conversation again and to export it for a case file. That is operationally
sensitive, so the file is made 0600 (SQLite gives its `-wal` and `-shm` files the same
mode), deleted rows are overwritten (`secure_delete`), and with `audit.store_questions =
false` nothing is stored at all (`open_store` returns None): a keyed hash of a question
could not show the conversation again, which is this store's only purpose, so keeping one
would be data without a use. Every size is bounded: turns per conversation, bytes per turn
and per conversation, conversations per owner, conversations and bytes in the whole file;
the oldest goes first.

No Gradio here: `assistant.web.app` calls these functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant.qa.models import Answer, Citation
from ingest.settings import Settings

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400
MAX_TURNS = 50  # the chat shows the latest 100 messages: 50 questions and answers
MAX_TURN_BYTES = 256 * 1024  # an answer with six citations is about 10 KB
MAX_CONVERSATION_BYTES = 4 * 1024 * 1024
MAX_CONVERSATIONS_PER_OWNER = 100
MAX_CONVERSATIONS = 10_000
MAX_STORE_BYTES = 512 * 1024 * 1024
MAX_TITLE_CHARS = 80
_BROWSER_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations (owner, updated);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations (updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    created REAL NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (conversation, seq)
);
"""


@dataclass(frozen=True)
class ConversationSummary:
    """One line of the conversation list."""

    id: str
    title: str
    updated: float  # seconds since the epoch
    turns: int


@dataclass
class Conversation:
    id: str
    title: str
    updated: float
    answers: list[Answer] = field(default_factory=list)


# -- owners -----------------------------------------------------------------------------------
def new_browser_token() -> str:
    return secrets.token_urlsafe(32)


def is_browser_token(value: object) -> bool:
    return isinstance(value, str) and bool(_BROWSER_TOKEN.fullmatch(value))


def browser_owner(token: str, key: bytes) -> str:
    """The owner key of a browser: its token's keyed hash, so the file never holds the token."""
    if not is_browser_token(token):
        raise ValueError("not a browser token made by this server")
    return "browser:" + hmac.new(key, token.encode("ascii"), hashlib.sha256).hexdigest()


def user_owner(name: str) -> str:
    return "user:" + name


def is_conversation_id(value: object) -> bool:
    return isinstance(value, str) and bool(_ID.fullmatch(value))


# -- answers as stored ------------------------------------------------------------------------
def answer_record(answer: Answer) -> dict:
    """What a turn keeps: the answer as shown, with its citations and pointers."""
    return {
        "question": answer.question,
        "answer": answer.answer,
        "refused": answer.refused,
        "answerer": answer.answerer,
        "notice": answer.notice,
        "citations": [asdict(c) for c in answer.citations],
        "pointers": [asdict(p) for p in answer.pointers],
    }


def answer_from_record(record: dict) -> Answer:
    return Answer(
        question=record["question"],
        answer=record["answer"],
        refused=bool(record["refused"]),
        citations=[Citation(**c) for c in record.get("citations", [])],
        pointers=[Citation(**p) for p in record.get("pointers", [])],
        answerer=record.get("answerer", "extractive"),
        notice=record.get("notice", ""),
    )


def _encoded(answer: Answer, limit: int) -> str | None:
    """The turn as JSON within `limit` bytes: whole passages go first, then it is not kept."""
    record = answer_record(answer)
    text = json.dumps(record, ensure_ascii=False)
    if len(text.encode("utf-8")) <= limit:
        return text
    for citation in record["citations"] + record["pointers"]:
        citation["text"] = citation["quote"]  # the quote stays: it is what was cited
    text = json.dumps(record, ensure_ascii=False)
    return text if len(text.encode("utf-8")) <= limit else None


def title_of(question: str) -> str:
    title = " ".join(question.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "\u2026"


# -- the store --------------------------------------------------------------------------------
class ConversationStore:
    """The SQLite file of conversations; see the module docstring. Thread-safe."""

    def __init__(
        self,
        path: Path,
        retention_days: float,
        *,
        max_turns: int = MAX_TURNS,
        max_turn_bytes: int = MAX_TURN_BYTES,
        max_conversation_bytes: int = MAX_CONVERSATION_BYTES,
        max_per_owner: int = MAX_CONVERSATIONS_PER_OWNER,
        max_conversations: int = MAX_CONVERSATIONS,
        max_store_bytes: int = MAX_STORE_BYTES,
        clock=time.time,
    ) -> None:
        self.path = Path(path)
        self.retention_seconds = retention_days * DAY_SECONDS
        self.max_turns = max_turns
        self.max_turn_bytes = max_turn_bytes
        self.max_conversation_bytes = max_conversation_bytes
        self.max_per_owner = max_per_owner
        self.max_conversations = max_conversations
        self.max_store_bytes = max_store_bytes
        self.clock = clock
        self._lock = threading.Lock()
        self._db = self._connect()
        self.purge()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Made 0600 before SQLite opens it: SQLite gives the -wal and -shm files its mode.
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(self.path, 0o600)
        for suffix in ("-wal", "-shm"):  # left by an older, looser version of the file
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{self.path}{suffix}", 0o600)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA secure_delete=ON")  # a deleted conversation is overwritten
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(_SCHEMA)
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _cutoff(self) -> float:
        return self.clock() - self.retention_seconds

    # -- writing ------------------------------------------------------------------------------
    def add_turn(self, owner: str, conversation: str | None, answer: Answer) -> str | None:
        """Append `answer` to the owner's conversation (a new one when `conversation` is
        None or not theirs); its id, or None when the turn is too large to keep."""
        record = _encoded(answer, self.max_turn_bytes)
        if record is None:
            log.warning("a conversation turn over %d bytes was not kept", self.max_turn_bytes)
            return None
        size = len(record.encode("utf-8"))
        now = self.clock()
        with self._transaction() as db:
            row = None
            if is_conversation_id(conversation):
                row = db.execute(
                    "SELECT turns FROM conversations WHERE id = ? AND owner = ? AND updated >= ?",
                    (conversation, owner, self._cutoff()),
                ).fetchone()
            if row is None:
                conversation = secrets.token_urlsafe(16)
                db.execute(
                    "INSERT INTO conversations (id, owner, title, created, updated) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (conversation, owner, title_of(answer.question), now, now),
                )
            seq = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM turns WHERE conversation = ?",
                (conversation,),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO turns (conversation, seq, created, record) VALUES (?, ?, ?, ?)",
                (conversation, seq, now, record),
            )
            db.execute(
                "UPDATE conversations SET updated = ?, turns = turns + 1, bytes = bytes + ? "
                "WHERE id = ?",
                (now, size, conversation),
            )
            self._bound_conversation(db, conversation)
            self._bound_owner(db, owner)
            self._bound_store(db)
        return conversation

    def _bound_conversation(self, db: sqlite3.Connection, conversation: str) -> None:
        """Oldest turns go when the conversation holds too many or too many bytes."""
        turns, size = db.execute(
            "SELECT turns, bytes FROM conversations WHERE id = ?", (conversation,)
        ).fetchone()
        while turns > self.max_turns or (size > self.max_conversation_bytes and turns > 1):
            seq, record = db.execute(
                "SELECT seq, record FROM turns WHERE conversation = ? ORDER BY seq LIMIT 1",
                (conversation,),
            ).fetchone()
            db.execute("DELETE FROM turns WHERE conversation = ? AND seq = ?", (conversation, seq))
            turns, size = turns - 1, size - len(record.encode("utf-8"))
        db.execute(
            "UPDATE conversations SET turns = ?, bytes = ? WHERE id = ?",
            (turns, size, conversation),
        )

    def _bound_owner(self, db: sqlite3.Connection, owner: str) -> None:
        db.execute(
            "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations WHERE owner = ? "
            "ORDER BY updated DESC LIMIT -1 OFFSET ?)",
            (owner, self.max_per_owner),
        )

    def _bound_store(self, db: sqlite3.Connection) -> None:
        db.execute(
            "DELETE FROM conversations WHERE id IN (SELECT id FROM conversations "
            "ORDER BY updated DESC LIMIT -1 OFFSET ?)",
            (self.max_conversations,),
        )
        total = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM conversations").fetchone()[0]
        while total > self.max_store_bytes:
            oldest = db.execute(
                "SELECT id, bytes FROM conversations ORDER BY updated LIMIT 1"
            ).fetchone()
            if oldest is None:
                break
            db.execute("DELETE FROM conversations WHERE id = ?", (oldest[0],))
            total -= oldest[1]

    def delete(self, owner: str, conversation: str) -> bool:
        """Delete one of the owner's conversations; False when they have none of that id."""
        if not is_conversation_id(conversation):
            return False
        with self._transaction() as db:
            deleted = db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation, owner)
            ).rowcount
        return deleted > 0

    def purge(self) -> int:
        """Delete the conversations untouched for longer than the retention; how many."""
        with self._transaction() as db:
            return db.execute(
                "DELETE FROM conversations WHERE updated < ?", (self._cutoff(),)
            ).rowcount

    # -- reading ------------------------------------------------------------------------------
    def list(self, owner: str) -> list[ConversationSummary]:
        """The owner's conversations within the retention, latest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, updated, turns FROM conversations WHERE owner = ? "
                "AND updated >= ? ORDER BY updated DESC",
                (owner, self._cutoff()),
            ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    def get(self, owner: str, conversation: str) -> Conversation | None:
        """The owner's conversation with its answers, oldest first; None if not theirs."""
        if not is_conversation_id(conversation):
            return None
        with self._lock:
            head = self._db.execute(
                "SELECT id, title, updated FROM conversations WHERE id = ? AND owner = ? "
                "AND updated >= ?",
                (conversation, owner, self._cutoff()),
            ).fetchone()
            if head is None:
                return None
            records = self._db.execute(
                "SELECT record FROM turns WHERE conversation = ? ORDER BY seq", (conversation,)
            ).fetchall()
        answers = [answer_from_record(json.loads(record)) for (record,) in records]
        return Conversation(*head, answers=answers)

    def latest(self, owner: str) -> Conversation | None:
        listed = self.list(owner)
        return self.get(owner, listed[0].id) if listed else None


def open_store(settings: Settings) -> ConversationStore | None:
    """The conversation store the settings ask for; None when conversations are not kept
    (`audit.store_questions = false`, or `app.conversation_retention_days = 0`)."""
    if not settings.audit.store_questions or settings.app.conversation_retention_days <= 0:
        return None
    return ConversationStore(
        settings.app.conversations_file, settings.app.conversation_retention_days
    )
