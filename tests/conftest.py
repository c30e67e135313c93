"""Shared fixtures. No test touches a real store: the autouse fixture points the default
store, feedback file, users file, audit trail and config at a temporary folder (see
simonw/llm's tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from paths import CORPUS, NIST_PDF, REPO

import ingest  # noqa: F401  (offline, no-telemetry environment before anything else)
from ingest.settings import Settings, load_settings

VECTOR_CACHE = "TOOLKIT_ASSISTANT_INGEST__VECTOR_CACHE"


@pytest.fixture(scope="session", autouse=True)
def shared_vector_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One vector cache for the session (ingest/vector_cache.py): the sample corpus and
    NIST, built into a dozen stores, are encoded once. `make test` names a file the eval
    gates then share; run alone, pytest uses a temporary one. Tests whose timing or model
    loading matters (kill -9 moments) turn it off with `without_vector_cache`."""
    os.environ.setdefault(VECTOR_CACHE, str(tmp_path_factory.mktemp("cache") / "vectors.sqlite"))
    # Apps started by tests do not embed every sentence for e5 after a French question
    # (~75 s of a core beside the suite); tests/assistant/web/test_app_concurrency.py and
    # tests/assistant/qa/test_multilingual_service.py cover it.
    os.environ.setdefault("TOOLKIT_ASSISTANT_APP__PRE_EMBED_MULTILINGUAL", "false")
    return os.environ[VECTOR_CACHE]


@pytest.fixture(scope="module")
def without_vector_cache():
    """Every ingest of the module encodes, as on a machine without the cache."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv(VECTOR_CACHE, raising=False)
        yield


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("TOOLKIT_ASSISTANT_STORE", str(state / "store"))
    monkeypatch.setenv("TOOLKIT_ASSISTANT_APP__FEEDBACK_FILE", str(state / "feedback.jsonl"))
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUTH__USERS_FILE", str(state / "users.json"))
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUDIT__FILE", str(state / "audit.jsonl"))
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUTH__SECRET_FILE", str(state / "install-secret"))
    monkeypatch.setenv(
        "TOOLKIT_ASSISTANT_APP__CONVERSATIONS_FILE", str(state / "conversations.sqlite3")
    )
    monkeypatch.setenv("TOOLKIT_ASSISTANT_CONFIG", str(state / "no-config.toml"))
    monkeypatch.delenv("TOOLKIT_ASSISTANT_CHROMA_URL", raising=False)
    return state


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real sample corpus ingested once per session with the real model and Chroma."""
    from ingest.refresh import refresh

    store = tmp_path_factory.mktemp("sample-store")
    report = refresh([CORPUS], Settings(store=store, corpus=CORPUS))
    assert not report.failed, report.failed
    return store


@pytest.fixture(scope="session")
def nist_ingest(tmp_path_factory: pytest.TempPathFactory):
    """NIST AI 100-1 (48 real pages) ingested once per session, from a folder of its own:
    the ingest tests and the answer tests read the same store (some 40 s of CPU each)."""
    if not NIST_PDF.is_file():
        pytest.skip(f"{NIST_PDF} is absent")
    import shutil

    from ingest.refresh import refresh

    root = tmp_path_factory.mktemp("nist")
    folder = root / "docs"
    folder.mkdir()
    shutil.copy2(NIST_PDF, folder / NIST_PDF.name)
    with pytest.MonkeyPatch.context() as env:  # the autouse isolation is function-scoped
        env.setenv("TOOLKIT_ASSISTANT_CONFIG", str(root / "no-config.toml"))
        settings = Settings(store=root / "store", corpus=folder)
        report = refresh([folder], settings)
    assert not report.failed, report.failed
    return report, settings


@pytest.fixture(scope="session")
def sample_settings(sample_store: Path) -> Settings:
    return Settings(store=sample_store, corpus=CORPUS)


@pytest.fixture(scope="session")
def sample_assistant(sample_settings: Settings):
    from assistant.qa.service import Assistant

    return Assistant(sample_settings)


@pytest.fixture(scope="session")
def sample_answers(sample_assistant) -> dict:
    """Every question of the sample set, asked once per session as the eval runner asks it
    (its id -> Answer): several modules check these same 135 answers."""
    from evals.sets_io import read_eval_set

    questions = read_eval_set(REPO / "evals" / "sets" / "sample.jsonl").questions
    return {q.id: sample_assistant.ask(q.question, history=list(q.history)) for q in questions}


def settings_for(store: Path, **overrides: object) -> Settings:
    return load_settings(store=store, **overrides)
