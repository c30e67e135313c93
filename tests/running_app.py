"""A real app started in this process (build_app + launch) on a free port, and the ways a
client talks to it: Gradio's queue with a session hash of its choosing, uploads, and the
staff sign-in route."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from app_calls import Outcome, free_port, log_in

from assistant.access.audit import AuditLog
from assistant.access.auth import UserStore
from assistant.qa.service import Assistant
from assistant.web.app import build_app, launch
from ingest.settings import Settings

PASSWORD = "correct horse battery"


@dataclass
class RunningApp:
    url: str
    settings: Settings
    app: object
    fn_index: dict[str, int] = field(default_factory=dict)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.audit)

    def corpus(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in self.settings.corpus.rglob("*") if p.is_file()}

    def corpus_events(self) -> list[dict]:
        return [e for e in self.audit.read() if e["event"] == "corpus"]


def start_app(
    ingested: Path, folder: Path, require_login: bool, require_purpose: bool = False
) -> Iterator[RunningApp]:
    shutil.copytree(ingested / "corpus", folder / "corpus")
    shutil.copytree(ingested / "store", folder / "store")
    settings = Settings(
        store=folder / "store",
        corpus=folder / "corpus",
        app={
            "port": free_port(),
            "feedback_file": folder / "feedback.jsonl",
            "conversations_file": folder / "conversations.sqlite3",
        },
        auth={
            "users_file": folder / "users.json",
            "require_login": require_login,
            "secret_file": folder / "install-secret",
        },
        audit={"file": folder / "audit.jsonl", "require_purpose": require_purpose},
    )
    users = UserStore(settings.auth.users_file, rounds=4)
    users.add("sam", PASSWORD, "staff")
    users.add("olive", PASSWORD, "officer")
    assistant = Assistant(settings)
    app = build_app(assistant, settings)
    url = launch(app, assistant, settings, block=False)
    running = RunningApp(url, settings, app)
    with httpx.Client(timeout=30) as client:
        if require_login:
            log_in(client, url, "sam", PASSWORD)
        config = client.get(url + "config").json()
    running.fn_index = {d["api_name"]: d["id"] for d in config["dependencies"]}
    try:
        yield running
    finally:
        app.close()


class Session:
    """One browser session's worth of queue calls: the session state lives on the server."""

    def __init__(self, running: RunningApp, client: httpx.Client) -> None:
        self.running, self.client = running, client
        self.hash = uuid.uuid4().hex

    def run(self, api_name: str, data: list) -> Outcome:
        url = self.running.url
        response = self.client.post(
            url + "gradio_api/queue/join",
            json={
                "data": data,
                "fn_index": self.running.fn_index[api_name],
                "session_hash": self.hash,
                "event_data": None,
                "trigger_id": None,
            },
        )
        if response.status_code != 200:
            return Outcome(response.status_code, error=response.text)
        event = response.json()["event_id"]
        outcome = Outcome(200)
        with self.client.stream(
            "GET", url + "gradio_api/queue/data", params={"session_hash": self.hash}, timeout=300
        ) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event:
                    continue
                if message["msg"] == "progress":
                    outcome.progress += [p.get("desc") or "" for p in message["progress_data"]]
                if message["msg"] == "process_completed":
                    if message["success"]:
                        outcome.data = message["output"]["data"]
                    else:
                        outcome.error = json.dumps(message["output"])
                    return outcome
        raise AssertionError(f"{api_name}: the stream ended without a result")


def uploaded(client: httpx.Client, url: str, name: str, text: str) -> dict:
    """Put a file in Gradio's upload cache (open to anyone who can reach the page)."""
    response = client.post(url + "gradio_api/upload", files={"files": (name, text.encode())})
    assert response.status_code == 200, response.text
    return {"path": response.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def staff_sign_in(client: httpx.Client, url: str, name: str, password: str) -> httpx.Response:
    """What the page's Sign in button does first: the route that sets the staff cookie."""
    return client.post(url + "staff/sign-in", data={"name": name, "password": password})
