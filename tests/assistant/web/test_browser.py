"""The app in headless Chromium, driven as an officer would: keyboard, citations, PDF link."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.web.render import EMPTY_QUESTION_HINT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_COPY = Path(__file__).resolve().parents[3] / "test-output" / "browser-answer.png"
ANSWER_TIMEOUT_MS = 120_000  # the wait ends at the answer; the bound holds under CPU hogs


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent; install it: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str) -> Iterator[object]:
    """A page of the app in a fresh context, noting requests beyond it and dialogs."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.outside_requests = []  # the page must fetch nothing beyond the app itself
    page.on(
        "request", lambda r: None if r.url.startswith(url) else page.outside_requests.append(r.url)
    )
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    yield page
    context.close()


@pytest.fixture
def page(browser, app_server):
    yield from open_page(browser, app_server.url)


def _ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.locator(".ta-answer, .ta-error").last.wait_for(timeout=ANSWER_TIMEOUT_MS)


def test_answer_with_citations_sources_and_pdf(page, app_server, tmp_path: Path) -> None:
    assert "Sample corpus" in page.locator(".ta-banner").inner_text()
    assert "not legal advice" in page.locator(".ta-banner").inner_text()
    _ask(page, "What are the five core principles?")

    answer = page.locator(".ta-answer").last
    assert "lawfulness" in answer.inner_text()
    assert answer.locator(".ta-cite", has_text="[1]").count() >= 1
    sources = page.locator("#sources")
    assert "Principles for Responsible AI Innovation" in sources.inner_text()
    assert sources.locator("mark").count() >= 1
    assert "five core principles" in sources.locator("mark").first.inner_text()

    link = sources.locator("a.ta-open").first
    href = link.get_attribute("href")
    assert href.startswith("view/02-principles.pdf?page=1&quote=")  # the app's own viewer
    response = page.request.get(app_server.url + "corpus/02-principles.pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    with page.expect_popup() as popup:
        link.click()
    assert popup.value.url == app_server.url + href

    shot = tmp_path / "browser-answer.png"
    page.screenshot(path=str(shot), full_page=True)
    SCREENSHOT_COPY.parent.mkdir(exist_ok=True)
    shutil.copy(shot, SCREENSHOT_COPY)
    assert page.outside_requests == []


def test_markup_in_a_question_shows_as_text(page) -> None:
    question = "<img src=x onerror=alert(1)><script>alert(2)</script> capital of France?"
    _ask(page, question)
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert question in page.locator(".ta-question").last.inner_text()
    assert "does not cover" in page.locator(".ta-answer").last.inner_text()
    assert "Nearest documents" in page.locator("#sources").inner_text()


def test_keyboard_only_feedback_and_new_chat(page, app_server) -> None:
    _ask(page, "What does proportionality mean?")
    box = page.get_by_label("Your question")
    box.focus()
    reached = []
    for _ in range(4):  # Ask, Helpful, Not helpful, New chat follow the question box
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.innerText"))
    assert reached[0] == "Ask" and reached[-1] == "New chat"
    assert "Helpful" in reached[1] and "Not helpful" in reached[2]

    page.get_by_role("button", name="Helpful", exact=False).first.focus()
    page.keyboard.press("Enter")
    page.get_by_text("your rating of the latest answer was saved").wait_for()
    votes = [json.loads(line) for line in app_server.feedback_file.read_text().splitlines()]
    assert votes[-1]["vote"] == "up"
    assert votes[-1]["question"] == "What does proportionality mean?"
    assert votes[-1]["sources"]

    page.get_by_role("button", name="New chat").focus()
    page.keyboard.press("Enter")
    page.locator(".ta-answer").wait_for(state="detached")
    assert "Ask a question" in page.locator("#sources").inner_text()


def test_empty_question_gives_a_hint_not_a_bubble_or_a_traceback(page) -> None:
    box = page.get_by_label("Your question")
    box.fill("   ")
    box.press("Enter")
    page.get_by_text(EMPTY_QUESTION_HINT).wait_for(timeout=ANSWER_TIMEOUT_MS)
    assert page.locator(".ta-question, .ta-error").count() == 0
    assert "Traceback" not in page.content()


@pytest.fixture(scope="module")
def purpose_server(sample_store: Path, tmp_path_factory: pytest.TempPathFactory):
    from app_server import serve_app

    folder = tmp_path_factory.mktemp("purpose-app")
    yield from serve_app(sample_store, folder, TOOLKIT_ASSISTANT_AUDIT__REQUIRE_PURPOSE="true")


def test_purpose_first_then_an_answer_marked_wrong(browser, purpose_server) -> None:
    """Issue 14: the purpose asked before the first question, and an officer's verdict."""
    from assistant.access.audit import AuditLog
    from ingest.settings import AuditSettings

    for page in open_page(browser, purpose_server.url):
        _ask(page, "What does proportionality mean?")
        assert "purpose of this conversation first" in page.locator(".ta-error").last.inner_text()
        purpose = page.get_by_label("Case reference or purpose of this conversation")
        purpose.fill("Case 2025/118: burglary series")
        purpose.press("Enter")
        page.get_by_text("Purpose recorded for this conversation").wait_for(
            timeout=ANSWER_TIMEOUT_MS
        )
        page.get_by_label("Your question").press("Enter")  # the refused question is kept
        page.locator(".ta-answer").last.wait_for(timeout=ANSWER_TIMEOUT_MS)

        page.get_by_text("Disregard or correct the latest answer").click()
        page.get_by_label("wrong").check()
        page.get_by_label("Reason (optional)").fill("Quotes the wrong section")
        page.get_by_role("button", name="Record the verdict").click()
        page.get_by_text("Recorded: the latest answer is marked wrong.").wait_for(
            timeout=ANSWER_TIMEOUT_MS
        )
        assert page.dialogs == [] and page.outside_requests == []

    events = AuditLog(AuditSettings(file=purpose_server.audit_file)).read()
    (given,) = [e for e in events if e["event"] == "purpose"]
    (asked,) = [e for e in events if e["event"] == "question"]
    (marked,) = [e for e in events if e["event"] == "oversight"]
    assert asked["conversation"] == given["conversation"]
    assert asked["purpose"] == "Case 2025/118: burglary series"
    assert (marked["answer_id"], marked["verdict"]) == (asked["answer_id"], "wrong")
    assert marked["reason"] == "Quotes the wrong section"
