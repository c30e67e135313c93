"""`kill -9` during `toolkit-assistant ingest`: the store serves the old corpus or the new
one, never a mix, and the next run ends where a clean ingest would.

The base store (the "last complete index") and a clean ingest of the new corpus are built
once; each case copies the base store, starts the CLI in a subprocess, kills it with
SIGKILL after a delay, checks the store, re-runs the refresh and compares.

The new corpus is many small notes rather than large PDFs: re-running after a kill
re-embeds every changed document, and small chunks keep the cases inside a few minutes
while the run still spends seconds loading, encoding and writing to Chroma.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from paths import REPO
from pdf_factory import handbook_pdf, write
from store_helpers import (
    Snapshot,
    kill_moments,
    processes_in_group,
    snapshot,
    wait_for,
    write_policy_notes,
)

from ingest.refresh import KEYWORD_DIR, RefreshReport, refresh
from ingest.settings import Settings
from ingest.store import Store

# Kill moments are spread over a run that encodes: no vector cache (tests/conftest.py).
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("without_vector_cache")]

KILL_AT = kill_moments(20261123)  # 3 in `make test`, 10 in `make crash`


@dataclass(frozen=True)
class CrashSetup:
    new_corpus: Path
    base_store: Path
    old: Snapshot
    new: Snapshot
    full_run_seconds: float
    full_run_report: RefreshReport


def _ingest_command(corpus: Path, store: Path) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", "ingest", str(corpus), "--store", str(store)]


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def crash_setup(tmp_path_factory: pytest.TempPathFactory, without_vector_cache) -> CrashSetup:
    root = tmp_path_factory.mktemp("crash")
    old_corpus = write_policy_notes(root / "old" / "docs", range(0, 40))
    # New: 0-9 removed, 10-29 unchanged, 30-34 edited, 35-39 unchanged, 40-59 and a PDF added.
    new_corpus = write_policy_notes(root / "new" / "docs", [*range(10, 30), *range(35, 40)])
    write_policy_notes(new_corpus, range(30, 35), edition=" Second edition.")
    write_policy_notes(new_corpus, range(40, 60))
    write(new_corpus / "handbook.pdf", handbook_pdf(pages=3))

    base_store = root / "base-store"
    assert not refresh([old_corpus], Settings(store=base_store)).failed
    fresh_store = root / "fresh-store"
    assert not refresh([new_corpus], Settings(store=fresh_store)).failed
    old, new = snapshot(base_store), snapshot(fresh_store)
    assert not old.same_content(new)

    # One uninterrupted run over a copy of the base: how long a run takes, and what it does.
    full_store = Path(shutil.copytree(base_store, root / "full-run-store"))
    started = time.monotonic()
    completed = subprocess.run(
        _ingest_command(new_corpus, full_store),
        cwd=REPO,
        env=_subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    seconds = time.monotonic() - started
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert snapshot(full_store).same_content(new)
    report = refresh([new_corpus], Settings(store=full_store))
    assert report.chunks_embedded == 0
    expected = RefreshReport(
        added=["handbook.pdf", *[f"note-{n:03d}.md" for n in range(40, 60)]],
        updated=[f"note-{n:03d}.md" for n in range(30, 35)],
        removed=[f"note-{n:03d}.md" for n in range(0, 10)],
    )
    return CrashSetup(new_corpus, base_store, old, new, seconds, expected)


@pytest.mark.parametrize("fraction", KILL_AT, ids=[f"kill-at-{f:.0%}" for f in KILL_AT])
def test_kill_9_leaves_the_old_or_the_new_corpus_and_the_rerun_matches_a_clean_ingest(
    crash_setup: CrashSetup, tmp_path: Path, fraction: float
) -> None:
    store = Path(shutil.copytree(crash_setup.base_store, tmp_path / "store"))
    log = tmp_path / "ingest.log"
    with log.open("wb") as output:
        run = subprocess.Popen(
            _ingest_command(crash_setup.new_corpus, store),
            cwd=REPO,
            env=_subprocess_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the readers it spawns are in it
        )
    try:
        time.sleep(fraction * crash_setup.full_run_seconds)
        run.kill()  # SIGKILL: no cleanup handlers, no lock release, no flush
        run.wait(timeout=60)
        # Issue 14: no process of ours remains (a reader blocked on a pipe would).
        group = run.pid
        wait_for(lambda: not processes_in_group(group), 60, "the readers to exit")
    finally:
        run.kill()
        run.wait(timeout=60)
        for pid in processes_in_group(run.pid):  # leave nothing behind when the test fails
            os.kill(pid, signal.SIGKILL)
    assert run.returncode in (-9, 0), log.read_text()[-3000:]

    # Readable, and exactly one of the two corpora.
    after_kill = snapshot(store)
    is_old, is_new = (
        after_kill.same_content(crash_setup.old),
        after_kill.same_content(crash_setup.new),
    )
    assert is_old or is_new, "the store holds a mix of the old and the new corpus"
    if run.returncode == 0:
        assert is_new

    # The next run finishes the job; it equals a clean ingest into a fresh store.
    report = refresh([crash_setup.new_corpus], Settings(store=store))
    assert not report.failed
    if is_new:
        assert report.chunks_embedded == 0
    else:
        expected = crash_setup.full_run_report
        assert (report.added, report.updated, report.removed) == (
            expected.added,
            expected.updated,
            expected.removed,
        )
    final = snapshot(store)
    assert final.same_content(crash_setup.new)

    # Nothing half-built is left behind.
    generations = Store(store).generations()
    assert final.generation in generations and len(generations) <= 2
    keyword_dirs = {p.name for p in (store / KEYWORD_DIR).iterdir()}
    assert keyword_dirs <= set(generations)
