"""The per-install secret and the keyed question hash."""

from __future__ import annotations

import hashlib
import hmac
import stat
import threading
from pathlib import Path

import pytest

from assistant.access import secrets as install
from assistant.access.secrets import SecretFileError, install_secret, question_hash
from ingest.settings import Settings


@pytest.fixture(autouse=True)
def _fresh_cache():
    install._cache.clear()
    yield
    install._cache.clear()


def _settings(path: Path) -> Settings:
    return Settings(auth={"secret_file": path})


def test_the_secret_is_made_once_0600_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "install-secret"
    first = question_hash("who is on shift?", _settings(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = bytes.fromhex(path.read_text().strip())
    assert len(key) == install.SECRET_BYTES
    assert first == hmac.new(key, b"who is on shift?", hashlib.sha256).hexdigest()
    install._cache.clear()  # a new process reads the same key
    assert question_hash("who is on shift?", _settings(path)) == first
    assert question_hash("who is on shift!", _settings(path)) != first


def test_threads_starting_at_once_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "install-secret"
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        keys.append(install._read_or_create(path))

    threads = [threading.Thread(target=make) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_damaged_secret_is_refused_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "install-secret"
    path.write_text("not hex\n")
    with pytest.raises(SecretFileError, match="damaged; restore it from a backup"):
        install_secret(path)
    assert path.read_text() == "not hex\n"
