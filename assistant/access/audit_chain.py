"""The hash chain under the audit trail: append to, rotate, retain and verify one stream.

Each event carries `seq` (1, 2, ... within its stream), `prev` (the hash of the event before,
`genesis` for the first) and `hash`: SHA-256 of the event's canonical JSON (sorted keys,
no spaces, ASCII, without `hash` itself), or HMAC-SHA256 with the key in
`audit.hmac_key_file`, written `sha256:<hex>` or `hmac-sha256:<hex>`. So an edited field
no longer matches its hash, and a deleted, moved or inserted line no longer follows the line
before it. The chain runs on across rotated files.

The end of the chain is held in a small head file next to the log (`<log>.head`: the last
seq and hash, with a MAC when keyed), rewritten after each append: cutting lines off the end
then shows as a head that points past the log. Files removed by retention (age) or by the
`keep` bound are recorded in the chain itself: a `checkpoint` event names the last removed
seq and hash, and the log must start right after it.

Without a key, whoever can write the log can rebuild the whole chain and the head; the key,
kept outside the data folder, is what stops that (docs/security-threat-model.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from filelock import Timeout

GENESIS = "genesis"
LOCK_TIMEOUT_SECONDS = 10
MIN_KEY_BYTES = 32
CHAIN_KEYS = ("seq", "prev", "hash")
_TAIL_BLOCK = 65_536
_HEAD_BYTES = 512  # a stream name, a seq, a time, two hex digests: well under this
_LOCK_POLL_SECONDS = 0.005

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class AuditConfigError(ValueError):
    """The audit settings cannot be used; the message names the setting and the fix."""


def _thread_lock(path: Path) -> threading.Lock:
    """One lock per file, shared by every stream of this process that writes to it."""
    key = path.absolute()
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def canonical(record: dict) -> bytes:
    """The bytes an event's hash covers: everything but `hash`, in one fixed spelling."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def link_hash(record: dict, key: bytes | None) -> str:
    if key is None:
        return "sha256:" + hashlib.sha256(canonical(record)).hexdigest()
    return "hmac-sha256:" + hmac.new(key, canonical(record), hashlib.sha256).hexdigest()


def head_mac(stream: str, seq: int, link: str, key: bytes) -> str:
    return hmac.new(key, f"head\n{stream}\n{seq}\n{link}".encode(), hashlib.sha256).hexdigest()


def load_key(path: Path | None, data_folder: Path) -> bytes | None:
    """The chain key from `audit.hmac_key_file`, or None when unset."""
    if path is None:
        return None
    path = Path(path)
    if path.resolve().is_relative_to(data_folder.resolve()):
        raise AuditConfigError(
            f"audit.hmac_key_file {path} is inside the audit folder {data_folder}: whoever can "
            "write the log could read the key; keep it elsewhere (e.g. /etc/toolkit-assistant/)"
        )
    try:
        key = path.read_bytes().strip()
    except OSError as err:
        raise AuditConfigError(
            f"cannot read audit.hmac_key_file {path} ({err.strerror}); create it with "
            "`head -c 32 /dev/urandom | base64 > FILE` and make it readable by this user only"
        ) from None
    if len(key) < MIN_KEY_BYTES:
        raise AuditConfigError(
            f"audit.hmac_key_file {path} holds {len(key)} bytes; use {MIN_KEY_BYTES} or more, "
            "e.g. `head -c 32 /dev/urandom | base64 > FILE`"
        )
    return key


def parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        time = datetime.fromisoformat(value)
    except ValueError:
        return None
    return time if time.tzinfo else time.replace(tzinfo=UTC)


def parse_line(raw: bytes) -> dict | None:
    try:
        record = json.loads(raw.decode("utf-8"))
    except ValueError:  # also UnicodeDecodeError
        return None
    return record if isinstance(record, dict) else None


def is_chained(record: dict) -> bool:
    return any(k in record for k in CHAIN_KEYS)


@dataclass(frozen=True)
class Link:
    """Where the chain ends: the last event's seq and hash (seq 0 and genesis: empty)."""

    seq: int
    hash: str


START = Link(0, GENESIS)


@dataclass(frozen=True)
class Snapshot:
    """One stream as it stood at one moment: its files' bytes, oldest first, and its head."""

    files: list[tuple[Path, bytes]]
    head: dict | None


class Stream:
    """One chained, rotated JSONL file (`path`, `path.1` newest .. `path.N` oldest)."""

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        max_bytes: int,
        keep: int | None,
        retention_days: int,
        key: bytes | None,
    ) -> None:
        self.name = name
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep  # None: rotated files go by age only
        self.retention = timedelta(days=retention_days)
        self.key = key
        self.head_path = path.with_name(path.name + ".head")
        self._lock = _thread_lock(path)
        self.lock_path = path.with_name(path.name + ".lock")

    # -- reading ------------------------------------------------------------------------------
    def rotated(self, n: int) -> Path:
        return self.path.with_name(f"{self.path.name}.{n}")

    def rotated_numbers(self) -> list[int]:
        """The numbers of the rotated files, newest (1) first; contiguous from 1."""
        numbers = []
        while self.rotated(len(numbers) + 1).exists():
            numbers.append(len(numbers) + 1)
        return numbers

    def files(self) -> list[Path]:
        """The stream's files that exist, oldest first."""
        rotated = [self.rotated(n) for n in reversed(self.rotated_numbers())]
        return [p for p in [*rotated, self.path] if p.exists()]

    def snapshot(self) -> Snapshot:
        """Every file's bytes and the head, read under the lock so no rotation cuts across.

        A reader who may not create the lock file (an inspector with read-only access) reads
        without it: a rotation meanwhile can then show as a break, and a second run settles it.
        """
        if not self.path.parent.is_dir():
            return Snapshot([], None)
        try:
            with self._locked():
                return self._read_all()
        except (OSError, Timeout):
            return self._read_all()

    def _read_all(self) -> Snapshot:
        files = []
        for path in self.files():
            try:
                files.append((path, path.read_bytes()))
            except FileNotFoundError:
                continue
        return Snapshot(files, self._read_head())

    # -- writing ------------------------------------------------------------------------------
    def append(self, record: dict, now: datetime) -> dict:
        """Chain `record` onto the stream and write it; the record as written.

        Raises OSError or filelock.Timeout when the file cannot be written.
        """
        with self._locked():
            tail = self._tail()
            checkpoint = self._rotate_if_full(_size_estimate(record), now)
            if checkpoint is not None:
                tail = self._write(self._chain(checkpoint, tail))
            chained = self._chain(record, tail)
            self._write(chained)
            return chained

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """This process's thread lock, then the file lock other processes share.

        A plain `flock` on a lock file that is never removed, not filelock.FileLock: every
        answer appends an event, and filelock 4's acquire and release cost about 0.25 ms of
        CPU each time (the append itself costs less); `flock` costs some 20 us. Closing the
        descriptor releases the lock, also when the process dies.
        """
        with self._lock:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except FileNotFoundError:  # the folder is not there yet: a first event
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                _flock(fd, self.lock_path)
                yield
            finally:
                os.close(fd)

    def _chain(self, record: dict, tail: Link) -> dict:
        chained = {k: v for k, v in record.items() if k not in CHAIN_KEYS}
        chained["seq"] = tail.seq + 1
        chained["prev"] = tail.hash
        chained["hash"] = link_hash(chained, self.key)
        return chained

    def _write(self, record: dict) -> Link:
        try:
            text = json.dumps(record, ensure_ascii=False) + "\n"
            line = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (an undecodable file name): escape it
            line = (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with open(fd, "ab") as handle:
            handle.write(_line_start(fd) + line)
            handle.flush()
            os.fsync(handle.fileno())
        link = Link(record["seq"], record["hash"])
        self._write_head(link, record.get("time"))
        return link

    def _write_head(self, link: Link, time: object) -> None:
        head = {"stream": self.name, "seq": link.seq, "hash": link.hash, "time": time}
        if self.key is not None:
            head["mac"] = head_mac(self.name, link.seq, link.hash, self.key)
        # One fixed-size write over the old head, in place: a rename per event costs more
        # than the event itself on some file systems. Readers take the same lock.
        data = json.dumps(head).encode("ascii").ljust(_HEAD_BYTES - 1) + b"\n"
        fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, 0)
        finally:
            os.close(fd)

    def _read_head(self) -> dict | None:
        try:
            return parse_line(self.head_path.read_bytes())
        except FileNotFoundError:
            return None

    def _tail(self) -> Link:
        """Where the next event chains on: the last event written, or the head if that is
        further on (lines were cut off the end: the gap stays visible, not papered over)."""
        found = START
        last = last_chained(self.path)
        if last is None:  # a fresh file: the chain ends in the newest rotated one
            for n in self.rotated_numbers():
                last = last_chained(self.rotated(n))
                if last is not None:
                    break
        if last is not None:
            found = Link(last["seq"], last["hash"])
        head = self._read_head()
        if (
            head
            and isinstance(head.get("seq"), int)
            and isinstance(head.get("hash"), str)
            and head["seq"] > found.seq
        ):
            return Link(head["seq"], head["hash"])
        return found

    def _rotate_if_full(self, incoming: int, now: datetime) -> dict | None:
        """Rotate when the next line would not fit, then remove rotated files past `keep` or
        `retention_days`; the checkpoint event recording a removal, if there was one."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return None
        # An empty file is never rotated, so one event larger than max_bytes still lands.
        if size == 0 or size + incoming <= self.max_bytes:
            return None
        for n in reversed(self.rotated_numbers()):
            os.replace(self.rotated(n), self.rotated(n + 1))
        os.replace(self.path, self.rotated(1))
        return self._remove_expired(now)

    def _remove_expired(self, now: datetime) -> dict | None:
        cutoff = now - self.retention
        removed, reasons, through = 0, set(), None
        for n in reversed(self.rotated_numbers()):  # oldest first
            path = self.rotated(n)
            last = last_record(path)
            last_time = parse_time(last.get("time")) if last else None
            too_many = self.keep is not None and n > self.keep
            too_old = last_time is not None and last_time < cutoff
            if not (too_many or too_old):
                break
            chained = last_chained(path)
            if chained is not None:
                through = chained
            path.unlink()
            removed += 1
            reasons.add("keep" if too_many else "retention")
        if not removed:
            return None
        return {
            "time": now.isoformat(timespec="milliseconds"),
            "event": "checkpoint",
            "user": "system",
            "reason": " and ".join(sorted(reasons)),
            "files_removed": removed,
            "removed_through_seq": through["seq"] if through else None,
            "removed_through_hash": through["hash"] if through else None,
            "removed_through_time": through.get("time") if through else None,
        }


def _line_start(fd: int) -> bytes:
    """A newline first when a crashed write left a torn last line, so this one stays whole."""
    size = os.fstat(fd).st_size
    return b"" if size == 0 or os.pread(fd, 1, size - 1) == b"\n" else b"\n"


def _flock(fd: int, path: Path) -> None:
    """Take the exclusive lock on `fd`, waiting up to LOCK_TIMEOUT_SECONDS for its holder."""
    deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise Timeout(str(path)) from None
            time.sleep(_LOCK_POLL_SECONDS)


def _size_estimate(record: dict) -> int:
    # The chain fields add a seq, two prefixed hex digests and their keys.
    return len(json.dumps(record, ensure_ascii=False).encode("utf-8", "replace")) + 200


def last_record(path: Path) -> dict | None:
    """The last whole JSON object of a file, read from the end."""
    for record in _records_from_end(path):
        return record
    return None


def last_chained(path: Path) -> dict | None:
    """The last event of a file that carries valid-looking chain fields."""
    for record in _records_from_end(path):
        if isinstance(record.get("seq"), int) and isinstance(record.get("hash"), str):
            return record
        if not is_chained(record):
            return None  # older lines are from before the chain
    return None


def _records_from_end(path: Path):
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        end = handle.seek(0, os.SEEK_END)
        buffer = b""
        block = _TAIL_BLOCK // 16  # most events fit in the first, small, read
        while end > 0 or buffer:
            start = max(0, end - block)
            block = min(block * 2, _TAIL_BLOCK)
            handle.seek(start)
            buffer = handle.read(end - start) + buffer
            end = start
            lines = buffer.split(b"\n")
            # The first piece may be the end of a line that starts in an earlier block.
            buffer = lines[0] if end > 0 else b""
            for raw in reversed(lines[1:] if end > 0 else lines):
                if raw.strip():
                    record = parse_line(raw)
                    if record is not None:
                        yield record
            if end == 0:
                return
