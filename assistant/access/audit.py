"""The audit trail: who asked what and who changed the corpus, one JSON object a line.

The file is only ever appended to (one `write` of one line per event, then flush and
fsync); existing lines are never rewritten. When the next line would take it past
`audit.max_bytes`, it is renamed `audit.jsonl.1` (earlier ones move up to `.2` .. `.keep`,
and the oldest is dropped) and a new file is started. The app answers in worker threads
and `ingest` may run at the shell meanwhile, so appends and rotation hold a thread lock
and a file lock. The file is created 0600: questions can be operationally sensitive.

An audit that cannot be written must not cost an officer the answer: the failure is
reported once on stderr, and the app carries on.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.qa.models import Answer
from ingest.models import RefreshReport
from ingest.settings import AuditSettings, Settings

CORPUS_ACTIONS = ("add", "replace", "remove", "refresh", "upload")
ANONYMOUS = "anonymous"
LOCK_TIMEOUT_SECONDS = 10

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _thread_lock(path: Path) -> threading.Lock:
    """One lock per file, shared by every AuditLog of this process that writes to it."""
    key = path.absolute()
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class AuditLog:
    """Append events to the audit file and read them back, across rotated files."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.path = Path(settings.file)
        self._lock = _thread_lock(self.path)
        self._failing = False  # warn once per run of failures, not once per question

    # -- events -------------------------------------------------------------------------------
    def question(self, user: str | None, answer: Answer, latency_ms: float) -> None:
        """Record one answered (or refused) question."""
        record: dict = {"time": _now(), "event": "question", "user": user or ANONYMOUS}
        if self.settings.store_questions:
            record["question"] = answer.question
        record["question_sha256"] = text_sha256(answer.question)
        record["sources"] = [{"source": c.source, "page": c.page} for c in answer.citations]
        record["refused"] = answer.refused
        record["latency_ms"] = round(float(latency_ms), 1)
        self._append(record)

    def corpus_change(
        self,
        user: str,
        action: str,
        source: str,
        sha256_before: str | None,
        sha256_after: str | None,
    ) -> None:
        """Record one change to the corpus; a hash is None where there was no document."""
        if action not in CORPUS_ACTIONS:
            raise ValueError(f"action must be one of {CORPUS_ACTIONS}, not {action!r}")
        self._append(
            {
                "time": _now(),
                "event": "corpus",
                "user": user,
                "action": action,
                "source": source,
                "sha256_before": sha256_before,
                "sha256_after": sha256_after,
            }
        )

    def refresh_changes(self, user: str, report: RefreshReport) -> int:
        """One corpus event per document a refresh added, replaced or removed, with the
        SHA-256 before and after that the refresh itself saw; the count."""
        changes = (
            [("add", s) for s in report.added]
            + [("replace", s) for s in report.updated]
            + [("remove", s) for s in report.removed]
        )
        for action, source in changes:
            before, after = report.sha256_changes.get(source, (None, None))
            self.corpus_change(user, action, source, before, after)
        return len(changes)

    # -- reading ------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """The audit files that exist, oldest first."""
        rotated = [self._rotated(n) for n in range(self.settings.keep, 0, -1)]
        return [p for p in [*rotated, self.path] if p.exists()]

    def read(self, since: datetime | None = None) -> list[dict]:
        """Every event, oldest first; with `since`, those at or after it (naive means UTC).

        A line that is not a JSON object (the torn end of a crashed write) is skipped.
        """
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        records = []
        for path in self.files():
            with path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    record = _parse(line)
                    if record is None:
                        continue
                    if since is not None:
                        time = _parse_time(record.get("time"))
                        if time is None or time < since:
                            continue
                    records.append(record)
        return records

    # -- writing ------------------------------------------------------------------------------
    def _rotated(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def _append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                lock = FileLock(self.path.with_name(self.path.name + ".lock"))
                with lock.acquire(timeout=LOCK_TIMEOUT_SECONDS):
                    self._rotate_if_full(len(line))
                    fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                    with open(fd, "ab") as handle:
                        handle.write(self._line_start() + line)
                        handle.flush()
                        os.fsync(handle.fileno())
            except (OSError, Timeout) as err:
                if not self._failing:
                    reason = getattr(err, "strerror", None) or err.__class__.__name__
                    print(
                        f"warning: cannot write the audit file {self.path} ({reason}); "
                        "events are not recorded until it is writable again",
                        file=sys.stderr,
                    )
                self._failing = True
                return
            self._failing = False

    def _line_start(self) -> bytes:
        """A newline first when a crashed write left a torn last line, so this one stays whole."""
        with self.path.open("rb") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                return b""
            handle.seek(-1, os.SEEK_END)
            return b"" if handle.read(1) == b"\n" else b"\n"

    def _rotate_if_full(self, incoming: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        # An empty file is never rotated, so one event larger than max_bytes still lands.
        if size == 0 or size + incoming <= self.settings.max_bytes:
            return
        for n in range(self.settings.keep - 1, 0, -1):
            if self._rotated(n).exists():
                os.replace(self._rotated(n), self._rotated(n + 1))  # over .keep: oldest dropped
        os.replace(self.path, self._rotated(1))


def _parse(line: str) -> dict | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        time = datetime.fromisoformat(value)
    except ValueError:
        return None
    return time if time.tzinfo else time.replace(tzinfo=UTC)


def stored_hashes(settings: Settings) -> dict[str, str]:
    """Source -> SHA-256 of each document in the store's current generation ({} if none)."""
    from ingest.store import Store  # chromadb, only for the commands that change the corpus

    store = Store.open(settings)
    current = store.current()
    if current is None:
        return {}
    return {record.source: record.sha256 for record in store.documents(current.generation)}


# -- sign-in failures (issue 14, finding 6) ---------------------------------------------------
# Kept apart at the end of the file for the audit rewrite to carry over: one event per wrong
# password the app checked. Guesses refused by the throttle (no check made) are not written
# one by one, so a flood cannot fill the trail; the wait a failure starts is.
def record_login_failure(
    audit: AuditLog, user: str, address: str, where: str, locked_seconds: float
) -> None:
    """Record a wrong password at `where` ("login" or "staff sign-in")."""
    audit._append(
        {
            "time": _now(),
            "event": "login_failure",
            "user": user,
            "address": address,
            "where": where,
            "locked_seconds": round(float(locked_seconds), 1),
        }
    )
