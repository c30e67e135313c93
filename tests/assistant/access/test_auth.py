"""The users file (bcrypt hashes, 0600, atomic writes) and the exposure warning."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import bcrypt
import pytest

from assistant.access import auth
from assistant.access.auth import (
    ROLES,
    AuthError,
    User,
    UsersFileError,
    UserStore,
    exposure_warning,
    loopback,
)

FAST_ROUNDS = 4  # the minimum bcrypt cost: same code path, a fraction of the time


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(tmp_path / "auth" / "users.json", rounds=FAST_ROUNDS)


def _hashes(store: UserStore) -> dict[str, str]:
    data = json.loads(store.path.read_text())
    return {name: entry["password_hash"] for name, entry in data["users"].items()}


def test_a_missing_file_means_no_users(store: UserStore) -> None:
    assert not store.path.exists()
    assert store.users() == [] and store.has_users() is False
    assert store.verify("alice", "correct horse") is None


def test_add_verify_list_remove(store: UserStore) -> None:
    assert store.add("alice", "correct horse", "staff") == User("alice", "staff")
    assert store.add("bob.smith", "battery staple", "officer") == User("bob.smith", "officer")
    assert store.has_users()
    assert store.users() == [User("alice", "staff"), User("bob.smith", "officer")]

    alice = store.verify("alice", "correct horse")
    assert alice == User("alice", "staff") and alice.is_staff
    bob = store.verify("bob.smith", "battery staple")
    assert bob == User("bob.smith", "officer") and not bob.is_staff

    assert store.remove("bob.smith") is True
    assert store.remove("bob.smith") is False
    assert store.users() == [User("alice", "staff")]
    assert store.verify("bob.smith", "battery staple") is None
    assert ROLES == ("officer", "staff")


def test_a_wrong_password_or_an_unknown_user_is_refused(store: UserStore) -> None:
    store.add("alice", "correct horse", "staff")
    assert store.verify("alice", "wrong horse") is None
    assert store.verify("alice", "") is None
    assert store.verify("alice", "x" * 200) is None  # past bcrypt's 72 bytes: refused, no error
    assert store.verify("mallory", "correct horse") is None


def test_an_unknown_user_costs_a_bcrypt_check_too(
    store: UserStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add("alice", "correct horse", "staff")
    checked: list[bytes] = []
    real_checkpw = bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(auth.bcrypt, "checkpw", counting_checkpw)
    assert store.verify("mallory", "correct horse") is None
    assert len(checked) == 1
    assert checked[0].startswith(f"$2b${FAST_ROUNDS:02d}$".encode())  # same cost as real users


def test_hashes_are_bcrypt_salted_and_never_the_password(store: UserStore) -> None:
    store.add("alice", "same password", "staff")
    store.add("bob", "same password", "officer")
    text = store.path.read_text()
    assert "same password" not in text
    hashes = _hashes(store)
    assert all(h.startswith("$2b$") for h in hashes.values())
    assert hashes["alice"] != hashes["bob"]  # a salt each


def test_the_file_is_readable_by_its_owner_only(store: UserStore) -> None:
    store.add("alice", "correct horse", "staff")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    store.path.chmod(0o644)
    store.add("bob", "battery staple", "officer")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_writes_replace_the_file_in_one_step(
    store: UserStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add("alice", "correct horse", "staff")
    before = store.path.read_bytes()
    renames: list[tuple[str, str]] = []

    def failing_replace(source: str, target: os.PathLike) -> None:
        renames.append((str(source), str(target)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(auth.os, "replace", failing_replace)
    with pytest.raises(UsersFileError, match="cannot write the users file"):
        store.add("bob", "battery staple", "officer")
    # The write went to a temporary file beside the real one, which stays as it was.
    assert len(renames) == 1 and renames[0][1] == str(store.path)
    assert Path(renames[0][0]).parent == store.path.parent
    assert store.path.read_bytes() == before
    leftovers = {p.name for p in store.path.parent.iterdir()} - {"users.json", "users.json.lock"}
    assert leftovers == set()


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"format": 1}',
        '{"format": 1, "users": {"alice": {"role": "chief", "password_hash": "$2b$04$x"}}}',
        '{"format": 1, "users": {"alice": {"role": "staff", "password_hash": "hunter2hunter2"}}}',
    ],
)
def test_a_corrupt_file_is_an_error_that_names_it(store: UserStore, content: str) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(content)
    for call in (store.users, store.has_users, lambda: store.verify("alice", "correct horse")):
        with pytest.raises(UsersFileError) as caught:
            call()
        message = str(caught.value)
        assert str(store.path) in message and "restore it" in message and "\n" not in message
    assert issubclass(UsersFileError, AuthError) and issubclass(AuthError, ValueError)


@pytest.mark.parametrize(
    ("name", "password", "role", "problem"),
    [
        ("alice", "correct horse", "chief", "unknown role"),
        ("alice", "correct horse", "", "unknown role"),
        ("alice", "", "staff", "too short"),
        ("alice", "seven77", "staff", "too short"),
        ("alice", "x" * 73, "staff", "too long"),
        ("", "correct horse", "staff", "invalid user name"),
        ("al ice", "correct horse", "staff", "invalid user name"),
        ("alice/..", "correct horse", "staff", "invalid user name"),
        ("a" * 65, "correct horse", "staff", "invalid user name"),
    ],
)
def test_bad_input_is_refused_with_one_line(
    store: UserStore, name: str, password: str, role: str, problem: str
) -> None:
    with pytest.raises(AuthError, match=problem) as caught:
        store.add(name, password, role)
    assert not isinstance(caught.value, UsersFileError)
    assert "\n" not in str(caught.value)
    assert not store.path.exists()


def test_eight_characters_and_the_allowed_name_characters_are_accepted(store: UserStore) -> None:
    assert store.add("A.b_c-9", "12345678", "officer") == User("A.b_c-9", "officer")
    assert store.add("a" * 64, "12345678", "officer").name == "a" * 64


def test_an_existing_user_is_replaced_only_when_asked(store: UserStore) -> None:
    store.add("alice", "correct horse", "officer")
    with pytest.raises(AuthError, match="already exists"):
        store.add("alice", "new password", "staff")
    assert store.verify("alice", "correct horse") == User("alice", "officer")

    assert store.add("alice", "new password", "staff", replace=True) == User("alice", "staff")
    assert store.verify("alice", "correct horse") is None
    assert store.verify("alice", "new password") == User("alice", "staff")
    assert store.users() == [User("alice", "staff")]


def test_a_second_store_on_the_same_file_sees_changes_at_once(store: UserStore) -> None:
    other = UserStore(store.path, rounds=FAST_ROUNDS)
    store.add("alice", "correct horse", "staff")
    assert other.verify("alice", "correct horse") == User("alice", "staff")
    other.remove("alice")
    assert store.verify("alice", "correct horse") is None


# -- exposure -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1"]
)
def test_loopback_addresses(host: str) -> None:
    assert loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.1", "example.org"])
def test_addresses_others_can_reach(host: str) -> None:
    assert not loopback(host)


def test_the_exposure_warning_is_for_an_open_chat_on_the_network_only() -> None:
    warning = exposure_warning("0.0.0.0", require_login=False)
    assert warning is not None and "\n" not in warning
    assert warning.startswith("warning: serving on 0.0.0.0 without login")
    assert "TOOLKIT_ASSISTANT_AUTH__REQUIRE_LOGIN=true" in warning
    assert "toolkit-assistant user add" in warning
    assert exposure_warning("127.0.0.1", require_login=False) is None
    assert exposure_warning("localhost", require_login=False) is None
    assert exposure_warning("0.0.0.0", require_login=True) is None


def test_current_follows_the_file_as_it_changes(store: UserStore) -> None:
    """Finding 11: an account removed at the shell is gone at the app's next request."""
    store.add("alice", "correct horse", "staff")
    store.add("bob", "battery staple", "officer")
    assert store.current("bob") == User("bob", "officer")
    UserStore(store.path, rounds=FAST_ROUNDS).remove("bob")  # another process: the CLI
    assert store.current("bob") is None and store.current("alice") == User("alice", "staff")
    assert store.current(None) is None and store.current("") is None
