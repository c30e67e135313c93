"""The conversation store: private file, per-owner isolation, retention, bounds."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from assistant.access.conversations import (
    ConversationStore,
    browser_owner,
    is_browser_token,
    new_browser_token,
    open_store,
    user_owner,
)
from assistant.qa.models import Answer, Citation
from ingest.settings import Settings

KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def answer(question: str = "What does proportionality mean?", passage: str = "") -> Answer:
    citation = Citation(
        n=1,
        source="02-principles.pdf",
        title="Principles (Sample Edition)",
        page=4,
        section="3 Principles > 3.2 Proportionality",
        text=passage or "Proportionality means the intrusion matches the aim. More text.",
        quote="Proportionality means the intrusion matches the aim.",
        score=0.8,
    )
    return Answer(
        question, "Proportionality means the intrusion matches the aim. [1]", False, [citation]
    )


def store(tmp_path: Path, clock: Clock | None = None, **bounds) -> ConversationStore:
    return ConversationStore(
        tmp_path / "data" / "conversations.sqlite3", 30, clock=clock or Clock(), **bounds
    )


def test_the_file_and_its_wal_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    conversations = store(tmp_path)
    conversations.add_turn(user_owner("olive"), None, answer())
    files = [conversations.path, Path(f"{conversations.path}-wal")]
    assert files[1].exists()  # journal_mode=WAL
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_conversation_is_kept_across_a_restart_and_reopened_whole(tmp_path: Path) -> None:
    first = store(tmp_path)
    owner = user_owner("olive")
    conversation = first.add_turn(owner, None, answer("First question?"))
    assert first.add_turn(owner, conversation, answer("Second question?")) == conversation
    first.close()

    again = store(tmp_path)
    [summary] = again.list(owner)
    assert (summary.id, summary.title, summary.turns) == (conversation, "First question?", 2)
    reopened = again.latest(owner)
    assert [a.question for a in reopened.answers] == ["First question?", "Second question?"]
    cited = reopened.answers[0].citations[0]
    assert (cited.source, cited.page, cited.quote) == (
        "02-principles.pdf",
        4,
        "Proportionality means the intrusion matches the aim.",
    )


def test_owners_see_only_their_own_conversations(tmp_path: Path) -> None:
    conversations = store(tmp_path)
    olive, sam = user_owner("olive"), user_owner("sam")
    browser = browser_owner(new_browser_token(), KEY)
    mine = conversations.add_turn(olive, None, answer("Olive's question?"))
    conversations.add_turn(browser, None, answer("A browser's question?"))

    assert conversations.list(sam) == []
    assert conversations.get(sam, mine) is None
    assert conversations.delete(sam, mine) is False
    # Appending to someone else's conversation starts a new one of one's own instead.
    theirs = conversations.add_turn(sam, mine, answer("Sam's question?"))
    assert theirs != mine
    assert [a.question for a in conversations.get(olive, mine).answers] == ["Olive's question?"]
    assert [c.title for c in conversations.list(browser)] == ["A browser's question?"]

    assert conversations.delete(olive, mine) is True
    assert conversations.list(olive) == []


def test_browser_owners_come_from_unguessable_server_tokens_kept_as_hashes(tmp_path: Path) -> None:
    token = new_browser_token()
    assert is_browser_token(token)
    assert browser_owner(token, KEY) != browser_owner(new_browser_token(), KEY)
    for chosen in ("", "1", "anonymous", "a" * 42, "a" * 44, "../" * 15, None, 7):
        assert not is_browser_token(chosen)
    with pytest.raises(ValueError):
        browser_owner("guess", KEY)
    conversations = store(tmp_path)
    conversations.add_turn(browser_owner(token, KEY), None, answer())
    assert token.encode() not in conversations.path.read_bytes()


def test_conversations_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    clock = Clock()
    conversations = store(tmp_path, clock)
    owner = user_owner("olive")
    old = conversations.add_turn(owner, None, answer("Old question?"))
    clock.now += 20 * 86_400
    recent = conversations.add_turn(owner, None, answer("Recent question?"))
    clock.now += 11 * 86_400  # old: 31 days untouched; recent: 11

    assert [c.id for c in conversations.list(owner)] == [recent]
    assert conversations.get(owner, old) is None
    assert conversations.purge() == 1
    again = store(tmp_path, clock)  # a restart purges too
    assert [c.id for c in again.list(owner)] == [recent]
    # Adding to an expired conversation starts a new one.
    assert conversations.add_turn(owner, old, answer()) not in (old, recent)


def test_sizes_are_bounded_oldest_first(tmp_path: Path) -> None:
    conversations = store(tmp_path, max_turns=3, max_per_owner=2, max_conversations=3)
    clock = conversations.clock
    owner = user_owner("olive")
    conversation = None
    for number in range(5):
        clock.now += 1
        conversation = conversations.add_turn(owner, conversation, answer(f"Question {number}?"))
    kept = conversations.get(owner, conversation).answers
    assert [a.question for a in kept] == ["Question 2?", "Question 3?", "Question 4?"]
    assert conversations.list(owner)[0].turns == 3

    for number in range(3):
        clock.now += 1
        conversations.add_turn(owner, None, answer(f"New {number}?"))
    assert [c.title for c in conversations.list(owner)] == ["New 2?", "New 1?"]
    for name in ("a", "b"):
        clock.now += 1
        conversations.add_turn(user_owner(name), None, answer(f"{name}?"))
    # Three in the whole file: the oldest (olive's "New 1?") went.
    assert [c.title for c in conversations.list(owner)] == ["New 2?"]


def test_a_huge_turn_keeps_its_quotes_not_its_passages_or_is_not_kept(tmp_path: Path) -> None:
    conversations = store(tmp_path, max_turn_bytes=4096)
    owner = user_owner("olive")
    big = answer(passage="word " * 2000)
    conversation = conversations.add_turn(owner, None, big)
    [cited] = conversations.get(owner, conversation).answers[0].citations
    assert cited.text == cited.quote
    assert conversations.add_turn(owner, None, answer("x" * 5000)) is None


def test_store_bytes_are_bounded(tmp_path: Path) -> None:
    conversations = store(tmp_path, max_store_bytes=1500)
    for number in range(4):
        conversations.clock.now += 1
        conversations.add_turn(user_owner(f"u{number}"), None, answer())
    remaining = [n for n in range(4) if conversations.list(user_owner(f"u{n}"))]
    assert remaining and remaining[-1] == 3 and len(remaining) < 4


def test_nothing_is_stored_when_questions_are_not_kept(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    assert (
        open_store(Settings(app={"conversations_file": path}, audit={"store_questions": False}))
        is None
    )
    assert (
        open_store(Settings(app={"conversations_file": path, "conversation_retention_days": 0}))
        is None
    )
    assert not path.exists()
    assert open_store(Settings(app={"conversations_file": path})) is not None
    assert path.exists()
