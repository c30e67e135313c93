"""The chat's accountability record, through the running app as a browser or a client
calls it (issue 14): an officer's verdict on an answer (oversight), the purpose asked once
per conversation, successful sign-ins at both doors, and no upload left on the server's
disk after it was handled or refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from app_calls import call, log_in
from running_app import PASSWORD, RunningApp, Session, staff_sign_in, start_app, uploaded
from store_helpers import policy_note

from assistant.cli import main

pytestmark = pytest.mark.integration

QUESTION = "How does unit 1 use analytics software?"


@pytest.fixture(scope="module")
def purpose_app(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """`audit.require_purpose`: each conversation gives a case reference or purpose first."""
    folder = tmp_path_factory.mktemp("purpose-app")
    yield from start_app(ingested, folder, require_login=False, require_purpose=True)


def _events(running: RunningApp, kind: str) -> list[dict]:
    return [e for e in running.audit.read() if e["event"] == kind]


def _audit_cli(running: RunningApp, monkeypatch, capsys) -> str:
    """What `toolkit-assistant audit` prints for this app's trail."""
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUDIT__FILE", str(running.settings.audit.file))
    capsys.readouterr()
    assert main(["audit"]) == 0
    return capsys.readouterr().out


# -- oversight (EU AI Act Art. 14) ---------------------------------------------------------------
def test_an_officer_marks_the_latest_answer_wrong_and_audit_shows_it(
    open_app: RunningApp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    officer = Session(open_app, httpx.Client(timeout=60))
    before = len(_events(open_app, "oversight"))
    early = officer.run("on_oversight", ["wrong", "", None])
    assert "Ask a question first" in early.text
    assert len(_events(open_app, "oversight")) == before

    answered = officer.run("on_question", [QUESTION, [], None, None])
    assert "ta-answer" in answered.text
    asked = _events(open_app, "question")[-1]
    marked = officer.run("on_oversight", ["wrong", "Cites the 2019 note,\nnot the 2024 one", None])
    assert "marked wrong" in marked.text and marked.data[0] == ""  # the reason box empties
    assert officer.run("on_oversight", ["disregarded", "", None]).data is not None

    wrong, disregarded = _events(open_app, "oversight")[before:]
    assert wrong["answer_id"] == asked["answer_id"] == disregarded["answer_id"]
    assert (wrong["verdict"], wrong["reason"]) == ("wrong", "Cites the 2019 note, not the 2024 one")
    assert (disregarded["verdict"], disregarded["reason"]) == ("disregarded", None)
    assert wrong["user"] == "anonymous"  # no login on this app

    shown = _audit_cli(open_app, monkeypatch, capsys)
    answer = asked["answer_id"][:12]
    assert f"[answer {answer}]" in shown  # the question line names the answer ...
    assert f"marked answer {answer} WRONG: Cites the 2019 note, not the 2024 one" in shown
    assert f"marked answer {answer} DISREGARDED" in shown  # ... and the verdicts name it


def test_a_verdict_outside_the_two_is_not_recorded(open_app: RunningApp) -> None:
    officer = Session(open_app, httpx.Client(timeout=60))
    officer.run("on_question", [QUESTION, [], None, None])
    before = len(_events(open_app, "oversight"))
    for verdict in ("fine", None):
        outcome = officer.run("on_oversight", [verdict, "x", None])
        assert outcome.data is None or "Choose disregarded or wrong" in outcome.text
    too_long = officer.run("on_oversight", ["wrong", "x" * 1001, None])
    assert too_long.data is None or "keep it under 1,000" in too_long.text
    assert len(_events(open_app, "oversight")) == before


def test_a_logged_in_officers_verdict_names_them(login_app: RunningApp) -> None:
    client = httpx.Client(timeout=60)
    log_in(client, login_app.url, "olive", PASSWORD)
    officer = Session(login_app, client)
    officer.run("on_question", [QUESTION, [], None, None])
    officer.run("on_oversight", ["disregarded", "Not our force's policy", None])
    event = _events(login_app, "oversight")[-1]
    assert (event["user"], event["reason"]) == ("olive", "Not our force's policy")


# -- purpose (LED Art. 25) -----------------------------------------------------------------------
def test_the_first_question_waits_for_a_purpose_given_once_per_conversation(
    purpose_app: RunningApp,
) -> None:
    officer = Session(purpose_app, httpx.Client(timeout=60))
    refused = officer.run("on_question", [QUESTION, [], None, None])
    assert "case reference or the purpose of this conversation first" in refused.text
    assert refused.data[0] == QUESTION  # kept in the box, to ask once the purpose is in
    assert _events(purpose_app, "question") == []

    empty = officer.run("on_purpose", ["   ", None])
    assert "Type a case reference" in empty.text and _events(purpose_app, "purpose") == []
    given = officer.run("on_purpose", ["Case 2025/118:\tburglary series", None])
    assert "Purpose recorded for this conversation" in given.text
    (purpose,) = _events(purpose_app, "purpose")
    assert purpose["purpose"] == "Case 2025/118: burglary series"

    for _ in range(2):  # every question of the conversation carries it
        assert "ta-answer" in officer.run("on_question", [QUESTION, [], None, None]).text
    asked = _events(purpose_app, "question")
    assert len(asked) == 2
    assert {(e["conversation"], e["purpose"]) for e in asked} == {
        (purpose["conversation"], "Case 2025/118: burglary series")
    }
    again = officer.run("on_purpose", ["Case 7", None])
    assert "already has a purpose" in again.text and len(_events(purpose_app, "purpose")) == 1

    # A new chat is a new conversation: it asks again, and gets an id of its own.
    officer.run("on_new_chat", [None])
    assert (
        "purpose of this conversation first"
        in officer.run("on_question", [QUESTION, [], None, None]).text
    )
    officer.run("on_purpose", ["Case 7", None])
    officer.run("on_question", [QUESTION, [], None, None])
    second = _events(purpose_app, "purpose")[-1]
    assert second["conversation"] != purpose["conversation"]
    assert _events(purpose_app, "question")[-1]["conversation"] == second["conversation"]

    # Another officer's session is a conversation of its own, without a purpose yet.
    other = Session(purpose_app, httpx.Client(timeout=60))
    refused = other.run("on_question", [QUESTION, [], None, None])
    assert "purpose of this conversation first" in refused.text


def test_the_ask_api_needs_a_purpose_with_each_question(purpose_app: RunningApp) -> None:
    before = len(_events(purpose_app, "question"))
    with httpx.Client(timeout=60) as client:
        missing = call(client, purpose_app.url, "ask", [QUESTION, None])
        assert missing.data is None and "send the x-purpose header" in missing.error
    assert len(_events(purpose_app, "question")) == before
    # Percent-encoded UTF-8: a header is Latin-1 on the wire.
    headers = {"X-Purpose": "Case%202025%2F119%20%E2%80%93%20Sk%C3%A5ne"}
    with httpx.Client(timeout=60, headers=headers) as client:
        answered = call(client, purpose_app.url, "ask", [QUESTION, None])
    assert answered.data and not answered.data[0]["refused"]
    assert _events(purpose_app, "question")[-1]["purpose"] == "Case 2025/119 \u2013 Sk\u00e5ne"


# -- sign-ins ------------------------------------------------------------------------------------
def test_a_login_is_recorded_as_a_sign_in(login_app: RunningApp) -> None:
    with httpx.Client(timeout=60) as client:
        log_in(client, login_app.url, "olive", PASSWORD)
    event = _events(login_app, "sign_in")[-1]
    assert (event["user"], event["outcome"], event["method"]) == ("olive", "ok", "login")
    assert event["client"] == "127.0.0.1"


def test_a_staff_sign_in_is_recorded_and_a_wrong_password_is_not_a_sign_in(
    open_app: RunningApp,
) -> None:
    with httpx.Client(timeout=60) as client:
        before = len(_events(open_app, "sign_in"))
        assert staff_sign_in(client, open_app.url, "sam", "wrong password").status_code == 403
        assert len(_events(open_app, "sign_in")) == before
        assert staff_sign_in(client, open_app.url, "sam", PASSWORD).status_code == 200
    event = _events(open_app, "sign_in")[-1]
    assert (event["user"], event["outcome"], event["method"]) == ("sam", "ok", "staff")
    assert _events(open_app, "login_failure")[-1]["user"] == "sam"


# -- uploads leave nothing behind ----------------------------------------------------------------
def test_a_refused_upload_leaves_no_temporary_file(open_app: RunningApp) -> None:
    client = httpx.Client(timeout=60)
    staff = Session(open_app, client)
    assert staff_sign_in(client, open_app.url, "sam", PASSWORD).status_code == 200
    staff.run("admin_sign_in", ["sam", ""])
    bad = uploaded(client, open_app.url, "note-8.md", "\x00binary, not Markdown")
    assert Path(bad["path"]).exists()  # the web server's copy, before the handler sees it
    refused = staff.run("admin_upload", [bad, False, "", ""])
    assert "binary content" in refused.text
    assert refused.data[-1] is None  # the upload box empties: the file must be chosen again
    assert not Path(bad["path"]).exists()

    # Refused for want of a staff sign-in: the anonymous client's file goes too.
    stranger = httpx.Client(timeout=60)
    theirs = uploaded(stranger, open_app.url, "note-9.md", policy_note(9))
    outcome = Session(open_app, stranger).run("admin_upload", [theirs, False, "", ""])
    assert "sign in with a staff account" in outcome.text
    assert not Path(theirs["path"]).exists()
    assert "note-8.md" not in open_app.corpus() and "note-9.md" not in open_app.corpus()


# -- a question that came before its page load ---------------------------------------------------
def test_a_question_asked_before_the_page_load_ran_is_saved_to_its_owner(
    login_app: RunningApp, open_app: RunningApp
) -> None:
    """On a busy machine the question can run before the page's load event, which is what
    tells the server whose page it is. The answer's conversation is saved all the same: to
    the signed-in user, or to the browser whose token came with the question. (The load
    event never runs here: these calls are the question alone.)"""
    from assistant.access.conversations import (
        ConversationStore,
        browser_owner,
        new_browser_token,
        user_owner,
    )
    from assistant.access.secrets import install_secret

    def saved(running: RunningApp, owner: str) -> list[str]:
        store = ConversationStore(running.settings.app.conversations_file, 30)
        latest = store.latest(owner)
        return [a.question for a in latest.answers] if latest else []

    client = httpx.Client(timeout=60)
    log_in(client, login_app.url, "olive", PASSWORD)
    answered = Session(login_app, client).run("on_question", [QUESTION, [], None, None])
    assert "ta-answer" in answered.text
    assert saved(login_app, user_owner("olive")) == [QUESTION]

    token = new_browser_token()
    answered = Session(open_app, httpx.Client(timeout=60)).run(
        "on_question", [QUESTION, [], None, token]
    )
    assert "ta-answer" in answered.text
    key = install_secret(Path(open_app.settings.auth.secret_file))
    assert saved(open_app, browser_owner(token, key)) == [QUESTION]
