"""The Gradio app: wires the chat, the sources panel and the `ask` API to `Assistant`.

No retrieval or answer logic lives here (that is `assistant.service`), and no HTML is built
here (that is `assistant.render`, where everything from documents and users is escaped).
This is the only module that imports gradio.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from assistant import render
from assistant.feedback import record_feedback
from assistant.models import Answer
from assistant.service import Assistant, QuestionError
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.settings import Settings
from ingest.store import StoreError

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
# Corpus HTML is shown as a document, never run: no scripts, an opaque origin, no sniffing.
_INERT_HEADERS = {"Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}


def _new_session() -> dict:
    # Earlier questions feed follow-ups; the last answer is what the thumbs rate.
    return {"history": [], "last": None}


def _answer_or_message(assistant: Assistant, question: str, history: list[str]) -> Answer | str:
    """The answer, or a message for the officer when the question cannot be answered."""
    try:
        return assistant.ask(question, history)
    except QuestionError as err:
        return f"Please rephrase: {err}."
    except StoreError as err:
        log.error("store error: %s", err)
        return f"The document index cannot be read ({err}). Ask the administrator to re-ingest."
    except Exception:  # the officer gets a sentence; the traceback goes to the server log
        log.exception("answering a question failed")  # the question itself stays out of logs
        return "Something went wrong while answering; the details are in the server log."


def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The chat UI and the `ask` endpoint; `serve` launches it."""

    def banner() -> str:
        status = assistant.corpus_status()
        return render.banner_html(status.kind, len(status.documents))

    def on_question(question: str, chat: list, session: dict):
        session, chat = dict(session or _new_session()), list(chat or [])
        result = _answer_or_message(assistant, question, session["history"])
        if question.strip():
            chat = [*chat, {"role": "user", "content": render.message_html(question)}]
        if isinstance(result, str):
            chat.append({"role": "assistant", "content": render.message_html(result, "ta-error")})
            # Keep the typed text so the officer can fix it rather than retype it.
            return question, chat, gr.skip(), session
        session["history"] = [*session["history"], result.question][-3:]
        session["last"] = result
        chat.append({"role": "assistant", "content": render.answer_html(result)})
        return "", chat, render.sources_html(result), session

    def on_vote(vote: str, session: dict) -> None:
        answer = (session or {}).get("last")
        if answer is None:
            gr.Info("Ask a question first; the thumbs rate the latest answer.")
            return
        try:
            record_feedback(settings.app.feedback_file, answer, vote)
        except OSError as err:
            log.error("feedback not saved: %s", err)
            gr.Warning("Your feedback could not be saved on this machine.")
            return
        gr.Info("Thank you: your rating of the latest answer was saved on this machine.")

    def on_new_chat():
        return [], "", render.sources_html(None), _new_session()

    def ask(question: str, history: list[str] | None = None) -> dict:
        """Answer a question from the corpus; returns the answer JSON (`Answer.to_dict()`).

        `history` is the list of earlier questions of the conversation, for follow-ups.
        """
        try:
            return assistant.ask(question, history or None).to_dict()
        except (QuestionError, StoreError) as err:
            raise gr.Error(str(err)) from None

    with gr.Blocks(title="Toolkit Assistant", analytics_enabled=False) as app:
        session = gr.State(_new_session())
        banner_box = gr.HTML(banner())
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Conversation",
                    height=560,
                    # The HTML comes escaped from render; sanitizing is a second line.
                    sanitize_html=True,
                    feedback_options=None,
                    # No "share" (it posts to Hugging Face) and no "copy": it would copy our
                    # HTML; selecting the text copies what the officer sees.
                    buttons=[],
                    placeholder="Ask about responsible AI in policing. Every answer quotes "
                    "the documents, with numbered citations.",
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
                    up = gr.Button("\U0001f44d Helpful")
                    down = gr.Button("\U0001f44e Not helpful")
                    new_chat = gr.Button("New chat")
                gr.Examples(EXAMPLE_QUESTIONS, inputs=question, label="Example questions")
            with gr.Column(scale=2):
                sources = gr.HTML(render.sources_html(None), elem_id="sources", js_on_load=None)

        answer_io = dict(
            fn=on_question,
            inputs=[question, chat, session],
            outputs=[question, chat, sources, session],
            api_visibility="private",
        )
        question.submit(**answer_io)
        ask_button.click(**answer_io)
        up.click(lambda s: on_vote("up", s), session, None, api_visibility="private")
        down.click(lambda s: on_vote("down", s), session, None, api_visibility="private")
        reset_io = dict(
            fn=on_new_chat, outputs=[chat, question, sources, session], api_visibility="private"
        )
        new_chat.click(**reset_io)
        chat.clear(**reset_io)  # the chat's own bin icon must forget the follow-up history too
        # A re-ingest can change the corpus while the app runs: refresh the banner per visit.
        app.load(banner, None, banner_box, api_visibility="private")
        gr.api(ask, api_name="ask")
    return app


def _document_route(assistant: Assistant) -> Route:
    """`/corpus/<source>`: a cited file, only from the corpus folder (`Assistant.document_path`)."""

    async def document(request: Request) -> Response:
        source = request.path_params["source"]
        path = assistant.document_path(source)
        if path is None or path.suffix.lower() not in SUPPORTED_SUFFIXES:
            return PlainTextResponse("Not a document of the corpus.", status_code=404)
        if path.suffix.lower() == ".pdf":
            return FileResponse(path, media_type="application/pdf")
        media = "text/html" if path.suffix.lower() in {".html", ".htm"} else "text/plain"
        return FileResponse(path, media_type=f"{media}; charset=utf-8", headers=_INERT_HEADERS)

    return Route(f"/{render.DOCUMENT_ROUTE}/{{source:path}}", document, methods=["GET", "HEAD"])


def launch(app: gr.Blocks, assistant: Assistant, settings: Settings, block: bool = True) -> str:
    """Start the server on `settings.app.host:port`; return its local URL."""
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
        # Our route comes before Gradio's, and Gradio's own file route gets no corpus path.
        app_kwargs={"routes": [_document_route(assistant)]},
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
    assistant = Assistant(settings)
    app = build_app(assistant, settings)
    url = launch(app, assistant, settings, block=False)
    print(f"toolkit-assistant: page up at {url}; loading the model", flush=True)
    assistant.warm_up()
    print(f"toolkit-assistant: ready at {url}", flush=True)
    app.block_thread()
