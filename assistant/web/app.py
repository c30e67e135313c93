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
import contextvars
import logging
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import gradio as gr

from assistant.access.audit import AuditLog
from assistant.access.auth import AuthError, User
from assistant.access.feedback import record_feedback
from assistant.compose import build_assistant
from assistant.qa.models import Answer, Draft, Final, Retrieved
from assistant.qa.service import MAX_QUESTION_CHARS, Assistant, QuestionError
from assistant.web import documents, render
from assistant.web.access import WebAccess, guard, staff_routes
from assistant.web.admin import Admin, AdminError
from assistant.web.guard import CLIENT_ADDRESS
from assistant.web.language import AUTO, chosen, in_officer_language
from assistant.web.language import CHOICES as LANGUAGE_CHOICES
from assistant.web.language import labels as language_labels
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
# The chat keeps the latest messages only: the page sends the whole conversation back with
# each question, and the request-size limit must never cut an officer's question off.
MAX_CHAT_MESSAGES = 100
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
_PROGRESS = gr.Progress()  # Gradio finds the bar by this default; it holds no state of ours
_STAGES = {"load": ("Reading documents", "documents"), "embed": ("Embedding passages", "chunks")}


def _stopped() -> dict:
    return _bot(render.message_html(render.STOPPED_NOTE, "ta-note"))


def _new_session() -> dict:
    # Earlier questions feed follow-ups; the last answer is what the thumbs rate.
    return {"history": [], "last": None}


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
        return f"Please rephrase: {err}."
    if isinstance(err, StoreUnreachableError):
        log.error("store error: %s", err)
        return unreachable_message(err.url)
    if isinstance(err, StoreError):
        log.error("store error: %s", err)
        return f"The document index cannot be read ({err}). Ask the administrator to re-ingest."
    log.exception("answering a question failed")  # the question itself stays out of logs
    return "Something went wrong while answering; the details are in the server log."


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
    answer_concurrency = {
        "concurrency_id": "answer",
        "concurrency_limit": settings.app.answer_concurrency,
    }

    def banner() -> str:
        try:
            status = assistant.corpus_status()
        except StoreError as err:  # a damaged or empty index: the page says what to run
            return render.message_html(f"The document index cannot be used: {err}", "ta-banner")
        return render.banner_html(status.kind, len(status.documents))

    def record(result: Answer, session: dict, request: gr.Request) -> None:
        """An answer shown in the chat: audited, and remembered for follow-ups and thumbs."""
        audit.question(_user_name(request), result, result.timings_ms.get("total", 0.0))
        session["history"] = [*session["history"], result.question][-3:]
        session["last"] = result

    def on_question(question: str, chat: list, session: dict, request: gr.Request):
        session, chat = dict(session or _new_session()), _recent(chat)
        result = _answer_or_message(assistant, question, session["history"])
        if question.strip():
            chat = [*chat, {"role": "user", "content": render.message_html(question)}]
        if isinstance(result, str):
            chat.append({"role": "assistant", "content": render.message_html(result, "ta-error")})
            # Keep the typed text so the officer can fix it rather than retype it.
            return question, chat, gr.skip(), session
        record(result, session, request)
        result = in_officer_language(result, session)
        chat.append({"role": "assistant", "content": render.answer_html(result)})
        return "", chat, render.sources_html(result), session

    # Sessions whose officer pressed Stop. Stop is not a Gradio cancel: a cancelled stream
    # leaves its generator suspended (and the model writing into a socket nobody reads),
    # and the page then refuses the next question. The handler sees the flag at its next
    # step, closes the answer (which drops the model's stream) and ends normally.
    stopping: set[str] = set()

    def on_question_streaming(question: str, chat: list, session: dict, request: gr.Request):
        """The generative answerer's handler: sources at once, the draft as it is written,
        then the verified answer in its place. The question box is emptied once, when the
        sources come: what the officer types meanwhile (the next question) is kept."""
        session, chat = dict(session or _new_session()), _recent(chat)
        stopping.discard(request.session_hash)
        if question.strip():
            chat = [*chat, {"role": "user", "content": render.message_html(question)}]
        draft, result = "", None
        try:
            with closing(assistant.ask_stream(question, session["history"])) as events:
                for event in events:
                    if request.session_hash in stopping:
                        stopping.discard(request.session_hash)
                        yield gr.skip(), [*chat, _stopped()], gr.skip(), session
                        return
                    if isinstance(event, Retrieved):
                        sources_panel = render.retrieved_html(event.question, event.passages)
                        bubble = render.draft_html("")
                        yield "", [*chat, _bot(bubble)], sources_panel, session
                    elif isinstance(event, Draft):
                        draft += event.text
                        bubble = _bot(render.draft_html(draft))
                        yield gr.skip(), [*chat, bubble], gr.skip(), session
                    elif isinstance(event, Final):
                        result = event.answer
        except Exception as err:
            message = render.message_html(_message_for(err), "ta-error")
            yield question, [*chat, _bot(message)], gr.skip(), session
            return
        record(result, session, request)
        result = in_officer_language(result, session)
        answer_bubble = _bot(render.answer_html(result))
        yield gr.skip(), [*chat, answer_bubble], render.sources_html(result), session

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

    def on_new_chat():
        return [], "", render.sources_html(None), _new_session()

    def ask(
        question: str, history: list[str] | None = None, request: gr.Request | None = None
    ) -> dict:
        """Answer a question from the corpus; returns the answer JSON (`Answer.to_dict()`).

        `history` is the list of earlier questions of the conversation, for follow-ups.
        """
        history = _checked_history(history, settings.app.max_history)
        try:
            answer = assistant.ask(question, history or None)
        except (QuestionError, StoreError) as err:
            raise gr.Error(str(err)) from None
        audit.question(_user_name(request), answer, answer.timings_ms.get("total", 0.0))
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

    def admin_upload(file: str | None, replace: bool, request: gr.Request):
        user = acting_user(request)
        try:
            admin.require_staff(user)
            if not file:
                raise AdminError("choose a file to add first")
            message = admin.upload(user, Path(file), Path(file).name, replace=bool(replace))
            table, files = panel(user)
        except Exception as err:
            return refused(err), gr.skip(), gr.skip(), gr.skip()
        return render.admin_message_html(message), table, files, None

    def admin_remove(source: str | None, request: gr.Request):
        user = acting_user(request)
        try:
            message = admin.remove(user, source or "")
            table, files = panel(user)
        except Exception as err:
            return refused(err), gr.skip(), gr.skip()
        return render.admin_message_html(message), table, files

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
    with gr.Blocks(title="Toolkit Assistant", analytics_enabled=False) as app:
        session = gr.State(_new_session())
        banner_box = gr.HTML(banner())
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
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
                        placeholder="Ask about responsible AI in policing. Every answer "
                        "quotes the documents, with numbered citations.",
                    )
                    question = gr.Textbox(
                        label="Your question",
                        placeholder="Type a question and press Enter",
                        lines=1,
                        max_lines=4,
                        autofocus=True,
                    )
                    with gr.Row():
                        ask_button = gr.Button("Ask", variant="primary")
                        stop_button = gr.Button("Stop", variant="stop", visible=streaming)
                        up = gr.Button("\U0001f44d Helpful")
                        down = gr.Button("\U0001f44e Not helpful")
                        new_chat = gr.Button("New chat")
                        language = gr.Dropdown(
                            choices=LANGUAGE_CHOICES, value=AUTO, label="Language", scale=0
                        )
                    gr.Examples(EXAMPLE_QUESTIONS, inputs=question, label="Example questions")
                with gr.Column(scale=2):
                    sources = gr.HTML(render.sources_html(None), elem_id="sources", js_on_load=None)
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
                            upload_button = gr.Button("Add to the corpus folder")
                        with gr.Column():
                            remove_choice = gr.Dropdown(
                                label="Document to remove from the corpus folder", choices=[]
                            )
                            remove_button = gr.Button("Remove", variant="stop")
                    refresh_button = gr.Button(
                        "Refresh the index from the corpus folder", variant="primary"
                    )
                    report = gr.HTML("", elem_id="admin-report")

        answer_io = dict(
            fn=on_question_streaming if streaming else on_question,
            inputs=[question, chat, session],
            outputs=[question, chat, sources, session],
            api_visibility="private",
            # A question asked while the last is still ending (just stopped) runs next,
            # rather than being dropped as Gradio's default ("once") would.
            trigger_mode="always_last",
            **answer_concurrency,
        )
        question.submit(**answer_io)
        ask_button.click(**answer_io)
        # on_stop flags the session; its answer closes at its next step, which closes the
        # model's stream (the HTTP connection to the model's server is dropped: it stops).
        stop_button.click(on_stop, chat, chat, api_visibility="private")
        up.click(lambda s: on_vote("up", s), session, None, api_visibility="private")
        down.click(lambda s: on_vote("down", s), session, None, api_visibility="private")
        reset_io = dict(
            fn=on_new_chat, outputs=[chat, question, sources, session], api_visibility="private"
        )
        new_chat.click(**reset_io)
        chat.clear(**reset_io)  # the chat's own bin icon must forget the follow-up history too

        def on_language(value: str, session: dict):
            """The selector: remembered for the session; the chat's labels follow it."""
            session = {**(session or _new_session()), "language": value}
            text = language_labels(chosen(session))
            return (
                session,
                gr.update(label=text["question"]),
                gr.update(value=text["ask"]),
                gr.update(value=text["new_chat"]),
                gr.update(label=text["language"]),
            )

        language.change(
            on_language,
            [language, session],
            [session, question, ask_button, new_chat, language],
            api_visibility="private",
        )
        # A re-ingest can change the corpus while the app runs: refresh the banner per visit.
        app.load(banner, None, banner_box, api_visibility="private")
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
            [upload_file, replace],
            [admin_message, status, remove_choice, upload_file],
            **hidden,
        )
        remove_button.click(
            admin_remove,
            [remove_choice],
            [admin_message, status, remove_choice],
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
            access.throttle.succeeded(name, address)
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
                *staff_routes(access),
            ],
            "middleware": [guard(settings, access)],
            "openapi_url": None,  # FastAPI's own API description: nothing of ours is in it
        },
        theme=gr.themes.Default(),  # its fonts are bundled: the page fetches nothing outside
        css_paths=[CSS_FILE],
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
        name="pre-embed",
        daemon=True,
    ).start()
    app.block_thread()


def _keep_sentences_embedded(
    assistant: Assistant, limit: int, stop: threading.Event | None = None, every: float = 10.0
) -> None:
    """Beside the server: embed the corpus's sentences after start-up and after each refresh.

    A first-time question then costs one query encoding instead of about a dozen; under
    16 concurrent clients that is what keeps the queue short (bench/load.py).
    """
    stop = stop or threading.Event()
    done = ""
    while limit and not stop.is_set():
        try:
            generation = assistant.generation()
            if generation != done:
                started = time.perf_counter()
                count = assistant.pre_embed_sentences(limit)
                done = generation
                seconds = time.perf_counter() - started
                print(
                    f"toolkit-assistant: {count} sentences of {generation} embedded ahead of "
                    f"questions in {seconds:.1f} s",
                    flush=True,
                )
        except StoreError as err:  # the index is unreachable for now: try again later
            log.warning("sentences not pre-embedded: %s", err)
        except Exception:  # never let a helper thread take the app down
            log.exception("pre-embedding sentences failed; questions still work, only slower")
            return
        stop.wait(every)
