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
    to `output` (or nowhere). Feedback and audit go beside the output, never to the
    officers' files.
    `settings_env`: more TOOLKIT_ASSISTANT_... variables (e.g. the answerer)."""
    feedback = (output.parent if output else Path(tempfile.gettempdir())) / "bench-feedback.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "TOOLKIT_ASSISTANT_CORPUS": str(corpus),
        "TOOLKIT_ASSISTANT_APP__FEEDBACK_FILE": str(feedback),
        # Bench questions are not officers' questions: an audit trail of their own, no
        # login, and none of the deployment's toml settings.
        "TOOLKIT_ASSISTANT_AUDIT__FILE": str(feedback.with_name("bench-audit.jsonl")),
        "TOOLKIT_ASSISTANT_AUTH__REQUIRE_LOGIN": "false",
        "TOOLKIT_ASSISTANT_CONFIG": str(feedback.with_name("bench-no-config.toml")),
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


def stop_app(process: subprocess.Popen) -> None:
    """Stop an app `start_app` started: politely, then for good after 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, this one by default; NaN once it is gone."""
    fields = {"VmRSS": float("nan"), "VmHWM": float("nan")}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in fields:
                fields[name] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return fields["VmRSS"], fields["VmHWM"]
