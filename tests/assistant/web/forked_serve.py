"""`toolkit-assistant serve`, started many times in a row without paying for the imports.

Run as a script by a test: it imports the app once (gradio, torch, chromadb and
sentence-transformers take 8 to 16 s on two busy cores), then reads one line per start
from stdin, `PORT LOGFILE`, forks, and the child runs the CLI's own `serve --port PORT` with
its output in LOGFILE. It prints each child's pid on stdout. Settings come from the
environment, as for the real command.

A test that kills the server with SIGKILL at ten moments needs ten server starts; forking
from a warm parent makes each start take about a second instead of fifteen, while the
child is still a separate process running the real `serve` code from `main()` down. The
parent opens no store and loads no model before it forks, so the child owns every client,
file and thread of the app, as a freshly started process would.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys

# In this order: `ingest` sets the offline, no-telemetry environment before anything else.
PRELOAD = ["ingest", "assistant.web.app", "assistant.cli", "ingest.build", "sentence_transformers"]


def _die_with_parent() -> None:
    """A test that dies before its cleanup must not leave a server behind (Linux only)."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def _serve_in_child(port: str, log_path: str) -> None:
    """Never returns: the child ends in `os._exit` so no parent state is unwound twice."""
    status = 1
    try:
        log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        # A process group of its own: every process the app starts is in it (spawned
        # children inherit it), so a test can tell that none outlived a kill.
        os.setpgid(0, 0)
        _die_with_parent()
        status = importlib.import_module("assistant.cli").main(["serve", "--port", port])
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def main() -> None:
    for module in PRELOAD:  # gradio, chromadb, langchain, torch; the model loads in the child
        importlib.import_module(module)
    # Children are killed by the test, not waited for here: let the kernel reap them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("ready", flush=True)
    for line in sys.stdin:
        port, log_path = line.split()
        pid = os.fork()
        if pid == 0:
            _serve_in_child(port, log_path)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
