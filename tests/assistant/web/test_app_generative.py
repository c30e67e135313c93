"""The app with generative answers: streaming, Stop, and an LLM endpoint that is down."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from app_calls import free_port
from app_server import serve_app

from assistant.access.audit import AuditLog
from assistant.compose import build_assistant
from assistant.llm.generate import UNREACHABLE_NOTICE
from assistant.web import render
from assistant.web.app import build_app
from ingest.settings import AuditSettings, GenerationSettings, Settings

pytestmark = pytest.mark.integration
QUESTION = "What are the five core principles?"


def _streaming_handler(app):
    return next(f.fn for f in app.fns.values() if f.name == "on_question_streaming")


@pytest.fixture(scope="module")
def down_app(sample_store: Path, tmp_path_factory: pytest.TempPathFactory):
    yield from serve_app(
        sample_store,
        tmp_path_factory.mktemp("app-llm-down"),
        TOOLKIT_ASSISTANT_GENERATION__ANSWERER="generative",
        TOOLKIT_ASSISTANT_GENERATION__BACKEND="openai",
        TOOLKIT_ASSISTANT_GENERATION__BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
        TOOLKIT_ASSISTANT_GENERATION__MODEL="any",
    )


def test_the_app_starts_and_answers_when_the_llm_endpoint_is_down(down_app) -> None:
    from gradio_client import Client

    answer = Client(down_app.url, verbose=False).predict(QUESTION, api_name="/ask")
    assert answer["notice"] == UNREACHABLE_NOTICE
    assert answer["answerer"] == "extractive" and answer["refused"] is False
    assert "[1]" in answer["answer"] and answer["citations"]
    assert "Traceback" not in down_app.log.read_text()


@pytest.fixture(scope="module")
def generative_app(sample_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    """The app's Blocks with generative answers, its handlers called in-process."""
    settings = sample_settings.model_copy(
        update={"generation": GenerationSettings(answerer="generative")}
    )
    audit = AuditLog(AuditSettings(file=tmp_path_factory.mktemp("audit") / "audit.jsonl"))
    return build_app(build_assistant(settings), settings, audit=audit)


@pytest.mark.llm
def test_the_chat_shows_sources_then_the_draft_then_the_checked_answer(generative_app) -> None:
    app = generative_app
    officer = SimpleNamespace(session_hash="s")
    updates = list(_streaming_handler(app)(QUESTION, [], None, None, officer))
    # First the question, with the Stop button shown; it is hidden again at the end.
    _, chat, _, _, stop = updates.pop(0)
    assert chat[-1]["role"] == "user" and stop["visible"] is True
    box, chat, sources, _, _ = updates[0]
    assert box == "" and "Retrieved passages" in sources
    assert "ta-draft" in chat[-1]["content"] and chat[0]["role"] == "user"
    assert any(render.DRAFT_NOTE in u[1][-1]["content"] for u in updates[1:-1])
    box, chat, sources, session, stop = updates[-1]
    assert stop["visible"] is False
    final = session["last"]
    assert chat[-1]["content"] == render.answer_html(final)
    assert sources == render.sources_html(final)
    assert session["history"] == [QUESTION]


@pytest.mark.llm
def test_stop_ends_the_answer_at_its_next_step_and_shows_no_draft(generative_app) -> None:
    app = generative_app
    on_stop = next(f.fn for f in app.fns.values() if f.name == "on_stop")
    officer = SimpleNamespace(session_hash="s1")
    updates = _streaming_handler(app)(QUESTION, [], None, None, officer)
    next(updates)  # the question, Stop shown
    _, chat, _, _, _ = next(updates)  # the sources are in; the draft bubble is open
    assert "ta-draft" in chat[-1]["content"]
    stopped = on_stop(chat, officer)
    assert render.STOPPED_NOTE in stopped[-1]["content"] and "ta-draft" not in str(stopped)
    rest = list(updates)  # the handler ends at its next step, with the same message
    assert len(rest) == 1 and render.STOPPED_NOTE in rest[0][1][-1]["content"]
    assert rest[0][4]["visible"] is False  # Stop hidden once stopped
    # A finished answer is not touched by Stop.
    finished = [{"role": "assistant", "content": "<div class='ta-answer'>done</div>"}]
    assert on_stop(finished, officer) == finished
