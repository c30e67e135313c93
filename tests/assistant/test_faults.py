"""Faults while serving: the Chroma server goes away (or stops answering) and comes back;
two refreshes start at once.

The server test runs a real `chroma run` on loopback (as tests/ingest/test_store_server.py
does) and needs to SIGKILL, freeze and restart it on the same port and folder, so it
manages the process itself. (`kill -9` during a refresh from the admin tab is
tests/assistant/web/test_admin_crash.py; of a CLI refresh, tests/ingest/test_crash_safety.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from app_calls import free_port

from assistant.qa.service import Assistant
from assistant.web.app import _answer_or_message
from ingest.refresh import RefreshInProgressError, refresh
from ingest.settings import Settings, SettingsError, load_settings
from ingest.store import Store, StoreError, StoreUnreachableError

CHROMA = Path(sys.executable).with_name("chroma")
STARTUP_SECONDS = 30
# Hang guards, not performance figures: an error must come back, not the test hang.
ERROR_WITHIN_SECONDS = 20
READ_TIMEOUT_SECONDS = 2.0  # `chroma_timeout_seconds`, shortened for the frozen case
QUESTION = "How often is the note of unit 2 reviewed?"


def _write_notes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in (1, 2, 3):
        (folder / f"note-{number:03d}.md").write_text(
            f"# Policy note {number}\n\n## Purpose\n\nNote {number} sets out how unit {number} "
            "uses analytics software.\n\n## Review\n\nThe note of unit "
            f"{number} is reviewed every {number + 1} years by the oversight board.\n",
            encoding="utf-8",
        )
    return folder


class ChromaServer:
    """A `chroma run` subprocess on a fixed loopback port and folder: start, kill, freeze."""

    def __init__(self, data: Path, port: int, log: Path) -> None:
        self.data, self.port, self.log = data, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    CHROMA,
                    "run",
                    "--path",
                    self.data,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    f"{self.port}",
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"chroma run exited: {self.log.read_text()[-2000:]}")
            try:
                Store(self.data.parent / "probe-store", self.url)
                return
            except StoreError:
                time.sleep(0.1)
        pytest.fail(f"chroma run did not answer at {self.url}: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-session, connections refused from now on."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # in case the test froze it
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ask_within(assistant: Assistant, seconds: float):
    """(answer or the exception raised, seconds taken); fails the test if `ask` hangs."""
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["result"] = assistant.ask(QUESTION)
        except Exception as err:  # the test inspects what was raised
            outcome["result"] = err
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"ask did not return within {seconds} s: it hangs on the store")
    return outcome["result"], outcome["seconds"]


def _assert_clear_store_error(result: object, url: str) -> None:
    assert isinstance(result, StoreUnreachableError), f"expected StoreError, got {result!r}"
    message = str(result)
    assert message.startswith(f"cannot reach the Chroma server at {url} ("), message
    assert "\n" not in message and "Traceback" not in message
    assert "chroma run --path" in message  # says what to do
    assert result.url == url


def _assert_officer_told_what_to_do(assistant: Assistant, url: str) -> None:
    """The chat's message: not the officer's fault, who must act, and that it recovers."""
    message = _answer_or_message(assistant, QUESTION, [])
    assert isinstance(message, str), message
    assert message.startswith("The document index cannot be reached just now"), message
    assert f"the Chroma server at {url} is running" in message
    assert "questions will work again as soon as it is" in message
    assert "re-ingest" not in message and "Traceback" not in message


def test_the_server_request_timeout_is_a_typed_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().chroma_timeout_seconds == 60.0
    monkeypatch.setenv("TOOLKIT_ASSISTANT_CHROMA_TIMEOUT_SECONDS", "2.5")
    assert load_settings().chroma_timeout_seconds == 2.5
    monkeypatch.setenv("TOOLKIT_ASSISTANT_CHROMA_TIMEOUT_SECONDS", "0")
    with pytest.raises(SettingsError, match="chroma_timeout_seconds"):
        load_settings()


@pytest.mark.integration
@pytest.mark.server
@pytest.mark.skipif(not CHROMA.is_file(), reason=f"no chroma executable next to {sys.executable}")
def test_unreachable_chroma_server_is_a_clear_error_and_the_assistant_recovers(
    tmp_path: Path,
) -> None:
    server = ChromaServer(tmp_path / "chroma-data", free_port(), tmp_path / "chroma.log")
    try:
        server.start()
        corpus = _write_notes(tmp_path / "docs")
        settings = Settings(
            chroma_url=server.url,
            # Shortened so that the frozen-server case below takes seconds.
            chroma_timeout_seconds=READ_TIMEOUT_SECONDS,
            store=tmp_path / "store",
            corpus=corpus,
        )
        assert not refresh([corpus], settings).failed
        assistant = Assistant(settings)
        answered = assistant.ask(QUESTION)
        assert not answered.refused and answered.citations[0].source == "note-002.md"

        # Killed: a question asked at once (the generation was checked under a second ago,
        # so it goes straight to the vector search) and one asked after the re-check
        # interval (it reads the registry first) both get the same one-line error.
        server.kill()
        for pause in (0.0, 1.2):
            time.sleep(pause)
            result, _ = _ask_within(assistant, ERROR_WITHIN_SECONDS)
            _assert_clear_store_error(result, server.url)
        _assert_officer_told_what_to_do(assistant, server.url)

        # Back on the same port and folder: the same Assistant answers again, no restart.
        server.start()
        again = assistant.ask(QUESTION)
        assert (again.answer, again.citations) == (answered.answer, answered.citations)

        # Frozen (SIGSTOP): connections are accepted but never answered. Without a bound
        # on the client's requests this hung for as long as the server stayed frozen.
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            result, seconds = _ask_within(assistant, ERROR_WITHIN_SECONDS)
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        _assert_clear_store_error(result, server.url)
        assert "(ReadTimeout)" in str(result)
        assert seconds >= READ_TIMEOUT_SECONDS  # it waited for the server, then gave up
        thawed = assistant.ask(QUESTION)
        assert thawed.answer == answered.answer
    finally:
        server.stop()


@pytest.mark.integration
def test_two_refreshes_at_once_the_second_is_refused_and_the_first_completes(
    tmp_path: Path,
) -> None:
    # tests/ingest/test_refresh.py holds the lock by hand; here two real refreshes overlap.
    corpus = _write_notes(tmp_path / "docs")
    settings = Settings(store=tmp_path / "store", corpus=corpus)
    inside, release = threading.Event(), threading.Event()

    def hold(stage: str, done: int, total: int) -> None:
        inside.set()  # the first refresh is past its lock and working
        assert release.wait(ERROR_WITHIN_SECONDS * 3), "the test never released the refresh"

    first: dict[str, object] = {}

    def run_first() -> None:
        try:
            first["report"] = refresh([corpus], settings, progress=hold)
        except Exception as err:  # reported by the assertion below
            first["report"] = err

    worker = threading.Thread(target=run_first, daemon=True)
    worker.start()
    try:
        assert inside.wait(120), "the first refresh never reached its first progress report"
        started = time.monotonic()
        with pytest.raises(RefreshInProgressError, match="another refresh is running on"):
            refresh([corpus], settings)
        assert time.monotonic() - started < ERROR_WITHIN_SECONDS  # refused, not queued
    finally:
        release.set()
        worker.join(120)
    report = first["report"]
    assert not isinstance(report, Exception), report
    assert report.added == ["note-001.md", "note-002.md", "note-003.md"]
    # The refused run changed nothing: the next one finds the first one's work complete.
    assert refresh([corpus], settings).unchanged == report.added
