"""What the benchmarks share: their index and question set, a free port, the app as
`make run` starts it.

Imported by the scripts in this folder (`python bench/NAME.py` puts the folder on the
path); it also puts the repository on the path, so that `ingest` and `assistant` import
from this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# First, even when PYTHONPATH already lists it: the script's own folder comes before it, and
# there bench/ingest.py would shadow the `ingest` package.
sys.path.insert(0, str(REPO))

BENCH_STORE = REPO / ".toolkit-assistant" / "bench-store"  # never the app's own index
SAMPLE_SET = REPO / "evals" / "sets" / "sample.jsonl"
SAMPLE_CORPUS = REPO / "corpus"


def bench_parser(doc: str, store: bool = True) -> argparse.ArgumentParser:
    """The options every benchmark takes: `--set`, `--corpus` and (with `store`) `--store`."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", type=Path, default=SAMPLE_SET, help="eval set (JSONL)")
    parser.add_argument("--corpus", type=Path, default=SAMPLE_CORPUS)
    if store:
        parser.add_argument("--store", type=Path, default=BENCH_STORE)
    return parser


def read_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(
    store: Path,
    corpus: Path,
    port: int,
    output: Path | None = None,
    settings_env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """`serve --ensure-index` on a loopback port, as `make run` starts it; its output goes
    to `output` (or nowhere). Feedback goes beside the output, never to the officers' file.
    `settings_env`: more TOOLKIT_ASSISTANT_... variables (e.g. the answerer)."""
    feedback = (output.parent if output else Path(tempfile.gettempdir())) / "bench-feedback.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "TOOLKIT_ASSISTANT_CORPUS": str(corpus),
        "TOOLKIT_ASSISTANT_APP__FEEDBACK_FILE": str(feedback),
        **(settings_env or {}),
    }
    command = [sys.executable, "-m", "assistant.cli", "serve", "--ensure-index"]
    command += ["--store", str(store), "--port", str(port)]
    if output is None:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    with output.open("wb") as log:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
