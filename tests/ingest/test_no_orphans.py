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
from pathlib import Path

from paths import REPO
from pdf_factory import shared_stream_pdf, write
from store_helpers import processes_in_group, wait_for

from ingest.loaders.pdf import PARALLEL_FROM_PAGES


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
        readers = wait_for(
            lambda: (
                [
                    pid
                    for pid, command in processes_in_group(pgid).items()
                    if "spawn_main" in command and pid != run.pid
                ]
                if sum("spawn_main" in c for c in processes_in_group(pgid).values()) >= 2
                else None
            ),
            300,
            "the reader and the PDF's second-half reader to run",
        )
        assert run.poll() is None, (tmp_path / "ingest.log").read_text()[-2000:]
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        wait_for(lambda: not processes_in_group(pgid), 60, f"the readers {readers} to exit")
    finally:
        for pid in processes_in_group(pgid):  # leave nothing behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
