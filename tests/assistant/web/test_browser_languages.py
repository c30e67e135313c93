"""The app in Arabic and French, in headless Chromium: right to left, citations, selector."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import ANSWER_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS, open_page

from ingest.multilingual import unavailable_reason

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason())),
]
SCREENSHOT_COPY = Path(__file__).resolve().parents[3] / "test-output" / "browser-answer-ar.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent; install it: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_server):
    yield from open_page(browser, app_server.url)


def test_an_arabic_question_is_answered_right_to_left_with_citations(page, tmp_path: Path) -> None:
    box = page.get_by_label("Your question")
    box.fill("ما المبادئ الأساسية الخمسة للابتكار المسؤول في مجال الذكاء الاصطناعي؟")
    box.press("Enter")
    answer = page.locator(".ta-answer").last
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert answer.get_attribute("dir") == "rtl"
    assert answer.get_attribute("lang") == "ar"
    assert answer.locator(".ta-cite", has_text="[1]").count() >= 1
    # The quotes are English and said to be: the line is in Arabic.
    assert "الإنجليزية" in answer.locator(".ta-notice").first.inner_text()
    sources = page.locator("#sources .ta-sources")
    assert sources.get_attribute("dir") == "rtl"
    assert "المصادر" in sources.inner_text()
    # Links and labels around the quotes are Arabic too.
    assert "فتح ملف PDF في الصفحة" in sources.inner_text()
    assert "Open PDF" not in answer.inner_text() and "More from" not in answer.inner_text()
    assert sources.locator("mark").count() >= 1
    # The whole chat follows the question's language (the selector is on Auto): the page is
    # laid out right to left, and its own words are Arabic, the banner included.
    page.wait_for_function("document.documentElement.dir === 'rtl'", timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("html").get_attribute("lang") == "ar"
    page.get_by_label("سؤالك").wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.get_by_role("button", name="اسأل").count() == 1
    assert page.get_by_role("button", name="محادثة جديدة").count() == 1
    assert "استشارة قانونية" in page.locator(".ta-banner").inner_text()
    assert "Your question" not in page.locator("body").inner_text()
    shot = tmp_path / "answer-ar.png"
    page.screenshot(path=str(shot), full_page=True)
    SCREENSHOT_COPY.parent.mkdir(exist_ok=True)
    shutil.copy(shot, SCREENSHOT_COPY)
    assert page.outside_requests == []


def test_the_language_selector_relabels_the_chat_for_the_session(page) -> None:
    page.get_by_label("Language").click()
    page.get_by_role("option", name="Français").click()
    box = page.get_by_label("Votre question")
    box.wait_for(timeout=10_000)
    box.fill("What is the capital of Australia?")
    box.press("Enter")
    answer = page.locator(".ta-answer").last
    answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert "Le corpus ne traite pas de cette question." in answer.inner_text()
    assert answer.get_attribute("lang") == "fr"
    # Chosen, French holds for the session: an English question leaves the chat French,
    # left to right, and a new chat keeps it.
    assert "Corpus d'exemple" in page.locator(".ta-banner").inner_text()
    assert page.locator("html").get_attribute("dir") != "rtl"
    page.get_by_role("button", name="Nouvelle conversation").click()
    # The new chat is empty before the next question: asked while the old one was still
    # being cleared, its answer could be cleared with it (seen once under load).
    page.locator(".ta-answer").first.wait_for(state="detached", timeout=ANSWER_TIMEOUT_MS)
    box.fill("What is the capital of Australia?")
    box.press("Enter")
    page.get_by_text("Le corpus ne traite pas de cette question.").first.wait_for(
        timeout=ANSWER_TIMEOUT_MS
    )
