"""Talking to a running app over HTTP as any client can: a free port, a login, a named call."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field

import httpx

CALL_TIMEOUT_SECONDS = 300  # a guard against a hung app, not a performance figure


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_in(client: httpx.Client, url: str, name: str, password: str) -> None:
    """Gradio's login form: the client keeps the session cookie."""
    response = client.post(url + "login", data={"username": name, "password": password})
    assert response.status_code == 200 and response.json()["success"], response.text


@dataclass
class Outcome:
    status: int
    data: list | None = None  # the handler's outputs when it ran
    error: str = ""
    progress: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return json.dumps(self.data)


def start_call(client: httpx.Client, url: str, api_name: str, data: list) -> httpx.Response:
    """Queue a handler by name (`/gradio_api/call/<name>`); it runs whether or not anyone
    reads the result."""
    return client.post(url + f"gradio_api/call/{api_name}", json={"data": data})


def call(client: httpx.Client, url: str, api_name: str, data: list) -> Outcome:
    """Run a handler by name through `/gradio_api/call` and wait for its result."""
    response = start_call(client, url, api_name, data)
    if response.status_code != 200:
        return Outcome(response.status_code, error=response.text)
    event = response.json()["event_id"]
    body = client.get(
        url + f"gradio_api/call/{api_name}/{event}", timeout=CALL_TIMEOUT_SECONDS
    ).text
    kind = next(line for line in body.splitlines() if line.startswith("event:"))
    payload = next(line for line in body.splitlines() if line.startswith("data:"))[5:]
    if kind.strip() == "event: complete":
        return Outcome(200, data=json.loads(payload))
    return Outcome(200, error=payload)
