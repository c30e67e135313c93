"""Users, roles and passwords for the app, and the warning for an exposed, open chat.

Users live in one JSON file of bcrypt hashes (salted, never the password), managed by
`toolkit-assistant user add|remove|list`. The file is read on every call (`current`:
whenever it changed), so a user added or removed at the shell counts at once in a running
app. Writes go through a temporary file
and `os.replace`, under a file lock, so a reader never sees half a file and two writers
never lose each other's change.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import bcrypt
from filelock import FileLock

from ingest.durable import fsync_folder

ROLES = ("officer", "staff")
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; longer passwords are refused, not cut
BCRYPT_ROUNDS = 12  # about a quarter of a second per check on one core
FILE_FORMAT = 1
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_BCRYPT_HASH = re.compile(r"\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}")
_dummy_hashes: dict[int, bytes] = {}


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role == "staff"


class AuthError(ValueError):
    """One-line message naming the problem and what to do."""


class UsersFileError(AuthError):
    """The users file cannot be read or written (a failure, not a usage mistake)."""


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise AuthError(f"invalid user name {name!r}; use 1 to 64 letters, digits, '.', '_' or '-'")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; use one of: {', '.join(ROLES)}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthError(f"the password is too short; use at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AuthError(f"the password is too long; use at most {MAX_PASSWORD_BYTES} bytes")


class UserStore:
    """The users file: `{"format": 1, "users": {name: {"role", "password_hash"}}}`."""

    def __init__(self, path: Path, rounds: int | None = None) -> None:
        self.path = Path(path)
        # Resolved per store, not at import, so tests can lower the cost for speed.
        self.rounds = rounds if rounds is not None else BCRYPT_ROUNDS
        self._cached: tuple[tuple, dict[str, User]] | None = None
        self._cache_lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------
    def users(self) -> list[User]:
        """Every user, sorted by name."""
        return [User(name, entry["role"]) for name, entry in sorted(self._read().items())]

    def has_users(self) -> bool:
        return bool(self._read())

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is theirs, else None.

        An unknown name costs the same bcrypt check as a known one, against a dummy hash, so
        the time taken does not tell which user names exist.
        """
        entry = self._read().get(name)
        stored = entry["password_hash"].encode("ascii") if entry else self._dummy_hash()
        candidate = password.encode("utf-8")
        if len(candidate) > MAX_PASSWORD_BYTES:  # bcrypt 5 raises on these; none was accepted
            bcrypt.checkpw(b"", stored)
            return None
        matches = bcrypt.checkpw(candidate, stored)
        return User(name, entry["role"]) if matches and entry else None

    # -- writing ------------------------------------------------------------------------------
    def add(self, name: str, password: str, role: str, replace: bool = False) -> User:
        """Add a user, or with `replace` give an existing one a new password and role."""
        check_name(name)
        check_role(role)
        check_password(password)
        password_hash = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(self.rounds))
        with self._lock():
            users = self._read()
            if name in users and not replace:
                raise AuthError(
                    f"user {name!r} already exists; remove it first or add it with --replace"
                )
            users[name] = {"role": role, "password_hash": password_hash.decode("ascii")}
            self._write(users)
        return User(name, role)

    def remove(self, name: str) -> bool:
        """Remove a user; False when there was no such user."""
        with self._lock():
            users = self._read()
            if users.pop(name, None) is None:
                return False
            self._write(users)
        return True

    # -- the file -----------------------------------------------------------------------------
    def _lock(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(self.path.with_name(self.path.name + ".lock"))

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as err:
            raise UsersFileError(
                f"cannot read the users file {self.path} ({err.strerror}); check its permissions"
            ) from None
        try:
            data = json.loads(text)
            users = data["users"]
            valid = isinstance(users, dict) and all(
                _NAME.fullmatch(name)
                and entry.get("role") in ROLES
                and _BCRYPT_HASH.fullmatch(str(entry.get("password_hash", "")))
                for name, entry in users.items()
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            valid = False
        if not valid:
            raise UsersFileError(
                f"the users file {self.path} is corrupt; restore it from a backup, or move it "
                "away and add the users again with `toolkit-assistant user add`"
            )
        return users

    def _write(self, users: dict[str, dict[str, str]]) -> None:
        data = {"format": FILE_FORMAT, "users": dict(sorted(users.items()))}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        # mkstemp creates the file 0600 in the same folder, so os.replace is one atomic rename.
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise UsersFileError(
                f"cannot write the users file {self.path} ({err.strerror}); "
                "check the folder's permissions"
            ) from None
        fsync_folder(self.path.parent)

    def current(self, name: str | None) -> User | None:
        """The account `name` as the file says now; re-read only when the file changed.

        Cheap enough for every request: a `stat`, and a read only after a change, so an
        account removed at the shell loses access at its next request.
        """
        if not name:
            return None
        try:
            info = self.path.stat()
            version: tuple = (info.st_mtime_ns, info.st_size, info.st_ino)
        except FileNotFoundError:
            version = ()
        except OSError:
            return None  # unreadable: nobody is let in
        with self._cache_lock:
            if self._cached is None or self._cached[0] != version:
                try:
                    self._cached = (version, {u.name: u for u in self.users()})
                except UsersFileError:
                    return None
            return self._cached[1].get(name)

    def _dummy_hash(self) -> bytes:
        if self.rounds not in _dummy_hashes:
            _dummy_hashes[self.rounds] = bcrypt.hashpw(b"no such user", bcrypt.gensalt(self.rounds))
        return _dummy_hashes[self.rounds]


# -- exposure -----------------------------------------------------------------------------------
def loopback(host: str) -> bool:
    """True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost."""
    host = host.strip().strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # another host name may resolve to anything: assume it is reachable
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def exposure_warning(host: str, require_login: bool) -> str | None:
    """The warning to print when the chat is open to the network without a login, else None."""
    if require_login or loopback(host):
        return None
    return (
        f"warning: serving on {host or 'every interface'} without login: anyone who can reach "
        "this address can use the chat (the admin tab still needs a staff login); to require "
        "one, set TOOLKIT_ASSISTANT_AUTH__REQUIRE_LOGIN=true (auth.require_login) and add users "
        "with `toolkit-assistant user add`, or bind to 127.0.0.1"
    )
