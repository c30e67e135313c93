"""Oversized request bodies against the served app: prints figures, asserts nothing.

    python bench/body_flood.py [--clients 8] [--mb 95]

Issue 14, finding 7: eight 95 MB `history` bodies posted at once to `/gradio_api/call/ask`,
without an account, took the server from 1.16 GB to 2.46 GB of resident memory. The app
now refuses a body past `app.max_request_kb` (default 1 MB): by its Content-Length before
reading any of it, and, when the client sends it in chunks without one, as soon as the
bytes received pass the limit.

Starts the app as `make run` does on a small corpus of policy notes, waits until `/ask`
answers, then sends `--clients` bodies of `--mb` MB at once, twice: with a Content-Length,
then chunked. For each wave: how each request ended (status, or the connection closed),
how many MB the client got to send before that, the slowest answer, and the server's
resident memory (VmRSS) before, the highest seen during the wave (sampled every 20 ms),
and after. Then one question, to show the app still answers.
"""

from __future__ import annotations

import json
import select
import socket
import sys  # noqa: E402,I001
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, bench_parser, free_port, rss_mb, start_app, stop_app
from load import RawClient, wait_until_answering

sys.path.insert(1, str(REPO / "tests"))
from store_helpers import write_policy_notes  # noqa: E402

CHUNK = b"a" * (1024 * 1024)
QUESTION = "How does unit 3 use analytics software?"


def _post(port: int, megabytes: int, declared: bool) -> tuple[str, float, float]:
    """(status line or how it ended, seconds to the answer, MB sent before the answer) of
    one oversized call: a JSON `ask` call whose history holds one string of `megabytes` MB.

    A raw socket, so that the figures show when the server answered: the body is made as
    it is sent (never held), and sending stops as soon as an answer can be read."""
    prefix = json.dumps({"data": [QUESTION, []]})[:-3].encode() + b'["'
    size = len(prefix) + megabytes * len(CHUNK) + 4
    framing = f"Content-Length: {size}" if declared else "Transfer-Encoding: chunked"
    head = (
        f"POST /gradio_api/call/ask HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
    ).encode()
    parts = [prefix, *([CHUNK] * megabytes), b'"]]}']
    sent = 0
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        try:
            sock.sendall(head)
            for part in parts:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered: stop sending
                sock.sendall(part if declared else b"%x\r\n%s\r\n" % (len(part), part))
                sent += len(part)
            else:
                if not declared:
                    sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
        except OSError as err:  # the server closed while we still sent
            answer = f"closed ({err.__class__.__name__})"
    return answer or "closed", time.perf_counter() - started, sent / 1048576


def _wave(port: int, pid: int, clients: int, megabytes: int, declared: bool) -> None:
    results: list[tuple[str, float, float]] = []
    peak = [rss_mb(pid)[0]]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], rss_mb(pid)[0])

    before = rss_mb(pid)[0]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [
        threading.Thread(target=lambda: results.append(_post(port, megabytes, declared)))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    sampler.join()
    after = rss_mb(pid)[0]
    kind = "with Content-Length" if declared else "chunked, no length"
    outcomes = sorted({r[0] for r in results})
    print(f"\n{clients} x {megabytes} MB bodies, {kind}:")
    print(f"  outcomes: {', '.join(f'{o} x{sum(r[0] == o for r in results)}' for o in outcomes)}")
    print(
        f"  slowest answer {max(r[1] for r in results):.2f} s; a client had sent at most "
        f"{max(r[2] for r in results):.1f} MB of its {megabytes} MB by then (socket buffers)"
    )
    print(
        f"  server RSS: before {before:.0f} MB, peak during {peak[0]:.0f} MB "
        f"(+{peak[0] - before:.0f}), after {after:.0f} MB (+{after - before:.0f})"
    )


def main() -> None:
    parser = bench_parser(__doc__, store=False)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--mb", type=int, default=95)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-body-flood-"))
    corpus = write_policy_notes(folder / "corpus", range(1, 9))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = start_app(folder / "store", corpus, port, output=folder / "serve.log")
    try:
        wait_until_answering(url, process, folder / "serve.log")
        print(f"app pid {process.pid}, idle RSS {rss_mb(process.pid)[0]:.0f} MB")
        for declared in (True, False):
            _wave(port, process.pid, args.clients, args.mb, declared)
        started = time.perf_counter()
        answer = RawClient(url).ask(QUESTION, None)
        cited = answer["citations"][0]["source"] if answer["citations"] else "none"
        print(f"\nafterwards one question: {time.perf_counter() - started:.2f} s, cites {cited}")
    finally:
        stop_app(process)


if __name__ == "__main__":
    main()
