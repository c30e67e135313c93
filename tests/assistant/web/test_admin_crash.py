"""`kill -9` of the app during a refresh started from the admin tab, at moments spread over it.

The app runs `serve` in its own process with a login, and a staff member starts Refresh
through the admin tab's handler over HTTP. The server is killed with SIGKILL part-way,
then the test checks that the store is exactly the old corpus or the new one (readable, no
duplicates, no mix), starts the app again, asks a question, and refreshes to the end from
the admin tab: the store must then equal a clean ingest of the corpus folder.

The cases form one chain, so each kill costs one server start: the app started after
kill N answers, finishes kill N's refresh, and is the one killed in case N+1, whose corpus
folder switches back to the other corpus. `forked_serve.py` starts each server by forking a
process that has already imported the app (see its docstring); the CLI refresh has its own
kill test, tests/ingest/test_crash_safety.py.

A last case kills the app while a refresh reads a slow PDF in two spawned readers, and
checks that every process of the app's tree (and of its process group) ends with it
(issue 14, finding 10; `ingest` has the same check in tests/ingest/test_no_orphans.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
from app_calls import call, free_port, log_in, start_call
from paths import REPO
from pdf_factory import shared_stream_pdf, write
from store_helpers import Snapshot, kill_moments, snapshot, wait_for, write_policy_notes

from assistant.access.audit import AuditLog
from assistant.access.auth import UserStore
from ingest.loaders.pdf import PARALLEL_FROM_PAGES
from ingest.refresh import KEYWORD_DIR, refresh
from ingest.settings import Settings
from ingest.store import Store

# Kill moments are spread over a run that encodes: no vector cache (tests/conftest.py).
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("without_vector_cache")]

KILL_AT = kill_moments(20261124)  # 3 in `make test`, 10 in `make crash`
PASSWORD = "correct horse battery"
QUESTION = "How does unit 5 use analytics software?"
# Hang guards only: a server that never comes up or never dies fails the test.
UP_WITHIN_SECONDS = 120
GONE_WITHIN_SECONDS = 30
FORKED_SERVE = Path(__file__).with_name("forked_serve.py")


def _corpus_a(folder: Path) -> Path:
    return write_policy_notes(folder, range(0, 12))


def _corpus_b(folder: Path) -> Path:
    """From A: notes 0-3 removed, 4-9 unchanged, 10-11 edited, 12-17 added."""
    write_policy_notes(folder, range(4, 10))
    write_policy_notes(folder, range(10, 12), edition=" Second edition.")
    return write_policy_notes(folder, range(12, 18))


def _switch_corpus(folder: Path, make) -> None:
    """Make the corpus folder hold exactly the files `make` writes (as staff would by hand)."""
    for path in folder.iterdir():
        path.unlink()
    make(folder)


class Zygote:
    """`forked_serve.py`: one import, then one forked `serve` per `start`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, str(FORKED_SERVE)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("ab"),
            text=True,
        )
        self._expect("ready")

    def _expect(self, what: str | None = None) -> str:
        line = self.process.stdout.readline().strip()
        if not line or (what and line != what):
            pytest.fail(f"forked_serve.py said {line!r}:\n{self.log.read_text()[-3000:]}")
        return line

    def start(self, port: int, log: Path) -> int:
        self.process.stdin.write(f"{port} {log}\n")
        self.process.stdin.flush()
        return int(self._expect())

    def close(self) -> None:
        # It holds no store, file or child worth a clean exit, and unwinding torch's
        # imports takes seconds.
        self.process.kill()
        self.process.wait()


@dataclass
class App:
    """One forked `serve`, with a staff member's logged-in HTTP client."""

    pid: int
    url: str
    log: Path
    client: httpx.Client

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill_9(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.client.close()
        deadline = time.monotonic() + GONE_WITHIN_SECONDS
        while self.alive():
            if time.monotonic() > deadline:
                pytest.fail(f"the app {self.pid} outlived SIGKILL")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.alive():
            self.kill_9()


def _start_app(zygote: Zygote, folder: Path, number: int) -> App:
    port, log = free_port(), folder / f"serve-{number}.log"
    pid = zygote.start(port, log)
    url = f"http://127.0.0.1:{port}/"
    client = httpx.Client(timeout=30)
    app = App(pid, url, log, client)
    deadline = time.monotonic() + UP_WITHIN_SECONDS
    # "ready" comes after the model and the index have loaded and a first question was
    # answered: a refresh started then runs alone, so the kill moments fall where planned.
    while "toolkit-assistant: ready at" not in (log.read_text() if log.exists() else ""):
        if not app.alive() or time.monotonic() > deadline:
            app.stop()
            pytest.fail(f"the app did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    log_in(client, url, "sam", PASSWORD)
    return app


def _refresh_to_the_end(app: App) -> str:
    """The refresh report as the page shows it."""
    outcome = call(app.client, app.url, "admin_refresh", [None])
    assert outcome.status == 200 and outcome.data, outcome.error or app.log.read_text()[-3000:]
    return outcome.text


def _assert_clean(store: Path, expected: Snapshot) -> None:
    """The store equals a clean ingest, and nothing half-built is left beside it."""
    final = snapshot(store)
    assert final.same_content(expected)
    generations = Store(store).generations()
    assert final.generation in generations and len(generations) <= 2
    assert {p.name for p in (store / KEYWORD_DIR).iterdir()} <= set(generations)


@pytest.fixture
def zygote(tmp_path: Path) -> Iterator[tuple[Zygote, Path, Settings]]:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    settings = Settings(
        store=store,
        corpus=corpus,
        auth={"users_file": tmp_path / "users.json", "require_login": True},
        audit={"file": tmp_path / "audit.jsonl"},
    )
    UserStore(settings.auth.users_file, rounds=4).add("sam", PASSWORD, "staff")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "TOOLKIT_ASSISTANT_STORE": str(store),
        "TOOLKIT_ASSISTANT_CORPUS": str(corpus),
        "TOOLKIT_ASSISTANT_AUTH__USERS_FILE": str(settings.auth.users_file),
        "TOOLKIT_ASSISTANT_AUTH__REQUIRE_LOGIN": "true",
        "TOOLKIT_ASSISTANT_AUDIT__FILE": str(settings.audit.file),
        "TOOLKIT_ASSISTANT_APP__FEEDBACK_FILE": str(tmp_path / "feedback.jsonl"),
        "TOOLKIT_ASSISTANT_CONFIG": str(tmp_path / "no-config.toml"),
    }
    forks = Zygote(env, tmp_path / "forked-serve.log")
    try:
        yield forks, tmp_path, settings
    finally:
        forks.close()


def test_kill_9_during_an_admin_refresh_leaves_the_old_or_the_new_corpus(
    zygote: tuple[Zygote, Path, Settings],
) -> None:
    forks, folder, settings = zygote
    # Clean ingests of both corpora: what the store must equal after a finished refresh.
    clean = {}
    for name, make in (("a", _corpus_a), ("b", _corpus_b)):
        docs = make(folder / f"clean-{name}" / "corpus")
        assert not refresh([docs], Settings(store=folder / f"clean-{name}" / "store")).failed
        clean[name] = snapshot(folder / f"clean-{name}" / "store")
    assert not clean["a"].same_content(clean["b"])
    makers = {"a": _corpus_a, "b": _corpus_b}

    # The app starts on an index of A; two full refreshes from the admin tab (to B, back to
    # A) show how long one takes, from the click to the report (the audit events and the new
    # status table come after the publish), to spread the kill moments over all of it.
    settings.corpus.mkdir()
    _corpus_a(settings.corpus)
    assert not refresh([settings.corpus], settings).failed
    app = _start_app(forks, folder, 0)
    seconds = []
    for name in ("b", "a"):
        _switch_corpus(settings.corpus, makers[name])
        started = time.monotonic()
        assert "Refresh report" in _refresh_to_the_end(app)
        seconds.append(time.monotonic() - started)
        _assert_clean(settings.store, clean[name])
    # The shorter: on a busy machine one of the two can take far longer, and kills spread
    # over a span too long would land after the publish, not during the work.
    refresh_seconds = min(seconds)

    outcomes = []
    old = "a"
    try:
        for case, fraction in enumerate(KILL_AT, start=1):
            new = "b" if old == "a" else "a"
            _switch_corpus(settings.corpus, makers[new])
            started = start_call(app.client, app.url, "admin_refresh", [None])
            assert started.status_code == 200, started.text
            time.sleep(fraction * refresh_seconds)
            app.kill_9()

            # Readable, exactly the old or the new corpus (`snapshot` also checks there are
            # no duplicate chunks and that the keyword index matches the generation).
            after_kill = snapshot(settings.store)
            is_old = after_kill.same_content(clean[old])
            is_new = after_kill.same_content(clean[new])
            assert is_old or is_new, f"case {case}: the store holds a mix of two corpora"
            current = after_kill.generation
            half_built = any(g > current for g in Store(settings.store).generations())
            outcomes.append("new" if is_new else "old, half-built" if half_built else "old")

            # A restarted app answers, from whichever corpus was published.
            app = _start_app(forks, folder, case)
            answer = call(app.client, app.url, "ask", [QUESTION, None]).data[0]
            assert not answer["refused"] and answer["citations"][0]["source"] == "note-005.md"

            # The next refresh from the admin tab ends where a clean ingest would.
            report = _refresh_to_the_end(app)
            assert "Refresh report" in report and "failed 0." in report, report
            _assert_clean(settings.store, clean[new])
            old = new
    finally:
        app.stop()
    print(f"kill -9 of the app during an admin refresh ({refresh_seconds:.1f} s):", outcomes)
    # The kills did land inside refreshes, not only before or after them.
    assert "old, half-built" in outcomes, outcomes
    # A torn line the kill left in the audit trail is skipped; the rest reads back.
    events = AuditLog(settings.audit).read()
    assert {e["user"] for e in events if e["event"] == "corpus"} == {"sam"}


# -- no process of ours outlives the app (issue 14, finding 10) ---------------------------------
def _ours(pgid: int) -> list[psutil.Process]:
    """The live processes of the app's process group (a zombie has already ended)."""
    found = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getpgid(process.pid) == pgid and process.info["status"] != "zombie":
                found.append(process)
        except (ProcessLookupError, psutil.Error):
            continue  # gone meanwhile
    return found


def _live(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _readers(app_pid: int) -> list[psutil.Process] | None:
    """The app's whole process tree once a spawned reader has spawned a reader of its own
    (the PDF's second half): the deepest tree a refresh makes."""
    try:
        tree = psutil.Process(app_pid).children(recursive=True)
        spawned = [p for p in tree if "spawn_main" in " ".join(p.cmdline())]
        nested = any(p.ppid() in {s.pid for s in spawned} for p in spawned)
    except psutil.Error:
        return None
    return tree if nested else None


def test_kill_9_during_an_admin_refresh_leaves_no_process_of_ours(
    zygote: tuple[Zygote, Path, Settings],
) -> None:
    forks, folder, settings = zygote
    _corpus_a(settings.corpus)
    assert not refresh([settings.corpus], settings).failed
    # Seconds a page to extract, and long enough that the reader splits it in two.
    write(settings.corpus / "slow.pdf", shared_stream_pdf(PARALLEL_FROM_PAGES + 2, 1.0))
    app = _start_app(forks, folder, 0)
    try:
        started = start_call(app.client, app.url, "admin_refresh", [None])
        assert started.status_code == 200, started.text
        tree = wait_for(lambda: _readers(app.pid), UP_WITHIN_SECONDS, "both PDF readers")
        assert app.alive(), app.log.read_text()[-3000:]
        before = {p.pid: " ".join(p.cmdline()) for p in tree}
        app.kill_9()
        # Every process recorded in the app's tree before the kill ends, and so does anything
        # else in its process group (started after the snapshot, or reparented meanwhile).
        gone, alive = psutil.wait_procs(tree, timeout=GONE_WITHIN_SECONDS)
        alive = [p for p in alive if _live(p)]
        assert not alive, f"outlived the app: {[before[p.pid] for p in alive]}"
        wait_for(lambda: not _ours(app.pid), GONE_WITHIN_SECONDS, "the app's process group")
    finally:
        for process in _ours(app.pid):  # leave nothing behind, even when the test fails
            process.kill()
        app.stop()
    print(f"kill -9 of the app mid-refresh: {len(before)} processes of its tree ended with it")
