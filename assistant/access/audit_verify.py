"""`audit verify`: walk each stream's chain and report the first link that does not hold."""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.access.audit_chain import (
    GENESIS,
    Snapshot,
    Stream,
    head_mac,
    is_chained,
    link_hash,
    parse_line,
)


@dataclass
class StreamReport:
    """What `verify` found in one stream; `problem` is None when the chain holds."""

    stream: str
    files: int = 0
    events: int = 0  # chained events checked
    legacy: int = 0  # events written before the chain existed: readable, not covered
    unreadable: int = 0  # torn lines left by a crash: skipped, the chain runs past them
    keyed: bool = False
    problem: str | None = None
    file: str | None = None
    line: int | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict:
        return asdict(self) | {"intact": self.intact}


@dataclass
class _Event:
    record: dict
    path: Path
    line: int


def verify_stream(stream: Stream) -> StreamReport:
    return verify_snapshot(stream.name, stream.snapshot(), stream.key, stream.path)


def verify_snapshot(name: str, snapshot: Snapshot, key: bytes | None, path: Path) -> StreamReport:
    report = StreamReport(name, files=len(snapshot.files), keyed=key is not None)
    first: _Event | None = None
    last: _Event | None = None
    checkpoint: dict | None = None  # the newest one naming a removed seq
    hashes: dict[int, str] = {}
    problem: tuple[str, Path, int] | None = None
    line_count = 0
    for event in _events(snapshot, report):
        record, line_count = event.record, event.line
        if problem is not None:  # only checkpoints still matter: they tell where the log starts
            if _names_removal(record):
                checkpoint = record
            continue
        if not is_chained(record):
            if last is None:
                report.legacy += 1
                continue
            problem = ("an event without chain fields among chained ones", event.path, event.line)
            continue
        broken = _check_event(record, key, last)
        if broken is not None:
            problem = (broken, event.path, event.line)
            continue
        report.events += 1
        first = first or event
        last = event
        hashes[record["seq"]] = record["hash"]
        if _names_removal(record):
            checkpoint = record
    start = _check_start(first, checkpoint)
    if start is not None:
        return _broken(report, start, first.path, first.line)
    if problem is not None:
        return _broken(report, *problem)
    end = _check_head(name, snapshot.head, key, last, hashes)
    if end is not None:
        where = last.path if last else path
        return _broken(report, end, where, line_count if last else 0)
    return report


def _events(snapshot: Snapshot, report: StreamReport):
    for path, data in snapshot.files:
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            record = parse_line(raw)
            if record is None:
                report.unreadable += 1
                continue
            yield _Event(record, path, number)


def _check_event(record: dict, key: bytes | None, last: _Event | None) -> str | None:
    seq, prev, link = record.get("seq"), record.get("prev"), record.get("hash")
    if not (isinstance(seq, int) and isinstance(prev, str) and isinstance(link, str)):
        return "the chain fields (seq, prev, hash) are missing or malformed"
    algorithm = link.split(":", 1)[0]
    if algorithm == "hmac-sha256":
        if key is None:
            return (
                "the events are keyed (hmac-sha256): set audit.hmac_key_file to the key they "
                "were written with to verify them"
            )
    elif algorithm == "sha256":
        if last is not None and str(last.record.get("hash", "")).startswith("hmac-sha256:"):
            return "an unkeyed event after keyed ones: the chain was rebuilt without the key"
    else:
        return f"unknown hash algorithm {algorithm!r}"
    expected = link_hash(record, key if algorithm == "hmac-sha256" else None)
    if not hmac.compare_digest(expected, link):
        return "the event was changed after it was written (its hash does not match its contents)"
    if last is not None:
        want = last.record["seq"] + 1
        if seq != want or prev != last.record["hash"]:
            return (
                f"it does not follow {last.path.name} line {last.line} (expected seq {want}, "
                f"found {seq}): an event was deleted, moved or inserted"
            )
    return None


def _names_removal(record: dict) -> bool:
    return record.get("event") == "checkpoint" and isinstance(
        record.get("removed_through_seq"), int
    )


def _check_start(first: _Event | None, checkpoint: dict | None) -> str | None:
    """The oldest event must be the first ever, or come right after the last removal."""
    if first is None:
        return None
    seq, prev = first.record["seq"], first.record["prev"]
    if checkpoint is None:
        if seq == 1 and prev == GENESIS:
            return None
        return (
            f"the log starts at seq {seq}, but no checkpoint records the removal of the events "
            "before it: a file was removed, or lines cut from its start"
        )
    through = checkpoint["removed_through_seq"]
    if seq == through + 1 and prev == checkpoint.get("removed_through_hash"):
        return None
    return (
        f"the log starts at seq {seq}, but the last checkpoint records removal up to seq "
        f"{through}: a file was removed, restored or cut"
    )


def _check_head(
    name: str, head: dict | None, key: bytes | None, last: _Event | None, hashes: dict[int, str]
) -> str | None:
    """The head records the last event written: the log must reach it, and match it."""
    if head is None:
        if last is None:
            return None
        return "the head file is missing, so events cut from the end cannot be ruled out"
    seq, link = head.get("seq"), head.get("hash")
    if not (isinstance(seq, int) and isinstance(link, str)):
        return "the head file is malformed"
    if key is not None:
        mac = head.get("mac")
        if not (isinstance(mac, str) and hmac.compare_digest(mac, head_mac(name, seq, link, key))):
            return "the head file's MAC does not match: it was written without the key"
    last_seq = last.record["seq"] if last else 0
    if seq > last_seq:
        return (
            f"the log ends at seq {last_seq}, but the head records seq {seq}: events were cut "
            "from the end, or the newest file removed"
        )
    if seq > 0 and hashes.get(seq) != link:
        return f"event seq {seq} does not match the hash the head records for it"
    if seq < last_seq:
        # The head is rewritten right after each line: only a crash in between leaves it
        # behind, and the next event then puts it right.
        return (
            f"the log goes on to seq {last_seq} past the last event its head records (seq "
            f"{seq}): events appended by something other than the assistant (or a crash "
            "between the two writes, which the next event repairs)"
        )
    return None


def _broken(report: StreamReport, problem: str, path: Path, line: int) -> StreamReport:
    report.problem, report.file, report.line = problem, str(path), line
    return report
