"""4 processes x 4 threads x 500 events appended at once: nothing lost, torn or reordered
within a writer, and both chains verify (issue 14, acceptance)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from paths import REPO

from assistant.access.audit import AuditLog
from ingest.settings import AuditSettings

PROCESSES, THREADS, EVENTS = 4, 4, 500

# Each writer process says "ready", waits for the word on stdin, then its threads start
# together behind a barrier: every process and thread appends at the same time.
WRITER = """
import sys, threading
from pathlib import Path
from assistant.access.audit import AuditLog
from assistant.qa.models import Answer
from ingest.settings import AuditSettings

settings = AuditSettings(file=Path(sys.argv[1]), max_bytes=200_000, keep=100)
process, threads, events = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
barrier = threading.Barrier(threads)

def write(thread):
    log = AuditLog(settings)  # as each app session may hold its own
    barrier.wait()
    for n in range(events):
        writer = f"p{process}-t{thread}"
        if n % 2:
            log.corpus_change(writer, "upload", f"{writer}-{n}.md", None, None)
        else:
            log.question(writer, Answer(f"question {n}", "-", True), latency_ms=n)

print("ready", flush=True)
sys.stdin.readline()
workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
"""


@pytest.mark.integration
def test_processes_and_threads_appending_at_once_keep_both_chains_intact(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    env = os.environ | {"PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-c", WRITER, str(path), "", str(THREADS), str(EVENTS)]
    writers = []
    for p in range(PROCESSES):
        argv[4] = str(p)
        writers.append(
            subprocess.Popen(
                list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
            )
        )
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready"
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        assert writer.wait(timeout=600) == 0

    log = AuditLog(AuditSettings(file=path, max_bytes=200_000, keep=100))
    assert len(log.questions.files()) > 1 and len(log.governance.files()) > 1  # rotated
    questions, governance = log.verify()
    assert questions.intact, questions.problem
    assert governance.intact, governance.problem
    total = PROCESSES * THREADS * EVENTS
    assert questions.events + governance.events == total
    assert questions.unreadable == governance.unreadable == 0

    lines = [json.loads(line) for p in log.files() for line in p.read_text().splitlines()]
    assert len(lines) == total  # every line whole, none lost, no checkpoint (nothing removed)
    for p in range(PROCESSES):
        for t in range(THREADS):
            writer = f"p{p}-t{t}"
            asked = [r["latency_ms"] for r in lines if r["user"] == writer and "latency_ms" in r]
            assert asked == [float(n) for n in range(0, EVENTS, 2)]  # in order, none lost
            changed = [r["source"] for r in lines if r["user"] == writer and "source" in r]
            assert changed == [f"{writer}-{n}.md" for n in range(1, EVENTS, 2)]
    for stream in (log.questions, log.governance):
        seqs = [
            json.loads(line)["seq"] for f in stream.files() for line in f.read_text().splitlines()
        ]
        assert seqs == list(range(1, len(seqs) + 1))
