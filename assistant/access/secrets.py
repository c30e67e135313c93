"""The per-install secret behind the keyed question hash.

A plain SHA-256 of a short question ("Is Smith a suspect?") is guessed by hashing likely
questions; an HMAC with a secret only this install holds is not. The secret is 32 random
bytes in `audit.secret_file`, created with mode 0600 on first use. Two processes may meet
it missing at once: each writes a whole file under a temporary name and links it into
place, so the loser reads the winner's secret and nobody ever reads a half-written one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from ingest.settings import AuditSettings, Settings

SECRET_BYTES = 32
DEFAULT_SECRET_NAME = "audit-secret.key"

_cache: dict[Path, bytes] = {}
_cache_guard = threading.Lock()


class SecretFileError(OSError):
    """The secret file exists but cannot be used; the message names it and what to do."""


def question_hash(text: str, settings: Settings | AuditSettings) -> str:
    """HMAC-SHA256 of the question's UTF-8 text with this install's secret, as hex."""
    key = install_secret(secret_path(settings))
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def secret_path(settings: Settings | AuditSettings) -> Path:
    """`audit.secret_file`, or `audit-secret.key` beside the audit file (the data folder)."""
    audit = settings.audit if isinstance(settings, Settings) else settings
    if audit.secret_file is not None:
        return Path(audit.secret_file)
    return Path(audit.file).with_name(DEFAULT_SECRET_NAME)


def install_secret(path: Path) -> bytes:
    """The secret in `path`, created on first use."""
    key = path.absolute()
    with _cache_guard:
        if key not in _cache:
            _cache[key] = _read_or_create(path)
        return _cache[key]


def _read_or_create(path: Path) -> bytes:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # Fails if another process got there first: theirs is used.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < SECRET_BYTES:
        raise SecretFileError(
            f"the audit secret {path} is not {SECRET_BYTES} bytes of hex; restore it from a "
            "backup (questions hashed with it can then still be matched) or remove it to start "
            "a new one"
        )
    return secret
