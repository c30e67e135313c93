"""The Gradio app: wires the chat, the sources panel and the `ask` API to `Assistant`, and
the staff-only admin tab to `Admin`.

No retrieval, answer or ingest logic lives here (that is `assistant.qa.service` and
`assistant.web.admin`), and no HTML is built here (that is `assistant.web.render`, where everything
from documents and users is escaped). This is the only module that imports gradio.

Access: every request first passes `assistant.web.guard` (Host header, body size, and with
`auth.require_login` a live session for every route but the login page). With a login the
admin tab takes the role of the logged-in account; without one the chat is open and the
admin tab has its own staff sign-in (`/staff/sign-in`), which sets a server-issued HttpOnly,
SameSite=Strict cookie; Gradio's `session_hash`, which the client picks, proves nothing.
Either way every admin handler checks the role itself on every call: the handlers are
hidden from the API listing, but Gradio still runs a hidden handler for any client that
names it. Wrong passwords at either door are throttled and audited.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import contextvars
import hashlib
import logging
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from contextlib import closing
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import gradio as gr

from assistant.access.audit import MAX_PURPOSE_CHARS, MAX_REASON_CHARS, VERDICTS, AuditLog
from assistant.access.auth import AuthError, User
from assistant.access.conversations import (
    MAX_TURNS,
    browser_owner,
    is_browser_token,
    new_browser_token,
    open_store,
    user_owner,
)
from assistant.access.feedback import record_feedback
from assistant.access.secrets import install_secret
from assistant.compose import build_assistant
from assistant.i18n import direction, translate
from assistant.qa.models import Answer, Draft, Final, Retrieved
from assistant.qa.service import MAX_QUESTION_CHARS, Assistant, QuestionError
from assistant.web import documents, render, viewer
from assistant.web.access import WebAccess, guard, staff_routes
from assistant.web.admin import Admin, AdminError
from assistant.web.export import (
    ExportError,
    answer_markdown,
    conversation_markdown,
    conversation_pdf,
)
from assistant.web.guard import CLIENT_ADDRESS
from assistant.web.language import AUTO, in_officer_language
from assistant.web.language import CHOICES as LANGUAGE_CHOICES
from assistant.web.language import labels as language_labels
from assistant.web.language import shown as shown_language_of
from assistant.web.oversight import ChatAccountability, OversightError
from ingest.embedding import set_encoder_threads
from ingest.settings import Settings
from ingest.store import StoreError, StoreUnreachableError
from ingest.upload import UploadError

log = logging.getLogger(__name__)

# Each is answered from the sample corpus (checked by tests/assistant/test_app_api.py).
EXAMPLE_QUESTIONS = [
    "What are the five core principles?",
    "What does proportionality mean?",
    "What does the principle of minimization of harm require?",
    "Which five domains does the readiness self-assessment cover?",
    "What are the five steps of a rights-based risk assessment?",
]
CSS_FILE = Path(__file__).with_name("app.css")
# The page's own script (citation links, focus after an example): `launch(js=...)`.
APP_JS = (viewer.STATIC_DIR / "app.js").read_text(encoding="utf-8")
ICONS = viewer.STATIC_DIR / "icons"  # bundled SVGs: emoji show as boxes without an emoji font
# The chat keeps the latest messages only: the page sends the whole conversation back with
# each question, and the request-size limit must never cut an officer's question off.
MAX_CHAT_MESSAGES = 100
MAX_PAGES_REMEMBERED = 10_000  # pages whose conversation owner is kept beside their session
# The `ask` API's case reference or purpose (`audit.require_purpose`).
PURPOSE_HEADER = "x-purpose"
# The staff sign-in runs in the page, not through Gradio's queue: the password goes to
# `/staff/sign-in` (which sets the cookie) and the handler after it gets only the message.
_SIGN_IN_JS = """async (name, password) => {
  const body = new URLSearchParams({name: name || "", password: password || ""});
  let message = "";
  try {
    const reply = await fetch("staff/sign-in", {method: "POST", body, credentials: "same-origin"});
    message = (await reply.json()).message || "";
  } catch (err) {
    message = "The sign-in could not reach the server; try again.";
  }
  return [name, message];
}"""
# The answer's Markdown comes from the server; the clipboard API needs a secure context
# (https or localhost), so a selected textarea is the fallback elsewhere.
_COPY_JS = """async (text) => {
  if (!text) return;
  try { await navigator.clipboard.writeText(text); return; } catch (err) {}
  const area = document.createElement("textarea");
  area.value = text; area.style.position = "fixed"; area.style.left = "-9999px";
  document.body.appendChild(area); area.select();
  try { document.execCommand("copy"); } finally { area.remove(); }
}"""
_SIGN_OUT_JS = """async () => {
  await fetch("staff/sign-out", {method: "POST", credentials: "same-origin"});
  return [];
}"""
# Questions are answered side by side (`app.answer_concurrency`, one per core); the admin
# tab has a group of its own, so a refresh that runs for minutes never holds a question up,
# and a second click on Refresh reaches `Admin.refresh`, which refuses it, instead of
# waiting in the queue.
_ADMIN_CONCURRENCY = {"concurrency_id": "admin", "concurrency_limit": 4}
# What an admin action may refuse with: each is a one-line message for the page.
_ADMIN_REFUSALS = (PermissionError, AdminError, UploadError, AuthError, StoreError)
# Files posted to Gradio's upload route but never handed to the admin tab (an abandoned
# upload box, or anyone who can reach the page): every 10 minutes those older than an hour
# are removed, and all of them when the server stops. Handled ones go at once (Admin.upload).
_UPLOAD_CACHE = (600, 3600)
# Exports are written under one folder per app (0700: conversations are sensitive). Gradio
# serves its own copy, made as the handler returns and cleaned by `delete_cache`; ours is
# removed at the next export once this old, and the folder when the server stops.
EXPORT_KEEP_SECONDS = 600
_PROGRESS = gr.Progress()  # Gradio finds the bar by this default; it holds no state of ours
_STAGES = {"load": ("Reading documents", "documents"), "embed": ("Embedding passages", "chunks")}


def _stopped() -> dict:
    return _bot(render.message_html(render.STOPPED_NOTE, "ta-note"))


def _new_session(owner: str | None = None) -> dict:
    # Earlier questions feed follow-ups; the last answer is what the thumbs rate; `answers`
    # are what Copy and Export use, `conversation` the stored conversation they extend.
    return {"history": [], "last": None, "answers": [], "conversation": None, "owner": owner}


def unreachable_message(chroma_url: str) -> str:
    """What an officer reads when the Chroma server is down: nothing they did, and who acts."""
    return (
        "The document index cannot be reached just now, so this question cannot be answered. "
        f"The administrator should check that the Chroma server at {chroma_url} is running; "
        "questions will work again as soon as it is, without restarting the assistant."
    )


def _answer_or_message(assistant: Assistant, question: str, history: list[str]) -> Answer | str:
    """The answer, or a message for the officer when the question cannot be answered."""
    try:
        return assistant.ask(question, history)
    except Exception as err:
        return _message_for(err)


def _message_for(err: Exception) -> str:
    """Call only in an `except` block: a sentence for the officer, the traceback to the log."""
    if isinstance(err, QuestionError):
        return f"Please rephrase: {str(err).rstrip('.')}."
    if isinstance(err, StoreUnreachableError):
        log.error("store error: %s", err)
        return unreachable_message(err.url)
    if isinstance(err, StoreError):
        log.error("store error: %s", err)
        return f"The document index cannot be read ({err}). Ask the administrator to re-ingest."
    log.exception("answering a question failed")  # the question itself stays out of logs
    return "Something went wrong while answering; the details are in the server log."


def fresh_export_folder(root: Path, keep_seconds: float) -> Path:
    """A new 0700 folder under `root` for one export, after removing those older than
    `keep_seconds` (Gradio has served its own copy of them by then)."""
    cutoff = time.time() - keep_seconds
    for old in root.iterdir():
        with contextlib.suppress(OSError):  # gone meanwhile, or another export's: harmless
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old)
    return Path(tempfile.mkdtemp(dir=root))


def _user_name(request: gr.Request | None) -> str | None:
    return getattr(request, "username", None) or None


def build_app(
    assistant: Assistant,
    settings: Settings,
    admin: Admin | None = None,
    audit: AuditLog | None = None,
) -> gr.Blocks:
    """The chat UI, the `ask` endpoint and the admin tab; `serve` launches it."""
    audit = audit or AuditLog(settings.audit)
    admin = admin or Admin(settings, audit)
    access = WebAccess.create(settings, audit, admin)
    conversations = open_store(settings)
    page_owners: OrderedDict[str, str] = OrderedDict()  # session hash -> owner, see record
    export_root = Path(tempfile.mkdtemp(prefix="toolkit-exports-"))
    atexit.register(shutil.rmtree, export_root, ignore_errors=True)
    # Pages that sent a question. A question typed while a fresh page still loads runs
    # beside the load; the load's (empty) saved conversation must not wipe its answer.
    pages_asked: OrderedDict[str, None] = OrderedDict()

    def remember(pages: OrderedDict, session_hash: str | None, value: object) -> None:
        pages[session_hash] = value
        while len(pages) > MAX_PAGES_REMEMBERED:
            pages.popitem(last=False)

    accountability = ChatAccountability(audit, settings.audit.require_purpose)
    answer_concurrency = {
        "concurrency_id": "answer",
        "concurrency_limit": settings.app.answer_concurrency,
    }

    def banner(language: str = "en") -> str:
        try:
            status = assistant.corpus_status()
        except StoreError as err:  # a damaged or empty index: the page says what to run
            text = translate("The document index cannot be used: {error}", language)
            return render.message_html(text.format(error=err), "ta-banner")
        return render.banner_html(status.kind, len(status.documents), language)

    def known_owner(request: gr.Request, token: object) -> str | None:
        """The signed-in user, or the browser whose valid token came with the request; None
        when neither (a first visit, before the page load has made its token). A question
        that runs before its page load uses it too: without it the answer was shown but its
        conversation was never saved."""
        name = _user_name(request)
        if settings.auth.require_login and name:
            return user_owner(name)
        if is_browser_token(token):
            return browser_owner(token, install_secret(Path(settings.auth.secret_file)))
        return None  # a first visit whose token the load has not made yet: not saved

    def record(result: Answer, session: dict, request: gr.Request, token: object = None) -> None:
        """An answer shown in the chat: audited, and remembered for follow-ups and thumbs."""
        latency = result.timings_ms.get("total", 0.0)
        context = accountability.question_context(session)
        accountability.answered(
            session, audit.question(_user_name(request), result, latency, **context)
        )
        session["history"] = [*session["history"], result.question][-3:]
        session["last"] = result
        session["answers"] = [*session.get("answers", []), result][-MAX_TURNS:]
        # A question sent while the page was still loading ran with the session from
        # before the load set its owner: the page's owner is kept here too.
        session["owner"] = (
            session.get("owner")
            or page_owners.get(request.session_hash)
            or known_owner(request, token)
        )
        if conversations is not None and session.get("owner"):
            try:
                session["conversation"] = conversations.add_turn(
                    session["owner"], session.get("conversation"), result
                )
            except (sqlite3.Error, OSError) as err:  # the answer is shown all the same
                log.error("conversation not saved: %s", err)

    def on_question(question: str, chat: list, session: dict, token: object, request: gr.Request):
        if _empty(question):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        remember(pages_asked, request.session_hash, None)
        session, chat = dict(session or _new_session()), _recent(chat)
        result = accountability.refusal(session) or _answer_or_message(
            assistant, question, session["history"]
        )
        chat = [*chat, {"role": "user", "content": render.question_html(question)}]
        if isinstance(result, str):
            chat.append({"role": "assistant", "content": render.message_html(result, "ta-error")})
            # Keep the typed text so the officer can fix it rather than retype it.
            return question, chat, gr.skip(), session
        record(result, session, request, token)
        result = in_officer_language(result, session)
        session["answer_language"] = result.language
        chat.append({"role": "assistant", "content": render.answer_html(result)})
        return "", chat, render.sources_html(result), session

    # Sessions whose officer pressed Stop. Stop is not a Gradio cancel: a cancelled stream
    # leaves its generator suspended (and the model writing into a socket nobody reads),
    # and the page then refuses the next question. The handler sees the flag at its next
    # step, closes the answer (which drops the model's stream) and ends normally.
    stopping: set[str] = set()

    def on_question_streaming(
        question: str, chat: list, session: dict, token: object, request: gr.Request
    ):
        """The generative answerer's handler: sources at once, the draft as it is written,
        then the verified answer in its place. The question box is emptied once, when the
        sources come: what the officer types meanwhile (the next question) is kept. The
        Stop button (the last output) shows while the answer is being written."""
        if _empty(question):
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        remember(pages_asked, request.session_hash, None)
        session, chat = dict(session or _new_session()), _recent(chat)
        stopping.discard(request.session_hash)
        chat = [*chat, {"role": "user", "content": render.question_html(question)}]
        if refusal := accountability.refusal(session):
            refused = [*chat, _bot(render.message_html(refusal, "ta-error"))]
            yield question, refused, gr.skip(), session, gr.skip()
            return
        show, hide = gr.update(visible=True), gr.update(visible=False)
        yield gr.skip(), chat, gr.skip(), session, show
        draft, result = "", None
        try:
            with closing(assistant.ask_stream(question, session["history"])) as events:
                for event in events:
                    if request.session_hash in stopping:
                        stopping.discard(request.session_hash)
                        yield gr.skip(), [*chat, _stopped()], gr.skip(), session, hide
                        return
                    if isinstance(event, Retrieved):
                        sources_panel = render.retrieved_html(event.question, event.passages)
                        bubble = render.draft_html("")
                        yield "", [*chat, _bot(bubble)], sources_panel, session, show
                    elif isinstance(event, Draft):
                        draft += event.text
                        bubble = _bot(render.draft_html(draft))
                        yield gr.skip(), [*chat, bubble], gr.skip(), session, show
                    elif isinstance(event, Final):
                        result = event.answer
        except Exception as err:
            message = render.message_html(_message_for(err), "ta-error")
            yield question, [*chat, _bot(message)], gr.skip(), session, hide
            return
        record(result, session, request, token)
        result = in_officer_language(result, session)
        session["answer_language"] = result.language
        answer_bubble = _bot(render.answer_html(result))
        yield gr.skip(), [*chat, answer_bubble], render.sources_html(result), session, hide

    def on_stop(chat: list, request: gr.Request) -> list:
        """The Stop button: an unfinished draft was never verified, so it goes."""
        chat = list(chat or [])
        if chat and "ta-draft" in str(chat[-1].get("content", "")):
            stopping.add(request.session_hash)
            chat[-1] = _stopped()
        return chat

    def on_vote(vote: str, session: dict) -> None:
        answer = (session or {}).get("last")
        if answer is None:
            gr.Info("Ask a question first; the thumbs rate the latest answer.")
            return
        try:
            record_feedback(settings, answer, vote)
        except OSError as err:
            log.error("feedback not saved: %s", err)
            gr.Warning("Your feedback could not be saved on this machine.")
            return
        gr.Info("Thank you: your rating of the latest answer was saved on this machine.")

    def on_new_chat(session: dict):
        """A new conversation; the officer's language stays (the selector is per session)."""
        fresh = _new_session((session or {}).get("owner"))
        fresh.update({k: v for k, v in (session or {}).items() if k in _LANGUAGE_KEYS})
        return [], "", render.sources_html(None), fresh

    # -- conversations: kept per user (per browser without a login), reopened, exported ------
    def owner_of(request: gr.Request, token: object) -> tuple[str, object]:
        """The owner key of this page, and the browser token to keep (a new one if needed)."""
        owner = known_owner(request, token)
        if owner is not None:
            return owner, token
        token = new_browser_token()  # none yet, or not one this server could have made
        return browser_owner(token, install_secret(Path(settings.auth.secret_file))), token

    def conversation_choices(session: dict) -> dict:
        listed = conversations.list(session["owner"]) if conversations and session else []
        choices = [(_conversation_label(c.title, c.updated, c.turns), c.id) for c in listed]
        return gr.update(choices=choices, value=(session or {}).get("conversation"))

    def shown(conversation, owner: str):
        """Chat, sources, session and list for a stored conversation (None: an empty chat)."""
        session = _new_session(owner)
        if conversation is None or not conversation.answers:
            return [], render.sources_html(None), session, conversation_choices(session)
        answers = conversation.answers
        session.update(
            history=[a.question for a in answers][-3:],
            last=answers[-1],
            answers=answers,
            conversation=conversation.id,
        )
        return (
            _chat_of(answers),
            render.sources_html(answers[-1]),
            session,
            conversation_choices(session),
        )

    def on_page_load(token: object, request: gr.Request):
        """A visit or a reload: the latest conversation of this user (or browser) again."""
        owner, token = owner_of(request, token)
        remember(page_owners, request.session_hash, owner)
        latest = conversations.latest(owner) if conversations else None
        chat, sources, session, listed = shown(latest, owner)
        # A question sent while the page loads runs beside this load, and the two results
        # reach the page in either order. So the chat is written only to bring back a saved
        # conversation, and never once the page has asked: an empty chat written after an
        # answer would wipe it. (The session's owner is then set by `record`.)
        if not chat or request.session_hash in pages_asked:
            return token, gr.skip(), gr.skip(), gr.skip(), listed
        return token, chat, sources, session, listed

    def on_open(choice: str | None, session: dict):
        owner = (session or {}).get("owner")
        if not owner or not conversations or not choice:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return shown(conversations.get(owner, choice), owner)

    def on_delete(choice: str | None, session: dict):
        owner = (session or {}).get("owner")
        if not owner or not conversations or not choice:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        conversations.delete(owner, choice)
        gr.Info("The conversation was deleted.")
        if session.get("conversation") == choice:
            return shown(None, owner)
        return gr.skip(), gr.skip(), gr.skip(), conversation_choices(session)

    def on_copy(session: dict) -> str:
        answer = (session or {}).get("last")
        if answer is None:
            gr.Info("Ask a question first; Copy takes the latest answer.")
            return ""
        gr.Info("The latest answer and its citations were copied as Markdown.")
        return answer_markdown(answer)

    def on_export(kind: str, session: dict):
        answers = (session or {}).get("answers") or []
        if not answers:
            gr.Info("Ask a question first: the export holds the questions and answers.")
            return gr.update(value=None, visible=False)
        now = datetime.now().astimezone()
        title = answers[0].question if len(answers[0].question) <= 80 else "Conversation"
        folder = fresh_export_folder(export_root, EXPORT_KEEP_SECONDS)
        name = f"conversation-{now:%Y%m%d-%H%M%S}"
        try:
            if kind == "pdf":
                path = folder / f"{name}.pdf"
                path.write_bytes(conversation_pdf(answers, now, title))
            else:
                path = folder / f"{name}.md"
                path.write_text(conversation_markdown(answers, now, title), encoding="utf-8")
        except ExportError as err:
            gr.Warning(str(err))
            return gr.update(value=None, visible=False)
        return gr.update(value=str(path), visible=True)

    def on_purpose(text: str, session: dict, request: gr.Request):
        """The officer's case reference or purpose for this conversation (once)."""
        session = dict(session or _new_session())
        try:
            done = accountability.give_purpose(_user_name(request), session, text)
        except OversightError as err:
            return gr.skip(), render.message_html(str(err), "ta-error"), session
        return gr.update(interactive=False), render.message_html(done, "ta-note"), session

    def on_oversight(verdict: str | None, reason: str, session: dict, request: gr.Request):
        """The officer marks the latest answer disregarded or wrong."""
        try:
            done = accountability.mark(_user_name(request), session or {}, verdict or "", reason)
        except OversightError as err:
            return gr.skip(), render.message_html(str(err), "ta-error")
        return "", render.message_html(done, "ta-note")

    def ask(
        question: str, history: list[str] | None = None, request: gr.Request | None = None
    ) -> dict:
        """Answer a question from the corpus; returns the answer JSON (`Answer.to_dict()`).

        `history` is the list of earlier questions of the conversation, for follow-ups.
        The case reference or purpose (required with `audit.require_purpose`) comes in the
        `X-Purpose` header, so that callers of the two-argument API keep working.
        """
        history = _checked_history(history, settings.app.max_history)
        purpose = _checked_purpose(request, settings.audit.require_purpose)
        try:
            answer = assistant.ask(question, history or None)
        except (QuestionError, StoreError) as err:
            raise gr.Error(str(err)) from None
        latency = answer.timings_ms.get("total", 0.0)
        audit.question(_user_name(request), answer, latency, purpose=purpose)
        return answer.to_dict()

    # -- admin: each handler finds the acting user, and `Admin` checks the role ---------------
    def acting_user(request: gr.Request) -> User | None:
        if settings.auth.require_login:
            return admin.user(_user_name(request))
        return access.staff_user(request)

    def panel(user: User | None) -> tuple[str, dict]:
        """The status table and the remove list, for a staff user only."""
        admin.require_staff(user)
        files = admin.corpus_files()
        table = render.documents_html(admin.documents(), admin.pending())
        return table, gr.update(choices=files, value=None)

    def refused(err: Exception) -> str:
        """Call only in an `except` block: the traceback of a failure goes to the server log."""
        if isinstance(err, _ADMIN_REFUSALS):
            return render.admin_message_html(str(err), ok=False)
        log.exception("an admin action failed")
        return render.admin_message_html(
            "The action failed; the details are in the server log.", ok=False
        )

    def admin_open(request: gr.Request):
        """On page load, with a login: staff see the tools; nobody else sees the tab."""
        user = acting_user(request)
        try:
            table, files = panel(user)
        except _ADMIN_REFUSALS:
            return gr.update(visible=False), gr.update(visible=False), "", "", gr.skip()
        who = render.signed_in_html(user.name, user.role)
        return gr.update(visible=True), gr.update(visible=True), who, table, files

    def admin_sign_in(name: str, message: str, request: gr.Request):
        """After the page's POST to `/staff/sign-in`: the tools if its cookie is live.

        `message` is what that route answered (the password never comes here)."""
        user = acting_user(request)
        try:
            if user is None:
                raise PermissionError(message or "sign in with a staff account")
            table, files = panel(user)
        except Exception as err:
            return gr.skip(), gr.skip(), refused(err), "", gr.skip(), "", gr.skip()
        who = render.signed_in_html(user.name, user.role)
        hide, show = gr.update(visible=False), gr.update(visible=True)
        return hide, show, "", who, table, "", files

    def admin_sign_out():
        hide, show = gr.update(visible=False), gr.update(visible=True)
        message = render.admin_message_html("Signed out.")
        return show, hide, message, "", "", "", gr.update(choices=[], value=None)

    def admin_status(request: gr.Request):
        try:
            table, files = panel(acting_user(request))
        except Exception as err:
            return refused(err), gr.skip(), gr.skip()
        return "", table, files

    def admin_upload(
        file: str | None,
        replace: bool,
        title: str | None,
        version: str | None,
        request: gr.Request,
    ):
        user = acting_user(request)
        try:
            if not file:
                admin.require_staff(user)
                raise AdminError("choose a file to add first")
            # It checks the role too, and removes the uploaded copy whatever the outcome.
            message = admin.upload(
                user,
                Path(file),
                Path(file).name,
                replace=bool(replace),
                title=title or "",
                version=version or "",
            )
            table, files = panel(user)
        except Exception as err:  # the uploaded copy is gone: the box empties for a retry
            return refused(err), gr.skip(), gr.skip(), None
        return render.admin_message_html(message), table, files, None

    def admin_ask_remove(source: str | None):
        """Remove asks first: the file goes from the corpus folder at once."""
        if not source:
            return gr.update(visible=False), render.admin_message_html(
                "choose a document to remove", ok=False
            )
        question = (
            f"Remove {source} from the corpus folder? Officers get answers from it until the "
            "next refresh, then never again; only a new upload brings it back."
        )
        return gr.update(visible=True), render.admin_message_html(question)

    def admin_remove(source: str | None, request: gr.Request):
        user = acting_user(request)
        try:
            message = admin.remove(user, source or "")
            table, files = panel(user)
        except Exception as err:
            return refused(err), gr.skip(), gr.skip()
        return render.admin_message_html(message), table, files

    def admin_labels(source: str | None, request: gr.Request):
        """A document chosen: its title and version from the manifest, to edit."""
        try:
            admin.require_staff(acting_user(request))
            title, version = admin.labels(source or "") if source else ("", "")
        except Exception:
            return gr.skip(), gr.skip()
        return title, version

    def admin_save_labels(source: str | None, title: str, version: str, request: gr.Request):
        user = acting_user(request)
        try:
            message = admin.set_labels(user, source or "", title or "", version or "")
            table, _ = panel(user)
        except Exception as err:
            return refused(err), gr.skip()
        return render.admin_message_html(message), table

    def admin_refresh(request: gr.Request, progress=_PROGRESS):
        user = acting_user(request)
        # The refresh reports progress from its loader thread too, where Gradio's context
        # (which event the bar belongs to) is not set: each update runs in a copy of ours.
        context = contextvars.copy_context()

        def show_progress(stage: str, done: int, total: int) -> None:
            desc, unit = _STAGES.get(stage, (stage, "steps"))
            context.copy().run(progress, (done, total or None), desc=desc, unit=unit)

        try:
            report = admin.refresh(user, show_progress)
            table, files = panel(user)
        except Exception as err:
            return refused(err), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return "", render.refresh_report_html(report), table, files, banner()

    streaming = settings.generation.answerer == "generative"
    with gr.Blocks(
        title="Toolkit Assistant", analytics_enabled=False, delete_cache=_UPLOAD_CACHE
    ) as app:
        session = gr.State(_new_session())
        # A random id for this browser's conversations when there is no login: kept in
        # localStorage, under a fixed key and secret so that it survives restarts too.
        browser_id = gr.BrowserState(
            None,
            storage_key="toolkit-assistant-browser",
            secret=_browser_state_secret(settings),
        )
        banner_box = gr.HTML(banner())
        if settings.auth.require_login:
            # Gradio's own /logout ends the login and goes back to the login form.
            gr.Button("Sign out", link="logout", size="sm", elem_id="sign-out")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat") as chat_tab, gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        label="Conversation",
                        height=560,
                        # The HTML comes escaped from render; sanitizing is a second line.
                        sanitize_html=True,
                        # Quoted documents may hold `$$...$$`: text, never math to typeset.
                        latex_delimiters=[],
                        feedback_options=None,
                        # No "share" (it posts to Hugging Face) and no "copy": it would copy
                        # our HTML; selecting the text copies what the officer sees.
                        buttons=[],
                        placeholder=render.CHAT_PLACEHOLDER,
                    )
                    # Shown with `audit.require_purpose`: the first question waits for it.
                    with gr.Row(visible=settings.audit.require_purpose):
                        purpose_box = gr.Textbox(
                            label="Case reference or purpose of this conversation",
                            max_lines=1,
                            max_length=MAX_PURPOSE_CHARS,
                            scale=4,
                        )
                        purpose_button = gr.Button("Set the purpose", scale=1)
                    purpose_note = gr.HTML("")
                    question = gr.Textbox(
                        label="Your question",
                        placeholder="Type a question and press Enter",
                        info=render.QUESTION_LIMIT_NOTE,
                        lines=1,
                        max_lines=4,
                        autofocus=True,
                        elem_id="ta-question",
                    )
                    with gr.Row():
                        ask_button = gr.Button("Ask", variant="primary", icon=ICONS / "send.svg")
                        # Shown by the streaming answer while the model writes, and only then.
                        stop_button = gr.Button(
                            "Stop", variant="stop", visible=False, icon=ICONS / "stop.svg"
                        )
                        up = gr.Button("Helpful", icon=ICONS / "thumbs-up.svg")
                        down = gr.Button("Not helpful", icon=ICONS / "thumbs-down.svg")
                        new_chat = gr.Button("New chat", icon=ICONS / "new-chat.svg")
                        language = gr.Dropdown(
                            choices=LANGUAGE_CHOICES, value=AUTO, label="Language", scale=0
                        )
                    with gr.Accordion(
                        "Disregard or correct the latest answer", open=False
                    ) as oversight_box:
                        verdict = gr.Radio(list(VERDICTS), label="Your verdict", value=None)
                        reason = gr.Textbox(
                            label="Reason (optional)", max_lines=3, max_length=MAX_REASON_CHARS
                        )
                        mark_button = gr.Button("Record the verdict")
                        oversight_note = gr.HTML("")
                    examples = gr.Examples(
                        EXAMPLE_QUESTIONS,
                        inputs=question,
                        label="Example questions",
                        elem_id="ta-examples",
                    )
                    with gr.Accordion(
                        "Conversations, copy and export", open=False
                    ) as conversations_box:
                        with gr.Row():
                            copy_button = gr.Button("Copy answer as Markdown", size="sm")
                            export_md = gr.Button("Export as Markdown", size="sm")
                            export_pdf = gr.Button("Export as PDF", size="sm")
                        copy_text = gr.Textbox(visible=False)
                        export_file = gr.File(
                            label="Exported conversation", visible=False, interactive=False
                        )
                        if conversations is None:
                            gr.HTML(render.message_html(CONVERSATIONS_OFF_NOTE, "ta-note"))
                        conversation_list = gr.Dropdown(
                            label="Your conversations",
                            choices=[],
                            visible=conversations is not None,
                        )
                        with gr.Row(visible=conversations is not None):
                            open_button = gr.Button("Open", size="sm")
                            delete_button = gr.Button("Delete", size="sm", variant="stop")
                with gr.Column(scale=2):
                    sources = gr.HTML(render.sources_html(None), elem_id="sources", js_on_load=None)
                # The language the chat's words are in, for the script that sets the page's
                # direction (right to left in Arabic).
                shown_language = gr.Textbox("en", visible=False)
            # With a login, officers never see the tab: `admin_open` shows it to staff.
            with gr.Tab("Admin", id="admin", visible=not settings.auth.require_login) as admin_tab:
                admin_message = gr.HTML("", elem_id="admin-message")
                with gr.Column(visible=not settings.auth.require_login) as sign_in_box:
                    gr.HTML(render.admin_message_html(render.ADMIN_SIGN_IN_NOTE))
                    staff_name = gr.Textbox(label="Staff user name", max_lines=1)
                    staff_password = gr.Textbox(label="Password", type="password", max_lines=1)
                    sign_in = gr.Button("Sign in", variant="primary")
                with gr.Column(visible=False, elem_id="admin-tools") as tools:
                    with gr.Row():
                        who = gr.HTML("")
                        sign_out = gr.Button(
                            "Sign out", size="sm", visible=not settings.auth.require_login
                        )
                    status = gr.HTML("", elem_id="admin-status")
                    reload = gr.Button("Reload the status", size="sm")
                    with gr.Row(equal_height=False):
                        with gr.Column():
                            upload_file = gr.File(
                                label="Add a document: PDF, Markdown, HTML or plain text "
                                f"(up to {settings.ingest.max_file_mb:g} MB)",
                                file_count="single",
                                type="filepath",
                            )
                            replace = gr.Checkbox(
                                label="Replace a document of the same name (a new version)"
                            )
                            upload_title = gr.Textbox(
                                label="Title shown in citations (empty: the file's own)",
                                max_lines=1,
                                max_length=200,
                            )
                            upload_version = gr.Textbox(
                                label="Version or edition", max_lines=1, max_length=60
                            )
                            upload_button = gr.Button("Add to the corpus folder")
                        with gr.Column():
                            remove_choice = gr.Dropdown(
                                label="Document: edit its title and version, or remove it",
                                choices=[],
                            )
                            edit_title = gr.Textbox(label="Title", max_lines=1, max_length=200)
                            edit_version = gr.Textbox(label="Version", max_lines=1, max_length=60)
                            save_labels = gr.Button("Save title and version")
                            remove_button = gr.Button("Remove", variant="stop")
                            with gr.Column(visible=False) as confirm_box:
                                confirm_text = gr.HTML("")
                                with gr.Row():
                                    confirm_remove = gr.Button("Yes, remove", variant="stop")
                                    cancel_remove = gr.Button("Cancel")
                    refresh_button = gr.Button(
                        "Refresh the index from the corpus folder", variant="primary"
                    )
                    report = gr.HTML("", elem_id="admin-report")

        answer_io = dict(
            fn=on_question_streaming if streaming else on_question,
            inputs=[question, chat, session, browser_id],
            outputs=[question, chat, sources, session, *([stop_button] if streaming else [])],
            api_visibility="private",
            # A question asked while the last is still ending (just stopped) runs next,
            # rather than being dropped as Gradio's default ("once") would.
            trigger_mode="always_last",
            **answer_concurrency,
        )
        listed_io = dict(
            fn=conversation_choices,
            inputs=session,
            outputs=conversation_list,
            api_visibility="private",
        )
        # on_stop flags the session; its answer closes at its next step, which closes the
        # model's stream (the HTTP connection to the model's server is dropped: it stops).
        stop_button.click(on_stop, chat, chat, api_visibility="private")
        up.click(lambda s: on_vote("up", s), session, None, api_visibility="private")
        down.click(lambda s: on_vote("down", s), session, None, api_visibility="private")
        reset_io = dict(
            fn=on_new_chat,
            inputs=session,
            outputs=[chat, question, sources, session],
            api_visibility="private",
        )
        new_chat.click(**reset_io)
        chat.clear(**reset_io)  # the chat's own bin icon must forget the follow-up history too
        purpose_io = dict(
            fn=on_purpose,
            inputs=[purpose_box, session],
            outputs=[purpose_box, purpose_note, session],
            api_visibility="private",
        )
        purpose_box.submit(**purpose_io)
        purpose_button.click(**purpose_io)
        for clears in (new_chat.click, chat.clear):  # a new conversation asks for its purpose
            clears(
                lambda: (gr.update(value="", interactive=True), "", ""),
                None,
                [purpose_box, purpose_note, oversight_note],
                api_visibility="private",
            )
        mark_button.click(
            on_oversight,
            [verdict, reason, session],
            [reason, oversight_note],
            api_visibility="private",
        )

        # The chat's own words, by component: the property that holds each, and its key in
        # `language_labels`. The banner, the chat, the question box and the verdict are set
        # apart in `interface`: more than one property each.
        worded = {
            chat_tab: ("label", "chat_tab"),
            ask_button: ("value", "ask"),
            stop_button: ("value", "stop"),
            up: ("value", "helpful"),
            down: ("value", "not_helpful"),
            new_chat: ("value", "new_chat"),
            language: ("label", "language"),
            oversight_box: ("label", "oversight"),
            mark_button: ("value", "record"),
            examples.dataset: ("label", "examples"),
            conversations_box: ("label", "conversations"),
            copy_button: ("value", "copy"),
            export_md: ("value", "export_md"),
            export_pdf: ("value", "export_pdf"),
            conversation_list: ("label", "your_conversations"),
            open_button: ("value", "open"),
            delete_button: ("value", "delete"),
        }
        labelled = [*worded, banner_box, chat, question, verdict, reason, shown_language]

        def interface(target: str) -> dict:
            """The chat's own words and the banner in `target`, by component."""
            words = language_labels(target)
            right_to_left = direction(target) == "rtl"
            updates = {
                component: gr.update(**{prop: words[key]})
                for component, (prop, key) in worded.items()
            }
            return {
                **updates,
                banner_box: banner(target),
                chat: gr.update(label=words["conversation"], placeholder=words["chat_placeholder"]),
                question: gr.update(
                    label=words["question"],
                    placeholder=words["placeholder"],
                    info=words["limit"],
                    rtl=right_to_left,  # the typed text, its label and its note
                ),
                verdict: gr.update(
                    label=words["verdict"], choices=[(words[v], v) for v in VERDICTS]
                ),
                reason: gr.update(label=words["reason"], rtl=right_to_left),
                shown_language: target,
            }

        def relabelled(state: dict) -> dict:
            """The session, and the chat's words when the language they are in has changed."""
            target = shown_language_of(state)
            if target == state.get("interface", "en"):
                return {session: state}
            return {session: {**state, "interface": target}, **interface(target)}

        def on_language(value: str, state: dict) -> dict:
            """The selector: remembered for the session; the chat's words follow it."""
            return relabelled({**(state or _new_session()), "language": value})

        relabel_io = dict(
            fn=lambda s: relabelled(s or _new_session()),
            inputs=session,
            outputs=[session, *labelled],
            api_visibility="private",
        )
        direction_io = dict(fn=None, inputs=shown_language, js=_DIRECTION_JS)
        language.change(
            on_language, [language, session], [session, *labelled], api_visibility="private"
        ).then(**direction_io)
        # A clicked example is asked at once. With the selector on Auto, the chat's words
        # follow the latest answer's language.
        for asked in (question.submit, ask_button.click, examples.load_input_event.then):
            asked(**answer_io).then(**listed_io).then(**relabel_io).then(**direction_io)
        # A re-ingest can change the corpus while the app runs: refresh the banner per visit.
        app.load(banner, None, banner_box, api_visibility="private")
        shown_io = [chat, sources, session, conversation_list]
        app.load(on_page_load, browser_id, [browser_id, *shown_io], api_visibility="private")
        open_button.click(on_open, [conversation_list, session], shown_io, api_visibility="private")
        delete_button.click(
            on_delete,
            [conversation_list, session],
            shown_io,
            js="(choice, session) => [confirm('Delete this conversation? It cannot be undone.') "
            "? choice : null, session]",
            api_visibility="private",
        )
        copy_button.click(on_copy, session, copy_text, api_visibility="private").then(
            None, copy_text, None, js=_COPY_JS, api_visibility="private"
        )
        export_md.click(
            lambda s: on_export("md", s), session, export_file, api_visibility="private"
        )
        export_pdf.click(
            lambda s: on_export("pdf", s), session, export_file, api_visibility="private"
        )
        gr.api(ask, api_name="ask", **answer_concurrency)

        hidden = {"api_visibility": "private", **_ADMIN_CONCURRENCY}
        if settings.auth.require_login:  # without a login, the sign-in form decides
            app.load(admin_open, None, [admin_tab, tools, who, status, remove_choice], **hidden)
        sign_in_io = dict(
            fn=admin_sign_in,
            inputs=[staff_name, staff_password],
            js=_SIGN_IN_JS,
            outputs=[
                sign_in_box,
                tools,
                admin_message,
                who,
                status,
                staff_password,
                remove_choice,
            ],
            **hidden,
        )
        sign_in.click(**sign_in_io)
        staff_password.submit(**sign_in_io)
        sign_out.click(
            admin_sign_out,
            None,
            [sign_in_box, tools, admin_message, who, status, report, remove_choice],
            js=_SIGN_OUT_JS,
            **hidden,
        )
        reload.click(admin_status, None, [admin_message, status, remove_choice], **hidden)
        upload_button.click(
            admin_upload,
            [upload_file, replace, upload_title, upload_version],
            [admin_message, status, remove_choice, upload_file],
            **hidden,
        )
        remove_button.click(
            admin_ask_remove, [remove_choice], [confirm_box, confirm_text], **hidden
        )
        cancel_remove.click(lambda: gr.update(visible=False), None, confirm_box, **hidden)
        confirm_remove.click(
            admin_remove,
            [remove_choice],
            [admin_message, status, remove_choice],
            **hidden,
        ).then(lambda: gr.update(visible=False), None, confirm_box, **hidden)
        remove_choice.change(admin_labels, [remove_choice], [edit_title, edit_version], **hidden)
        save_labels.click(
            admin_save_labels,
            [remove_choice, edit_title, edit_version],
            [admin_message, status],
            **hidden,
        )
        refresh_button.click(
            admin_refresh,
            None,
            [admin_message, report, status, remove_choice, banner_box],
            show_progress_on=report,  # the bar where the report will appear, not on the banner
            **hidden,
        )
    app.toolkit_access = access  # for `launch`: its routes and guard share these sessions
    return app


# What a new chat keeps of its session: the officer's language (selected, and shown).
_LANGUAGE_KEYS = ("language", "interface", "answer_language")
# The page's language and direction follow the chat's words: Arabic is laid out right to
# left. Quoted passages keep their own direction (`dir="auto"`, render.py).
_DIRECTION_JS = """(language) => {
  const root = document.documentElement;
  root.lang = language || "en";
  root.dir = language === "ar" ? "rtl" : "ltr";
}"""
CONVERSATIONS_OFF_NOTE = (
    "Conversations are not kept on this server (audit.store_questions is false, or the "
    "retention is 0 days): a reload starts a new chat. Export a conversation to keep it."
)


def _browser_state_secret(settings: Settings) -> str:
    """BrowserState's key, derived from the install secret: the same after a restart."""
    secret = install_secret(Path(settings.auth.secret_file))
    return hashlib.sha256(b"browser-state\0" + secret).hexdigest()[:32]


def _conversation_label(title: str, updated: float, turns: int) -> str:
    when = datetime.fromtimestamp(updated).astimezone().strftime("%d %b %H:%M")
    return f"{title} \u00b7 {when} \u00b7 {turns} question{'s' if turns != 1 else ''}"


def _chat_of(answers: list[Answer]) -> list[dict]:
    chat: list[dict] = []
    for answer in answers:
        chat.append({"role": "user", "content": render.message_html(answer.question)})
        chat.append(_bot(render.answer_html(answer)))
    return chat[-MAX_CHAT_MESSAGES:]


def _recent(chat: list | None) -> list:
    return list(chat or [])[-MAX_CHAT_MESSAGES:]


def _checked_history(history: object, limit: int) -> list[str]:
    """The `ask` API's follow-up history, refused (one line) unless it is small and plain."""
    if history is None:
        return []
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise gr.Error("history must be a list of earlier questions (strings)")
    if len(history) > limit:
        raise gr.Error(f"history holds {len(history)} questions; send at most the last {limit}")
    if any(len(h) > MAX_QUESTION_CHARS for h in history):
        raise gr.Error(f"each earlier question must be at most {MAX_QUESTION_CHARS:,} characters")
    return history


def _checked_purpose(request: gr.Request | None, required: bool) -> str | None:
    """The `ask` API's purpose, from the `X-Purpose` header (UTF-8 may be percent-encoded):
    each call is a conversation of its own, so it comes with each."""
    headers = getattr(request, "headers", None) or {}
    sent = headers.get(PURPOSE_HEADER, "")[: MAX_PURPOSE_CHARS * 12]  # 12: %XX per byte, 4 bytes
    purpose = " ".join(unquote(sent).split())
    if len(purpose) > MAX_PURPOSE_CHARS:
        limit = f"at most {MAX_PURPOSE_CHARS} characters"
        raise gr.Error(f"the {PURPOSE_HEADER} header must be {limit}")
    if required and not purpose:
        raise gr.Error(
            f"this installation records why each question is asked: send the {PURPOSE_HEADER} "
            "header (a case reference or the purpose) with the question"
        )
    return purpose or None


def _empty(question: str | None) -> bool:
    """An empty question gets a hint, and no bubble in the chat (the page stays as it was)."""
    if (question or "").strip():
        return False
    gr.Info(render.EMPTY_QUESTION_HINT)
    return True


def _bot(content: str) -> dict:
    return {"role": "assistant", "content": content}


def launch(app: gr.Blocks, assistant: Assistant, settings: Settings, block: bool = True) -> str:
    """Start the server on `settings.app.host:port`; return its local URL."""
    access: WebAccess = app.toolkit_access
    auth = None
    if settings.auth.require_login:

        async def auth(name: str, password: str) -> bool:  # any role may chat; admin: staff
            address = CLIENT_ADDRESS.get()
            access.refuse_if_throttled(name, address)
            # A bcrypt check takes a quarter of a second: off the event loop, which serves
            # every other user's page meanwhile.
            user = await asyncio.to_thread(access.users.verify, name, password)
            if user is None:
                access.failed(name, address, "login")
                return False
            await asyncio.to_thread(access.succeeded, name, address, "login")
            return True

    _, url, _ = app.launch(
        server_name=settings.app.host,
        server_port=settings.app.port,
        share=False,  # never a public tunnel: questions and documents stay on this machine
        inbrowser=False,
        show_error=False,  # errors reach officers as chat messages, tracebacks only the log
        footer_links=["api", "settings"],  # no link out to gradio.app
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        ssr_mode=False,  # no Node.js side server
        auth=auth,
        auth_message=render.LOGIN_NOTE if auth else None,
        # Gradio's upload route takes files from anyone who can reach the page: never more
        # than the admin tab would accept.
        max_file_size=int(settings.ingest.max_file_mb * 1024 * 1024),
        app_kwargs={
            # Our routes come before Gradio's, and Gradio's own file route gets no corpus path.
            "routes": [
                documents.document_route(render.DOCUMENT_ROUTE, assistant.document_path),
                viewer.viewer_route(assistant.document_path),
                viewer.static_route(),
                *staff_routes(access),
            ],
            "middleware": [guard(settings, access)],
            "openapi_url": None,  # FastAPI's own API description: nothing of ours is in it
        },
        theme=gr.themes.Default(),  # its fonts are bundled: the page fetches nothing outside
        css_paths=[CSS_FILE],
        js=APP_JS,
        prevent_thread_lock=not block,
        quiet=not block,
    )
    return url


def serve(settings: Settings) -> None:
    """Serve the page at once, warm the assistant up behind it, then serve until ^C.

    Loading the model takes most of the start-up time. The page (banner, examples) is up
    first; a question asked in those seconds waits for the model instead of failing.
    """
    set_encoder_threads(settings.app.encoder_threads)
    assistant = build_assistant(settings)
    audit = AuditLog(settings.audit)
    app = build_app(assistant, settings, Admin(settings, audit), audit)
    url = launch(app, assistant, settings, block=False)
    print(f"toolkit-assistant: page up at {url}; loading the model", flush=True)
    try:
        assistant.warm_up()
    except StoreError as err:  # the page shows it too; questions work once it is fixed
        print(f"toolkit-assistant: {err}", file=sys.stderr, flush=True)
    print(f"toolkit-assistant: ready at {url}", flush=True)
    threading.Thread(
        target=_keep_sentences_embedded,
        args=(assistant, settings.app.pre_embed_sentences),
        kwargs={"multilingual": settings.app.pre_embed_multilingual},
        name="pre-embed",
        daemon=True,
    ).start()
    app.block_thread()


def _say_embedded(count: int, generation: str, which: str, started: float) -> None:
    seconds = time.perf_counter() - started
    print(
        f"toolkit-assistant: {count} sentences of {generation} embedded{which} ahead of "
        f"questions in {seconds:.1f} s",
        flush=True,
    )


def _keep_sentences_embedded(
    assistant: Assistant,
    limit: int,
    stop: threading.Event | None = None,
    every: float = 10.0,
    multilingual: bool = True,
) -> None:
    """Beside the server: embed the corpus's sentences after start-up and after each refresh.

    A first-time question then costs one query encoding instead of about a dozen; under
    16 concurrent clients that is what keeps the queue short (bench/load.py).
    """
    stop = stop or threading.Event()
    done = done_multilingual = ""
    while limit and not stop.is_set():
        try:
            generation = assistant.generation()
            if generation != done:
                started = time.perf_counter()
                count = assistant.pre_embed_sentences(limit)
                done = generation
                _say_embedded(count, generation, "", started)
            # For e5 too, once a question not in English has come (see the method).
            if multilingual and assistant.multilingual_asked and generation != done_multilingual:
                started = time.perf_counter()
                count = assistant.pre_embed_multilingual_sentences(limit)
                done_multilingual = generation
                _say_embedded(count, generation, " for the multilingual encoder", started)
        except StoreError as err:  # the index is unreachable for now: try again later
            log.warning("sentences not pre-embedded: %s", err)
        except Exception:  # never let a helper thread take the app down
            log.exception("pre-embedding sentences failed; questions still work, only slower")
            return
        stop.wait(every)
