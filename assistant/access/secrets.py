"""The per-install secret, and the keyed question hash made with it.

A plain SHA-256 of a short question can be reversed by hashing guesses ("who is suspect
X?"). HMAC-SHA256 under a secret that only this install holds cannot: whoever reads the
audit trail or the feedback file, without the key file, learns only whether two questions
were the same. The key is made on first use (32 random bytes, hex, mode 0600) in the data
folder, or read from `auth.secret_file`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
import threading
from pathlib import Path

from ingest.settings import AuditSettings, Settings

SECRET_BYTES = 32
_cache: dict[Path, bytes] = {}
_cache_lock = threading.Lock()


class SecretFileError(OSError):
    """The secret file cannot be read or made; the message names it and what to do."""


def install_secret(path: Path) -> bytes:
    """The key in `path`, made there (0600, never overwritten) when it does not exist yet."""
    key = Path(path).absolute()
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _read_or_create(key)
        return _cache[key]


def question_hash(text: str, settings: Settings | AuditSettings) -> str:
    """HMAC-SHA256 of the question under the install's secret, as hex.

    The audit log holds only its own settings: it keys with `audit.secret_file`, or
    `audit-secret.key` beside the audit file; everything else with `auth.secret_file`.
    """
    secret = install_secret(secret_path(settings))
    return hmac.new(secret, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def secret_path(settings: Settings | AuditSettings) -> Path:
    if isinstance(settings, Settings):
        return Path(settings.auth.secret_file)
    if settings.secret_file is not None:
        return Path(settings.secret_file)
    return Path(settings.file).with_name("audit-secret.key")


def _read_or_create(path: Path) -> bytes:
    if path.exists():
        return _read(path)
    # Written whole to a temporary file, then linked into place: `os.link` fails when the
    # name exists, so two processes starting at once share one key, and neither ever reads
    # a half-written one.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as err:
        raise SecretFileError(
            f"cannot create the secret file {path} ({err.strerror}); check the folder's "
            "permissions or set auth.secret_file"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as err:
        raise SecretFileError(f"cannot write the secret file {path} ({err.strerror})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, ValueError, UnicodeDecodeError):
        key = b""
    if len(key) < 16:
        # A new key would silently stop old hashes matching new ones: never made here.
        raise SecretFileError(
            f"the secret file {path} is unreadable or damaged; restore it from a backup, or "
            "remove it to start a new key (older question hashes then no longer match)"
        )
    return key
