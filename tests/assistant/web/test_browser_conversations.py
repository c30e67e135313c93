"""Conversations in headless Chromium: kept across a reload, copied and exported with
their citations, private to their browser, and the sign-out button of a login."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from pypdf import PdfReader
from running_app import PASSWORD, RunningApp

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
QUESTION = "How does unit 1 use analytics software?"
TIMEOUT_MS = 120_000  # the first question also loads the model, on a shared CPU


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent; install it: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _context(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.outside = []  # the page must fetch nothing beyond the app itself
    context.on("request", lambda r: r.url.startswith(url) or context.outside.append(r.url))
    return context


def _ask(page, question: str) -> None:
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.locator(".ta-answer").last.wait_for(timeout=TIMEOUT_MS)


def _open_tools(page) -> None:
    page.get_by_text("Conversations, copy and export").click()


def test_login_conversation_survives_a_reload_exports_copies_and_signs_out(
    browser, login_app: RunningApp
) -> None:
    url = login_app.url
    context = _context(browser, url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    page = context.new_page()
    login = page.request.post(url + "login", form={"username": "olive", "password": PASSWORD})
    assert login.ok
    page.goto(url)
    _ask(page, QUESTION)
    answer_text = page.locator(".ta-answer").last.inner_text()
    assert "[1]" in answer_text

    _open_tools(page)
    page.get_by_role("button", name="Copy answer as Markdown").click()
    page.get_by_text("copied as Markdown").wait_for()
    copied = page.wait_for_function(
        "async () => (await navigator.clipboard.readText()) || null"
    ).json_value()
    assert copied.startswith("Note 1 sets out how unit 1 uses analytics software.")
    assert "[1] **Policy note 1**, note-1.md" in copied

    page.get_by_role("button", name="Export as PDF").click()
    link = page.locator("a[href*='conversation-'][href$='.pdf']").first
    link.wait_for(timeout=TIMEOUT_MS)
    exported = page.request.get(link.get_attribute("href"))
    assert exported.ok
    text = " ".join(
        " ".join((p.extract_text() or "").split())
        for p in PdfReader(io.BytesIO(exported.body())).pages
    )
    for expected in (
        QUESTION,
        "Note 1 sets out how unit 1 uses analytics software.",
        "[1] Policy note 1",
        "note-1.md",
        "\u201cNote 1 sets out how unit 1",
    ):
        assert expected in text, expected

    page.reload()
    page.locator(".ta-answer").last.wait_for(timeout=TIMEOUT_MS)
    assert QUESTION in page.locator(".ta-question").last.inner_text()
    assert "Policy note 1" in page.locator("#sources").inner_text()
    _open_tools(page)
    listed = page.get_by_label("Your conversations")
    assert QUESTION in listed.input_value()

    page.once("dialog", lambda dialog: dialog.accept())  # "Delete this conversation?"
    page.get_by_role("button", name="Delete").click()
    page.locator(".ta-answer").wait_for(state="detached", timeout=TIMEOUT_MS)
    with closing(sqlite3.connect(login_app.settings.app.conversations_file)) as db:
        assert db.execute("SELECT COUNT(*) FROM turns").fetchone() == (0,)

    page.get_by_text("Sign out", exact=True).click()
    page.locator("input[type=password]").wait_for(timeout=TIMEOUT_MS)
    assert page.request.get(url + "config").status == 401
    assert context.outside == []
    context.close()


def test_without_a_login_each_browser_sees_only_its_own_conversations(
    browser, open_app: RunningApp
) -> None:
    url = open_app.url
    mine = _context(browser, url)
    page = mine.new_page()
    page.goto(url)
    _ask(page, QUESTION)
    page.reload()
    page.locator(".ta-answer").last.wait_for(timeout=TIMEOUT_MS)
    assert QUESTION in page.locator(".ta-question").last.inner_text()

    other = _context(browser, url)
    stranger = other.new_page()
    stranger.goto(url)
    stranger.get_by_label("Your question").wait_for()
    _open_tools(stranger)
    stranger.get_by_label("Your conversations").wait_for()
    assert stranger.locator(".ta-question").count() == 0
    assert mine.outside == [] and other.outside == []
    other.close()
    mine.close()
