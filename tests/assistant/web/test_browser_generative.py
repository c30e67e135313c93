"""Generative answers in headless Chromium: sources first, the draft, the checked answer, Stop.

The app runs the real local model (SmolLM2-135M in llama.cpp). Stop is pressed while the
model writes; the answer's length limit is raised so that it is still writing then.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_server import AppServer, serve_app
from test_browser import browser, open_page  # noqa: F401  (the shared Chromium fixture)

from assistant.web.render import DRAFT_LABEL, DRAFT_NOTE, MODEL_LABEL, STOPPED_NOTE

pytestmark = [pytest.mark.browser, pytest.mark.llm]
ANSWER_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def generative_server(
    sample_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppServer]:
    yield from serve_app(
        sample_store,
        tmp_path_factory.mktemp("app-generative"),
        TOOLKIT_ASSISTANT_GENERATION__ANSWERER="generative",
        TOOLKIT_ASSISTANT_GENERATION__MAX_TOKENS="1024",
    )


@pytest.fixture
def page(browser, generative_server):  # noqa: F811
    yield from open_page(browser, generative_server.url)


def _ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def test_sources_then_the_unchecked_draft_then_the_checked_answer(page) -> None:
    _ask(page, "What are the seven resources of the AI Toolkit?")
    page.locator(".ta-draft").wait_for(timeout=ANSWER_TIMEOUT_MS)
    # While the model writes: its text flagged as unchecked, the sources already listed.
    assert DRAFT_NOTE in page.locator(".ta-draft").inner_text()
    assert "Retrieved passages" in page.locator("#sources").inner_text()
    page.locator(".ta-answer:not(.ta-draft)").wait_for(timeout=ANSWER_TIMEOUT_MS)
    answer = page.locator(".ta-answer").last
    assert answer.locator(".ta-cite", has_text="[1]").count() >= 1
    assert DRAFT_NOTE not in answer.inner_text()
    assert page.locator("#sources mark").count() >= 1  # the checked answer's quotes
    if "ta-model-label" in answer.inner_html():  # the model's text, not the quoted fallback
        assert MODEL_LABEL in answer.inner_text()
    page.get_by_role("button", name="Stop").wait_for(state="hidden")  # idle again


def test_stop_shows_only_while_writing_and_removes_the_unchecked_draft(page) -> None:
    stop = page.get_by_role("button", name="Stop")
    assert not stop.is_visible()  # idle: no Stop
    _ask(page, "What does proportionality mean in the principles for responsible AI innovation?")
    page.locator(".ta-draft").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert DRAFT_LABEL in page.locator(".ta-draft").inner_text()  # labelled as the model's
    stop.click()
    page.get_by_text(STOPPED_NOTE).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator(".ta-draft").count() == 0
    stop.wait_for(state="hidden", timeout=ANSWER_TIMEOUT_MS)
    # The app still answers after a stop.
    _ask(page, "Which five domains does the readiness self-assessment cover?")
    page.locator(".ta-answer:not(.ta-draft)").wait_for(timeout=ANSWER_TIMEOUT_MS)
