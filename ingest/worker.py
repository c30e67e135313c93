"""Child processes for reading outsiders' files: spawned, under a time budget, gone with us.

A loader reads what a user or a document supplies, so it runs in a child process:
- The server keeps its interpreter lock and its CPU share while a file is read: a parser
  busy in-process froze every route of the app.
- A call that runs past its budget is ended by killing the child; the caller gets one
  line saying which file and what to do, and the next call starts a fresh child.
- Children are *spawned* (a fresh interpreter), never forked: the app and `ingest` run
  threads, and a fork copies locks that other threads held at that moment.
- A child ends when its parent does, even mid-parse: a thread in it waits on the
  parent's sentinel (a pipe that closes when the parent exits, `kill -9` included) and
  exits the process. A forked pool's worker left that way used to block forever on a
  pipe write, holding its memory.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("spawn")


class WorkerTimeoutError(Exception):
    """A call ran past its budget; the child was killed.

    Not a TimeoutError: that is an OSError, which `call` reads as the child dying.
    """


class WorkerDiedError(RuntimeError):
    """The child ended without an answer (killed, or out of memory)."""


def exit_with_parent() -> None:
    """In a spawned child: end this process as soon as the parent process ends.

    Also used as the initializer of a spawned `ProcessPoolExecutor`.
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(70)  # no clean-up: the parent that would read the result is gone

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _serve(connection: Connection) -> None:
    """The child's loop: run each (function, args) sent, send back (ok, result or error)."""
    exit_with_parent()
    # Started as a daemon, so that the parent ends it at exit; but a daemon may not start
    # processes, and the PDF loader starts one for long files. The flag is only checked
    # in this process, and this process ends with its parent anyway (the line above).
    multiprocessing.current_process().daemon = False
    while True:
        try:
            function, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception as err:
            reply = (False, err)
        try:
            connection.send(reply)
        except Exception as err:  # an exception or result that does not pickle
            connection.send((False, RuntimeError(f"{err.__class__.__name__}: {err}")))


class Worker:
    """One spawned child that runs module-level functions, one call at a time.

    Use as a context manager, or call `close`. Thread-safe: calls are serialised.
    """

    def __init__(self) -> None:
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: Connection | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Boot the child now rather than on the first call (it boots while we go on)."""
        with self._lock:
            self._start()

    def _start(self) -> Connection:
        if self._process is None or not self._process.is_alive():
            self._stop()
            ours, theirs = _CONTEXT.Pipe()
            process = _CONTEXT.Process(
                target=_serve, args=(theirs,), name="toolkit-assistant-reader", daemon=True
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours
        assert self._connection is not None
        return self._connection

    def call(self, seconds: float, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in the child; its exception is raised here as it was there.

        WorkerTimeoutError after `seconds` (the child is killed); WorkerDiedError when the
        child ends without answering.
        """
        with self._lock:
            connection = self._start()
            try:
                connection.send((function, args))
                ready = connection.poll(seconds)
                if not ready:
                    self._stop()
                    raise WorkerTimeoutError(f"no result after {seconds:g} s")
                ok, value = connection.recv()
            except (EOFError, OSError, BrokenPipeError):
                exit_code = self._process.exitcode if self._process else None
                self._stop()
                raise WorkerDiedError(
                    f"the reading process ended (exit code {exit_code})"
                ) from None
        if ok:
            return value
        raise value

    def _stop(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=10)
            with contextlib.suppress(ValueError):
                process.close()

    def close(self) -> None:
        """End the child (it would end by itself once we exit, but not before).

        Not under the call lock: closing while another thread waits on a call ends that
        call at once (WorkerDiedError) instead of waiting out its budget.
        """
        self._stop()
