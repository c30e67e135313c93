"""Password guessing, slowed down: per-account and per-address backoff.

Each account name and each client address gets `free` wrong passwords; every further one
doubles a wait (1 s, 2 s, 4 s ... up to `max_seconds`) during which a login for that name,
or from that address, is refused at once, without a bcrypt check. A flood from one address
then costs no CPU, so a real officer's login is not slowed by it, and guessing one account
from many addresses is slowed by the account's own wait. A right password clears both.

Memory is bounded: each table keeps at most `max_entries` keys, the least recently failed
going first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

FIRST_WAIT_SECONDS = 1.0
MAX_WAIT_SECONDS = 15 * 60.0
MAX_ENTRIES = 10_000


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    """Who may try a password now; see the module docstring."""

    def __init__(
        self,
        free: int = 5,
        max_seconds: float = MAX_WAIT_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free, self.max_seconds, self.max_entries = free, max_seconds, max_entries
        self._clock = clock
        self._tables: dict[str, OrderedDict[str, _Failures]] = {
            "account": OrderedDict(),
            "address": OrderedDict(),
        }
        self._lock = threading.Lock()

    def wait_seconds(self, account: str, address: str) -> float:
        """Seconds before this account, from this address, may try again (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [
                entry.locked_until - now
                for kind, key in (("account", account), ("address", address))
                if (entry := self._tables[kind].get(key)) is not None
            ]
        return max([0.0, *waits])

    def failed(self, account: str, address: str) -> float:
        """Count a wrong password; the wait it starts (0 while still within `free`)."""
        now, wait = self._clock(), 0.0
        with self._lock:
            for kind, key in (("account", account), ("address", address)):
                table = self._tables[kind]
                entry = table.pop(key, None) or _Failures()
                entry.count += 1
                beyond = entry.count - self.free
                if beyond > 0:
                    # min() before the power: the count may grow past any float exponent.
                    seconds = min(self.max_seconds, FIRST_WAIT_SECONDS * 2 ** min(beyond - 1, 64))
                    entry.locked_until = max(entry.locked_until, now + seconds)
                    wait = max(wait, seconds)
                table[key] = entry  # the most recent failure goes to the end
                while len(table) > self.max_entries:
                    table.popitem(last=False)
        return wait

    def succeeded(self, account: str, address: str) -> None:
        """A right password: that account and that address start afresh."""
        with self._lock:
            self._tables["account"].pop(account, None)
            self._tables["address"].pop(address, None)

    def entries(self) -> int:
        with self._lock:
            return sum(len(table) for table in self._tables.values())


def retry_after(seconds: float) -> str:
    """The Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
