"""Server-side sessions with an idle timeout: token -> user name, bounded in number.

Used for the staff sign-in (the token is a random value in an HttpOnly cookie the server
sets, never a value the client picks) and for the app login's tokens, whose idle time the
app checks on every request. A session unused for `idle_seconds` is gone; so are the
sessions of an account that `drop_user` names.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

MAX_SESSIONS = 10_000


@dataclass
class _Session:
    user: str
    last_seen: float


class SessionTable:
    """See the module docstring; safe to share between threads."""

    def __init__(
        self,
        idle_seconds: float,
        max_sessions: int = MAX_SESSIONS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds, self.max_sessions = idle_seconds, max_sessions
        self._clock = clock
        self._sessions: OrderedDict[str, _Session] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def create(self, user: str) -> str:
        """A new session for `user`; its token."""
        token = secrets.token_urlsafe(32)
        self.adopt(token, user)
        return token

    def adopt(self, token: str, user: str) -> None:
        """Track a token made elsewhere (the login's) from now on."""
        with self._lock:
            self._sessions[token] = _Session(user, self._clock())
            self._sessions.move_to_end(token)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)  # the longest unused goes first

    def user(self, token: str | None) -> str | None:
        """The session's user, counting this as use; None when unknown or idle too long."""
        if not token:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds:
                del self._sessions[token]
                return None
            session.last_seen = now
            self._sessions.move_to_end(token)
            return session.user

    def known(self, token: str) -> bool:
        with self._lock:
            return token in self._sessions

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def drop_user(self, user: str) -> None:
        """End every session of `user` (removed, or signed out)."""
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.user == user]:
                del self._sessions[token]

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
