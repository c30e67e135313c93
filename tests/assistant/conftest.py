"""The real app, started once per session by `toolkit-assistant serve` as officers start it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import CORPUS, REPO, AppServer, serve_app  # noqa: F401  (used below)


@pytest.fixture(scope="session")
def app_server(sample_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    yield from serve_app(sample_store, tmp_path_factory.mktemp("app"))
