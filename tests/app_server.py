"""`toolkit-assistant serve` started as officers start it, for the tests that need the real app.

A module of its own (not a conftest): the web tests' folder has a conftest of its own, so
`from conftest import ...` there would find that one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from app_calls import free_port

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
STARTUP_SECONDS = 240  # the model loads and the assistant warms up before the port opens


@dataclass(frozen=True)
class AppServer:
    url: str
    feedback_file: Path
    log: Path
    audit_file: Path


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


def serve_app(store: Path, folder: Path, **extra_env: str) -> Iterator[AppServer]:
    """`toolkit-assistant serve` on a free loopback port, with state under `folder`."""
    port = free_port()
    env = {
        **os.environ,
        "TOOLKIT_ASSISTANT_STORE": str(store),
        "TOOLKIT_ASSISTANT_CORPUS": str(CORPUS),
        "TOOLKIT_ASSISTANT_APP__FEEDBACK_FILE": str(folder / "feedback.jsonl"),
        # The app's own users and audit trail: never those of the test that started it.
        "TOOLKIT_ASSISTANT_AUTH__USERS_FILE": str(folder / "users.json"),
        "TOOLKIT_ASSISTANT_AUTH__REQUIRE_LOGIN": "false",
        "TOOLKIT_ASSISTANT_AUDIT__FILE": str(folder / "audit.jsonl"),
        "TOOLKIT_ASSISTANT_AUTH__SECRET_FILE": str(folder / "install-secret"),
        "TOOLKIT_ASSISTANT_CONFIG": str(folder / "no-config.toml"),
        **extra_env,
    }
    log = folder / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield AppServer(url, folder / "feedback.jsonl", log, folder / "audit.jsonl")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
