"""A small OpenAI-compatible chat server on loopback that serves the real local model.

What it is: FastAPI (already installed with Gradio) answering `POST /v1/chat/completions`,
streamed (server-sent events) or not, with `LocalChatModel`, the same SmolLM2-135M that
the `local` backend runs. The `openai` backend's test sends real HTTP through
`ChatOpenAI` and the `openai` client to it. It is not vLLM or llama.cpp's server (neither
installs here within the CI budget); it speaks the subset of the protocol they share.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from app_calls import free_port
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from langchain_core.messages import convert_to_messages

from assistant.local_llm import LocalChatModel

MODEL_NAME = "smollm2-135m-instruct"


@dataclass
class ServerLog:
    requests: list[dict] = field(default_factory=list)


def _chunk(request_id: str, delta: dict, finish: str | None = None) -> str:
    body = {
        "id": request_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_NAME,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def build_server(log: ServerLog) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def completions(request: Request):
        body = await request.json()
        log.requests.append(body)
        tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 140
        model = LocalChatModel(max_tokens=int(tokens))
        messages = convert_to_messages(body["messages"])
        request_id = f"chatcmpl-{uuid.uuid4().hex}"
        if not body.get("stream"):
            text = model.invoke(messages).text
            return JSONResponse(
                {
                    "id": request_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": MODEL_NAME,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                }
            )

        def events() -> Iterator[str]:  # a plain generator: Starlette runs it in a thread
            yield _chunk(request_id, {"role": "assistant", "content": ""})
            for piece in model.stream(messages):
                yield _chunk(request_id, {"content": piece.text})
            yield _chunk(request_id, {}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@contextmanager
def running_server() -> Iterator[tuple[str, ServerLog]]:
    """(base URL ending in /v1, request log); stopped on exit."""
    log = ServerLog()
    port = free_port()
    config = uvicorn.Config(build_server(log), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="openai-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/v1", log
    finally:
        server.should_exit = True
        thread.join(timeout=30)
