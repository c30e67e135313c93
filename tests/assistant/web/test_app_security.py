"""The running app attacked from outside (issue 14): every route without a session, the
document route, the Host header, oversized requests, password guessing, removed accounts,
and math markup in quoted text."""

from __future__ import annotations

import re

import httpx
import pytest
from app_calls import call, log_in
from running_app import PASSWORD, RunningApp, staff_sign_in

from assistant.access.auth import UserStore

pytestmark = pytest.mark.integration
SAMPLE = {"path": "x", "path_or_url": "x", "source": "note-1.md", "session_hash": "x"}


def _routes(routes: list, prefix: str = "") -> list:
    """Every route, with those of included routers (FastAPI keeps those apart, lazily)."""
    found = []
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router (Gradio's API)
            found += _routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif getattr(route, "path", None) is not None:
            found.append((prefix + route.path, getattr(route, "methods", None)))
    return found


def _paths(running: RunningApp) -> list[tuple[str, str]]:
    """(method, path) for every route the app serves, path parameters filled in."""
    found = []
    for path, methods in _routes(running.app.server_app.routes):
        concrete = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: SAMPLE.get(m[1], "x"), path)
        for method in sorted(methods or {"GET"}):
            found.append((method, concrete))
    return sorted(set(found))


def test_with_login_required_no_route_gives_anything_without_a_session(
    login_app: RunningApp,
) -> None:
    """Acceptance: every route, no session: no document, no API description, no data."""
    routes = _paths(login_app)
    assert ("GET", "/corpus/note-1.md") in routes and ("GET", "/gradio_api/info") in routes
    assert len(routes) > 40, routes
    opened = []
    with httpx.Client(timeout=30) as client:
        for method, path in routes:
            response = client.request(method, login_app.url.rstrip("/") + path)
            body = response.text
            leaked = (
                "named_endpoints" in body and '"/ask"' in body,  # the API description
                "Note 1" in body or "analytics software" in body,  # a document's text
                '"api_name"' in body,  # the page's configuration (its handlers)
                "openapi" in body and response.status_code == 200,
            )
            assert not any(leaked), (method, path, response.status_code, body[:300])
            if response.status_code < 400:
                opened.append(path)
    # What answers at all is the login page and its static files.
    assert all(
        p
        in {
            "/",
            "/login",
            "/login/",
            "/favicon.ico",
            "/manifest.json",
            "/gradio_api/startup-events",
        }
        or p.startswith(("/assets/", "/static/", "/svelte/", "/theme.css", "/gradio_api/theme.css"))
        for p in opened
    ), opened


def test_the_login_page_carries_no_api_description(login_app: RunningApp) -> None:
    page = httpx.get(login_app.url, timeout=30)
    assert page.status_code == 200 and "window.gradio_api_info" in page.text
    assert "/ask" not in page.text and "question" not in page.text


def test_fastapi_descriptions_are_not_served_even_without_login(open_app: RunningApp) -> None:
    for path in ("openapi.json", "docs", "redoc"):
        assert httpx.get(open_app.url + path, timeout=30).status_code == 404, path


def test_documents_are_only_those_indexed_and_unchanged(open_app: RunningApp) -> None:
    """Finding 2 and 13: uploads not yet indexed, hidden files, changed files and %00."""
    corpus = open_app.settings.corpus
    (corpus / "note-9.md").write_text("# Waiting\n\nUploaded, not yet indexed.\n")
    (corpus / ".h2.md").write_text("# Hidden\n")
    (corpus / ".hidden").mkdir()
    (corpus / ".hidden" / "h.md").write_text("# Hidden\n")
    with httpx.Client(timeout=30) as client:
        served = client.get(open_app.url + "corpus/note-1.md")
        assert (
            served.status_code == 200
            and "default-src 'none'" in served.headers["content-security-policy"]
        )
        for path in (
            "corpus/note-9.md",
            "corpus/.h2.md",
            "corpus/.hidden/h.md",
            "corpus/%2ehidden/h.md",
            "corpus/note-1.md%00.pdf",
            "corpus/%00",
            "corpus/..%2fusers.json",
        ):
            response = client.get(open_app.url + path)
            assert response.status_code == 404, (path, response.status_code)
            assert "Traceback" not in response.text
        original = (corpus / "note-2.md").read_text()
        (corpus / "note-2.md").write_text(original + "\nChanged after indexing.\n")
        try:
            assert client.get(open_app.url + "corpus/note-2.md").status_code == 404
        finally:
            (corpus / "note-2.md").write_text(original)
        assert client.get(open_app.url + "corpus/note-2.md").status_code == 200


def test_a_foreign_host_header_gets_400_on_every_kind_of_route(open_app: RunningApp) -> None:
    for path in ("", "corpus/note-1.md", "config", "gradio_api/info"):
        response = httpx.get(open_app.url + path, headers={"Host": "rebind.example"}, timeout=30)
        assert response.status_code == 400, path
    assert httpx.get(open_app.url, headers={"Host": "localhost"}, timeout=30).status_code == 200


def test_oversized_requests_and_histories_are_refused(open_app: RunningApp) -> None:
    """Finding 7: the 95 MB `history` body, and long or many history items."""
    url = open_app.url + "gradio_api/call/ask"
    big = {"data": ["What is proportionality?", ["x" * (2 * 1024 * 1024)]]}
    with httpx.Client(timeout=60) as client:
        assert client.post(url, json=big).status_code == 413

        def streamed():
            yield b'{"data": ["q", ["'
            for _ in range(40):
                yield b"x" * 65536
            yield b'"]]}'

        response = client.post(
            url, content=streamed(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413
        many = call(client, open_app.url, "ask", ["What is proportionality?", ["q"] * 11])
        assert many.data is None and "send at most the last 10" in many.error
        long = call(client, open_app.url, "ask", ["What is proportionality?", ["q" * 2001]])
        assert long.data is None and "at most 2,000 characters" in long.error
        fine = call(client, open_app.url, "ask", ["How does unit 1 use analytics software?", []])
        assert fine.data and fine.data[0]["citations"]


def test_password_guessing_at_the_staff_sign_in_is_throttled_and_audited(
    open_app: RunningApp,
) -> None:
    """Finding 6: after the free guesses even the right password waits, without a check."""
    access = open_app.app.toolkit_access
    try:
        with httpx.Client(timeout=30) as client:
            codes = [
                staff_sign_in(client, open_app.url, "sam", f"guess {n}").status_code
                for n in range(open_app.settings.auth.max_failed_logins + 1)
            ]
            assert codes == [403] * len(codes)
            held = staff_sign_in(client, open_app.url, "sam", PASSWORD)
            assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1
            assert "try again in" in held.json()["message"]
        failures = [e for e in open_app.audit.read() if e["event"] == "login_failure"]
        assert len(failures) == len(codes)
        assert failures[-1]["user"] == "sam" and failures[-1]["where"] == "staff sign-in"
        assert failures[-1]["address"] == "127.0.0.1" and failures[-1]["locked_seconds"] >= 1
    finally:
        access.throttle.succeeded("sam", "127.0.0.1")  # the other tests sign in from here too


def test_password_guessing_at_the_login_is_throttled(login_app: RunningApp) -> None:
    access = login_app.app.toolkit_access
    try:
        with httpx.Client(timeout=30) as client:
            for n in range(login_app.settings.auth.max_failed_logins + 1):
                wrong = client.post(
                    login_app.url + "login", data={"username": "olive", "password": f"g{n}"}
                )
                assert wrong.status_code == 400
            held = client.post(
                login_app.url + "login", data={"username": "olive", "password": PASSWORD}
            )
            assert held.status_code == 429 and "retry-after" in held.headers
        failures = [e for e in login_app.audit.read() if e["event"] == "login_failure"]
        assert failures and {e["where"] for e in failures} == {"login"}
    finally:
        access.throttle.succeeded("olive", "127.0.0.1")


def test_a_removed_account_loses_access_at_its_next_request(login_app: RunningApp) -> None:
    """Finding 11: no restart needed."""
    users = UserStore(login_app.settings.auth.users_file, rounds=4)
    users.add("rita", PASSWORD, "officer")
    with httpx.Client(timeout=30) as client:
        log_in(client, login_app.url, "rita", PASSWORD)
        question = ["How does unit 1 use analytics software?", []]
        assert call(client, login_app.url, "ask", question).data
        users.remove("rita")
        assert call(client, login_app.url, "ask", question).status == 401
        assert client.get(login_app.url + "config").status_code == 401
        assert client.get(login_app.url + "corpus/note-1.md").status_code == 401


def test_math_in_quoted_text_is_not_typeset(open_app: RunningApp) -> None:
    """Finding 13: `$$...$$` from a document stays text in the chat."""
    config = httpx.get(open_app.url + "config", timeout=30).json()
    chatbots = [c for c in config["components"] if c.get("type") == "chatbot"]
    assert chatbots and all(c["props"]["latex_delimiters"] == [] for c in chatbots)


@pytest.mark.browser
def test_the_login_page_still_works_in_a_browser(login_app: RunningApp) -> None:
    """The guard lets the login form and its files through, and nothing else before it."""
    from pathlib import Path

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is absent; install it: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    refused: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page()
        page.on("response", lambda r: r.status == 401 and refused.append(r.url))
        page.goto(login_app.url)
        page.get_by_label("username").fill("olive")
        page.get_by_label("password").fill(PASSWORD)
        page.get_by_role("button", name="Login").click()
        page.get_by_label("Your question").wait_for(timeout=30_000)
        browser.close()
    assert all("login_check" in url for url in refused), refused
