"""`kill -9` of `ingest` while a long PDF is extracted leaves no process behind (issue 14,
finding 10).

The file is one whose pages share a huge content stream (seconds a page), long enough for
both reading processes to be busy: the reader `ingest` spawned and the one that reader
spawned for the PDF's second half. The test waits for both to be running, kills `ingest`,
then waits for every process of its process group to be gone; each wait is on a condition,
bounded generously, never a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from paths import REPO
from pdf_factory import shared_stream_pdf, write

from ingest.loaders.pdf import PARALLEL_FROM_PAGES


def _group(pgid: int) -> dict[int, str]:
    """pid -> command line of every live (non-zombie) process in process group `pgid`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            found[int(entry)] = command
    return found


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting {seconds:g} s for {what}")


def test_kill_9_of_ingest_during_pdf_extraction_leaves_no_process(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus / "slow.pdf", shared_stream_pdf(pages=PARALLEL_FROM_PAGES + 2, stream_mb=1.0))
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    )
    with (tmp_path / "ingest.log").open("wb") as log:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant.cli",
                "ingest",
                str(corpus),
                "--store",
                str(tmp_path / "store"),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: everything it starts is in it
        )
    pgid = run.pid
    try:
        readers = _wait_for(
            lambda: (
                [
                    pid
                    for pid, command in _group(pgid).items()
                    if "spawn_main" in command and pid != run.pid
                ]
                if sum("spawn_main" in c for c in _group(pgid).values()) >= 2
                else None
            ),
            300,
            "the reader and the PDF's second-half reader to run",
        )
        assert run.poll() is None, (tmp_path / "ingest.log").read_text()[-2000:]
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        _wait_for(lambda: not _group(pgid), 60, f"the readers {readers} to exit: {_group(pgid)}")
    finally:
        for pid in _group(pgid):  # leave nothing behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
