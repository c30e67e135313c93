"""The audit hash chain: it holds on untouched logs (after rotation, retention and a flood of
questions) and `verify` catches every tampering in the catalogue of issue 14, finding 5.

Each attack is done the way someone with write access to the files would: `sed`-like edits
of the bytes, `rm`, `truncate`, and for the forged lines a hash recomputed with the public
algorithm.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.access import audit, audit_chain
from assistant.access.audit import AuditConfigError, AuditLog
from assistant.access.audit_chain import link_hash
from assistant.qa.models import Answer, Citation
from ingest.settings import AuditSettings

SHA = "a" * 64
KEY = b"k" * 40


def _answer(n: int) -> Answer:
    citation = Citation(1, "toolkit.pdf", "Title", 3, "1 Intro", "passage", "quote", 0.5)
    return Answer(f"Question number {n}?", "The answer.", False, [citation])


def _settings(folder: Path, **overrides: object) -> AuditSettings:
    values = {"file": folder / "audit.jsonl", "max_bytes": 2_500, "keep": 50} | overrides
    return AuditSettings(**values)


def _fill(log: AuditLog, questions: int = 40, changes: int = 30) -> None:
    for n in range(max(questions, changes)):
        if n < questions:
            log.question(f"officer-{n % 3}", _answer(n), latency_ms=n)
        if n < changes:
            log.corpus_change("bob", "upload", f"doc-{n:03d}.md", None, SHA)


@pytest.fixture
def written(tmp_path: Path) -> Path:
    """An untouched log with several rotated files in both streams, and its settings' folder."""
    folder = tmp_path / "pristine"
    log = AuditLog(_settings(folder))
    _fill(log)
    assert len(log.questions.files()) >= 4 and len(log.governance.files()) >= 4
    assert all(r.intact for r in log.verify())
    return folder


def _attacked(written: Path, tmp_path: Path, attack: Callable[[Path], None]) -> AuditLog:
    folder = tmp_path / "attacked"
    shutil.copytree(written, folder)
    attack(folder)
    return AuditLog(_settings(folder))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


# -- the catalogue ------------------------------------------------------------------------------
def change_a_field(folder: Path) -> None:
    """`sed -i 's/"user": "bob"/"user": "eve"/'` on one line of a rotated file."""
    path = folder / "audit.governance.jsonl.2"
    lines = _lines(path)
    lines[1] = lines[1].replace(b'"user": "bob"', b'"user": "eve"')
    _rewrite(path, lines)


def change_a_field_and_its_hash(folder: Path) -> None:
    """The same edit, with the line's own hash recomputed (the algorithm is public)."""
    path = folder / "audit.governance.jsonl.2"
    lines = _lines(path)
    record = json.loads(lines[1]) | {"user": "eve"}
    record["hash"] = link_hash(record, None)
    lines[1] = (json.dumps(record) + "\n").encode()
    _rewrite(path, lines)


def delete_a_line(folder: Path) -> None:
    path = folder / "audit.jsonl.2"
    lines = _lines(path)
    del lines[1]
    _rewrite(path, lines)


def delete_the_last_line(folder: Path) -> None:
    path = folder / "audit.governance.jsonl"
    _rewrite(path, _lines(path)[:-1])


def swap_two_lines(folder: Path) -> None:
    path = folder / "audit.jsonl.3"
    lines = _lines(path)
    lines[0], lines[1] = lines[1], lines[0]
    _rewrite(path, lines)


def truncate_a_rotated_file(folder: Path) -> None:
    path = folder / "audit.governance.jsonl.3"
    os.truncate(path, path.stat().st_size // 2)


def truncate_the_current_file(folder: Path) -> None:
    path = folder / "audit.jsonl"
    os.truncate(path, path.stat().st_size // 2)


def remove_a_middle_rotated_file(folder: Path) -> None:
    # The numbers must stay contiguous for the attack to look like a normal rotation.
    (folder / "audit.jsonl.2").unlink()
    for n in range(3, 60):
        if (folder / f"audit.jsonl.{n}").exists():
            os.replace(folder / f"audit.jsonl.{n}", folder / f"audit.jsonl.{n - 1}")


def remove_the_oldest_rotated_file(folder: Path) -> None:
    oldest = max(int(p.suffix[1:]) for p in folder.glob("audit.governance.jsonl.[0-9]*"))
    (folder / f"audit.governance.jsonl.{oldest}").unlink()


def remove_the_current_file(folder: Path) -> None:
    (folder / "audit.governance.jsonl").unlink()


def insert_a_forged_line(folder: Path) -> None:
    """A made-up upload, chained onto the line before it with a correct hash of its own."""
    path = folder / "audit.governance.jsonl.2"
    lines = _lines(path)
    before = json.loads(lines[0])
    forged = {k: v for k, v in before.items() if k != "hash"}
    forged |= {"source": "planted.md", "seq": before["seq"] + 1, "prev": before["hash"]}
    forged["hash"] = link_hash(forged, None)
    lines.insert(1, (json.dumps(forged) + "\n").encode())
    _rewrite(path, lines)


def append_a_forged_line(folder: Path) -> None:
    """A made-up event appended at the end, chained correctly (no key): caught by the head."""
    path = folder / "audit.governance.jsonl"
    last = json.loads(_lines(path)[-1])
    forged = {k: v for k, v in last.items() if k != "hash"}
    forged |= {"source": "planted.md", "seq": last["seq"] + 1, "prev": last["hash"]}
    forged["hash"] = link_hash(forged, None)
    with path.open("ab") as handle:
        handle.write((json.dumps(forged) + "\n").encode())


CATALOGUE = [
    (change_a_field, "audit.governance.jsonl.2", 2, "changed after it was written"),
    (change_a_field_and_its_hash, "audit.governance.jsonl.2", 3, "does not follow"),
    (delete_a_line, "audit.jsonl.2", 2, "does not follow"),
    (delete_the_last_line, "audit.governance.jsonl", None, "head records"),
    (swap_two_lines, "audit.jsonl.3", 1, "does not follow"),
    (truncate_a_rotated_file, "audit.governance.jsonl.2", 1, "does not follow"),
    (truncate_the_current_file, "audit.jsonl.1", None, "head records"),
    (remove_a_middle_rotated_file, "audit.jsonl.1", 1, "does not follow"),
    (remove_the_oldest_rotated_file, None, 1, "no checkpoint records the removal"),
    (remove_the_current_file, "audit.governance.jsonl.1", None, "head records"),
    (insert_a_forged_line, "audit.governance.jsonl.2", 3, "does not follow"),
    (append_a_forged_line, "audit.governance.jsonl", None, "past the last event its head"),
]


@pytest.mark.parametrize(
    ("attack", "file", "line", "problem"), CATALOGUE, ids=[a.__name__ for a, *_ in CATALOGUE]
)
def test_verify_catches_every_tampering_in_the_catalogue(
    written: Path,
    tmp_path: Path,
    attack: Callable[[Path], None],
    file: str | None,
    line: int | None,
    problem: str,
) -> None:
    log = _attacked(written, tmp_path, attack)
    broken = [r for r in log.verify() if not r.intact]
    assert len(broken) == 1, [r.to_dict() for r in log.verify()]
    (report,) = broken
    assert problem in report.problem
    if file is not None:
        assert Path(report.file).name == file
    if line is not None:
        assert report.line == line


def test_verify_passes_on_an_untouched_log_and_counts_every_event(written: Path) -> None:
    questions, governance = AuditLog(_settings(written)).verify()
    assert questions.intact and governance.intact
    assert (questions.events, governance.events) == (40, 30)
    assert not questions.keyed and questions.legacy == 0 and questions.unreadable == 0


# -- the key ------------------------------------------------------------------------------------
def _key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "audit.key"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(KEY)
    return path


def _rebuild_without_the_key(folder: Path) -> None:
    """Rewrite a changed stream's whole chain and head, as anyone who can write it could."""
    stream = AuditLog(_settings(folder)).governance
    prev, seq = "genesis", 0
    for path in stream.files():
        lines = []
        for raw in _lines(path):
            record = json.loads(raw)
            record["user"] = "eve"
            seq += 1
            record |= {"seq": seq, "prev": prev}
            record["hash"] = prev = link_hash(record, None)
            lines.append((json.dumps(record) + "\n").encode())
        _rewrite(path, lines)
    stream.head_path.write_text(json.dumps({"stream": "governance", "seq": seq, "hash": prev}))


def test_without_a_key_a_full_rebuild_passes_and_with_one_it_is_caught(tmp_path: Path) -> None:
    """What the key is for: the plain chain stops edits, not someone who redoes it all."""
    plain = tmp_path / "plain"
    _fill(AuditLog(_settings(plain)), questions=0, changes=20)
    _rebuild_without_the_key(plain)
    assert all(r.intact for r in AuditLog(_settings(plain)).verify())  # the documented limit

    keyed = tmp_path / "keyed"
    key_file = _key_file(tmp_path)
    log = AuditLog(_settings(keyed, hmac_key_file=key_file))
    _fill(log, questions=5, changes=20)
    assert all(r.intact and r.keyed for r in log.verify())
    assert all(json.loads(raw)["hash"].startswith("hmac-sha256:") for raw in _lines(log.path))
    _rebuild_without_the_key(keyed)
    _, governance = AuditLog(_settings(keyed, hmac_key_file=key_file)).verify()
    assert not governance.intact and "unkeyed event after keyed ones" not in governance.problem
    assert "changed after it was written" in governance.problem or "MAC" in governance.problem

    # Keyed lines cannot be checked without the key: verify says so and fails.
    questions, _ = AuditLog(_settings(keyed)).verify()
    assert not questions.intact and "audit.hmac_key_file" in questions.problem


def test_a_keyed_chain_continues_a_plain_one_and_a_downgrade_is_caught(tmp_path: Path) -> None:
    folder = tmp_path / "log"
    _fill(AuditLog(_settings(folder)), questions=3, changes=3)
    keyed = AuditLog(_settings(folder, hmac_key_file=_key_file(tmp_path)))
    _fill(keyed, questions=3, changes=3)
    assert all(r.intact for r in keyed.verify())

    # An unkeyed event appended after keyed ones is what a rebuild without the key leaves.
    AuditLog(_settings(folder)).corpus_change("eve", "remove", "doc-000.md", SHA, None)
    _, governance = keyed.verify()
    assert "unkeyed event after keyed ones" in governance.problem


@pytest.mark.parametrize("where", ["inside", "missing", "short"])
def test_a_key_file_that_cannot_serve_is_refused_with_the_fix(tmp_path: Path, where: str) -> None:
    folder = tmp_path / "data"
    key_file = {
        "inside": folder / "audit.key",
        "missing": tmp_path / "nowhere" / "audit.key",
        "short": tmp_path / "short.key",
    }[where]
    if where != "missing":
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_bytes(KEY if where == "inside" else b"too short")
    with pytest.raises(AuditConfigError, match="audit.hmac_key_file"):
        AuditLog(_settings(folder, hmac_key_file=key_file))


# -- retention ----------------------------------------------------------------------------------
class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now_value = now

    def now(self, tz: object = None) -> datetime:
        return self.now_value

    def __getattr__(self, name: str) -> object:
        return getattr(datetime, name)


def test_retention_removes_only_old_files_records_it_and_verify_still_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock(datetime(2025, 1, 1, tzinfo=UTC))
    monkeypatch.setattr(audit, "datetime", clock)
    monkeypatch.setattr(audit, "_now", lambda: clock.now_value.isoformat(timespec="milliseconds"))
    log = AuditLog(_settings(tmp_path / "log", max_bytes=1_500, retention_days=183))
    for n in range(20):  # 1 January onwards, an hour apart
        clock.now_value += timedelta(hours=1)
        log.corpus_change("bob", "upload", f"old-{n:02d}.md", None, SHA)
    old_files = len(log.governance.files())
    assert old_files >= 3

    clock.now_value = datetime(2025, 8, 1, tzinfo=UTC)  # seven months on
    for n in range(20):
        clock.now_value += timedelta(hours=1)
        log.corpus_change("bob", "upload", f"new-{n:02d}.md", None, SHA)

    events = log.read()
    sources = [e["source"] for e in events if e["event"] == "corpus"]
    assert all(f"new-{n:02d}.md" in sources for n in range(20))
    # Old events go with their file: only those sharing a file with new ones are left.
    old_kept = [s for s in sources if s.startswith("old-")]
    assert old_kept == [f"old-{n:02d}.md" for n in range(20 - len(old_kept), 20)]
    assert len(old_kept) < 4
    (checkpoint,) = [e for e in events if e["event"] == "checkpoint"]
    assert checkpoint["reason"] == "retention" and checkpoint["files_removed"] >= old_files - 1
    assert checkpoint["removed_through_time"].startswith("2025-01-01")
    assert all(r.intact for r in log.verify())

    # Events inside the retention period are never removed, however many files they fill.
    monkeypatch.setattr(audit_chain, "_size_estimate", lambda record: 10_000)
    kept_before = len(log.governance.files())
    log.corpus_change("bob", "upload", "one-more.md", None, SHA)
    assert len(log.governance.files()) == kept_before + 1


def test_legacy_lines_from_before_the_chain_are_read_counted_and_not_a_break(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "log"
    folder.mkdir()
    legacy = {"time": "2025-05-01T10:00:00.000+00:00", "event": "corpus", "user": "bob"}
    (folder / "audit.jsonl").write_text(json.dumps(legacy | {"action": "add"}) + "\n")
    log = AuditLog(_settings(folder))
    log.question("alice", _answer(1), latency_ms=5)
    questions, _ = log.verify()
    assert questions.intact and (questions.legacy, questions.events) == (1, 1)
    assert [e["event"] for e in log.read()] == ["corpus", "question"]


# -- a flood of questions -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "questions",
    [5_000, pytest.param(50_000, marks=pytest.mark.integration)],  # the figure: ~40 s
)
def test_a_flood_of_questions_keeps_every_governance_event_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, questions: int
) -> None:
    """Finding 5: 320 long anonymous questions rotated away every upload and remove event.

    fsync is durability, not what this test checks: skipped, so the appends stay quick.
    """
    monkeypatch.setattr(audit_chain.os, "fsync", lambda fd: None)
    log = AuditLog(_settings(tmp_path / "log", max_bytes=questions * 8, keep=3))
    long_question = Answer("Tell me about " + "proportionality " * 100, "-", True)
    every = questions // 25
    expected = []
    for n in range(questions):
        log.question(None, long_question, latency_ms=1)
        if n % every == 0:
            log.corpus_change("bob", "upload", f"doc-{n}.md", None, SHA)
            log.corpus_change("bob", "remove", f"doc-{n}.md", SHA, None)
            log.account_change("root", "add", f"officer-{n}", "officer")
            log.sign_in("alice", "failed", "10.0.0.1", "login")
            expected += [("upload", f"doc-{n}.md"), ("remove", f"doc-{n}.md")]

    events = log.read()
    corpus = [(e["action"], e["source"]) for e in events if e["event"] == "corpus"]
    assert corpus == expected and len(corpus) == 50
    assert sum(e["event"] == "account" for e in events) == 25
    assert sum(e["event"] == "sign_in" for e in events) == 25
    assert sum(e["event"] == "question" for e in events) < questions / 10  # they did rotate
    assert not log.path.with_name("audit.jsonl.4").exists()
    asked, governance = log.verify()
    assert asked.intact and governance.intact
    assert governance.events == 100 and asked.events < questions / 10


def test_the_plain_question_hash_is_not_in_the_chain_when_questions_are_not_stored(
    tmp_path: Path,
) -> None:
    log = AuditLog(_settings(tmp_path / "log", store_questions=False))
    log.question("alice", _answer(7), latency_ms=1)
    plain = hashlib.sha256(b"Question number 7?").hexdigest()
    assert plain not in log.path.read_text()
    assert all(r.intact for r in log.verify())
