"""The web tests' apps: one corpus ingested per module, then an open app and a login app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from running_app import RunningApp, start_app
from store_helpers import policy_note

from ingest.refresh import refresh
from ingest.settings import Settings


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("admin-app")
    (root / "corpus").mkdir()
    for number in (1, 2):
        (root / "corpus" / f"note-{number}.md").write_text(policy_note(number), encoding="utf-8")
    assert refresh([root / "corpus"], Settings(store=root / "store", corpus=root / "corpus")).added
    return root


@pytest.fixture(scope="module")
def open_app(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """No login for the chat: the admin tab has its own staff sign-in."""
    yield from start_app(ingested, tmp_path_factory.mktemp("open-app"), require_login=False)


@pytest.fixture(scope="module")
def login_app(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """`auth.require_login`: every page and API call needs an account."""
    yield from start_app(ingested, tmp_path_factory.mktemp("login-app"), require_login=True)
