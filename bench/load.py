"""Load on the running app over HTTP: prints figures, asserts nothing.

    python bench/load.py [--clients 16] [--questions 20] [--client gradio|raw]

Builds (or reuses) the sample-corpus index that bench/ask.py uses, starts the app the
way `make run` does (`serve --ensure-index` on a loopback port), waits until `/ask`
answers, then runs `--clients` threads, each with its own gradio_client `Client`, each
asking `--questions` questions of the eval set in turn (client i starts at question
i x questions, so the run mixes first-time and repeated questions), all started together.

Figures: errors (and the first error messages), client-side latency p50/p95/max,
the server's own `ask` time from the answer's `timings_ms` (the rest is queueing and
HTTP), throughput, the CPU time the server and the clients used during the run (on
loopback both share this machine's cores), and the server's resident memory (VmRSS):
idle, the highest seen under load, and the process's peak (VmHWM, start-up included).

`--client raw` asks through Gradio's REST API by hand instead, the lightest client there
is: on loopback the clients share the server's cores. gradio_client runs with
`ssl_verify=False` (plain HTTP: no certificate is ever checked), which stops it loading the
CA bundle twice per request, ~60 ms of CPU.

The app runs as `make run` serves it: `app.answer_concurrency` questions at once, one
encoder thread each (`app.encoder_threads`), and the corpus's sentences embedded once it is
up; the run starts after that, and the app's log line says how long it took.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
from common import bench_parser, free_port, read_questions, rss_mb, start_app, stop_app

from ingest.refresh import refresh
from ingest.settings import Settings

READY_SECONDS = 240  # the model loads and the assistant warms up behind the page
REQUEST_SECONDS = 120  # one question, queueing included; past this it counts as an error


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_sentences_embedded(log: Path) -> float:
    """Seconds waited for the app to finish embedding the corpus's sentences (it starts once
    the page is ready): the run measures the steady state, not the app's first minute."""
    started = time.monotonic()
    while time.monotonic() - started < READY_SECONDS:
        if "embedded ahead of questions" in log.read_text(errors="replace"):
            break
        time.sleep(0.5)
    return time.monotonic() - started


def wait_until_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    from gradio_client import Client

    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"the app exited with {process.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            client = Client(url, verbose=False)
            client.predict("What are the five core principles?", api_name="/ask")
            return
        except Exception:  # not up yet: connection refused, or the page before the API
            time.sleep(0.5)
    raise SystemExit(f"/ask did not answer within {READY_SECONDS} s:\n{log.read_text()[-3000:]}")


class RawClient:
    """Gradio's REST API by hand (POST `/call/ask`, then read the event stream): a client
    far lighter than gradio_client, to show how much of the machine the clients take."""

    def __init__(self, url: str) -> None:
        self.call = f"{url}gradio_api/call/ask"

    def ask(self, question: str, history: list[str] | None) -> dict:
        body = json.dumps({"data": [question, history]}).encode()
        request = urllib.request.Request(self.call, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:
            event_id = json.load(response)["event_id"]
        event = ""
        with urllib.request.urlopen(f"{self.call}/{event_id}", timeout=REQUEST_SECONDS) as stream:
            for raw in stream:
                line = raw.decode("utf-8").strip()
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "complete":
                    return json.loads(line.removeprefix("data:"))[0]
                elif line.startswith("data:") and event == "error":
                    raise RuntimeError(f"error event: {line.removeprefix('data:').strip()}")
        raise RuntimeError("the event stream ended without a result")


class GradioClient:
    def __init__(self, url: str) -> None:
        from gradio_client import Client

        # The app is plain HTTP on loopback, so no certificate is ever checked; but
        # gradio_client builds two httpx clients per request, and with ssl_verify on each
        # loads the CA bundle: ~60 ms of CPU per question (measured), taken from the two
        # cores the server needs, for TLS that is never used. Officers' browsers do not
        # share the server's cores; these clients do.
        self.client = Client(url, verbose=False, ssl_verify=False)

    def ask(self, question: str, history: list[str] | None) -> dict:
        job = self.client.submit(question, history, api_name="/ask")
        return job.result(timeout=REQUEST_SECONDS)


def run_load(url: str, questions: list[dict], clients: int, per_client: int, kind: type) -> dict:
    sessions = [kind(url) for _ in range(clients)]  # connected before the clock starts
    start = threading.Barrier(clients + 1)
    latencies: list[float] = []
    server_ms: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client_loop(index: int) -> None:
        start.wait()
        for step in range(per_client):
            row = questions[(index * per_client + step) % len(questions)]
            started = time.perf_counter()
            try:
                answer = sessions[index].ask(row["question"], row.get("history"))
                seconds = time.perf_counter() - started
                with lock:
                    latencies.append(seconds)
                    server_ms.append(answer["timings_ms"]["total"])
            except Exception as err:  # counted and shown; the run goes on
                with lock:
                    errors.append(f"{err.__class__.__name__}: {str(err)[:160]}")

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return {
        "wall": time.perf_counter() - began,
        "latencies": latencies,
        "server_ms": server_ms,
        "errors": errors,
    }


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--questions", type=int, default=20, help="questions per client")
    parser.add_argument(
        "--client",
        choices=["gradio", "raw"],
        default="gradio",
        help="gradio_client (default), or the REST API by hand: a far lighter client",
    )
    args = parser.parse_args()

    refresh([args.corpus], Settings(store=args.store, corpus=args.corpus))
    questions = read_questions(args.set)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        log = Path(work) / "serve.log"
        process = start_app(args.store, args.corpus, port, log)
        try:
            started = time.perf_counter()
            wait_until_answering(url, process, log)
            ready = time.perf_counter() - started
            embedding_wait = wait_until_sentences_embedded(log)
            time.sleep(1)
            idle, _ = rss_mb(process.pid)

            samples: list[float] = []
            done = threading.Event()

            def sample_memory() -> None:
                while not done.wait(0.2):
                    samples.append(rss_mb(process.pid)[0])

            sampler = threading.Thread(target=sample_memory, daemon=True)
            sampler.start()
            server_cpu, client_cpu = cpu_seconds(process.pid), time.process_time()
            kind = GradioClient if args.client == "gradio" else RawClient
            result = run_load(url, questions, args.clients, args.questions, kind)
            server_cpu = cpu_seconds(process.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            done.set()
            sampler.join()
            _, peak = rss_mb(process.pid)
        finally:
            stop_app(process)

    latencies = np.array(result["latencies"]) * 1000
    server = np.array(result["server_ms"])
    total = args.clients * args.questions
    print(
        f"app: `serve --ensure-index` on {url}, answering {ready:.0f} s after start, "
        f"corpus sentences embedded {embedding_wait:.0f} s later"
    )
    print(
        f"load: {args.clients} clients x {args.questions} questions of {args.set.name} "
        f"= {total} requests over loopback HTTP, "
        f"{'gradio_client' if args.client == 'gradio' else 'REST API by hand (urllib)'}"
    )
    print(f"  errors            {len(result['errors'])} of {total}")
    for message in sorted(set(result["errors"]))[:3]:
        print(f"    {message}")
    if len(latencies):
        print(
            f"  latency (client)  p50 {np.percentile(latencies, 50):7.0f} ms   "
            f"p95 {np.percentile(latencies, 95):7.0f} ms   max {latencies.max():7.0f} ms"
        )
        print(
            f"  ask (server)      p50 {np.percentile(server, 50):7.0f} ms   "
            f"p95 {np.percentile(server, 95):7.0f} ms   max {server.max():7.0f} ms"
        )
    print(
        f"  throughput        {len(latencies) / result['wall']:.1f} answers/s "
        f"over {result['wall']:.1f} s"
    )
    print(
        f"  CPU over the run  server {server_cpu:.1f} s, the {args.clients} clients (this "
        f"process) {client_cpu:.1f} s, of {result['wall'] * (os.cpu_count() or 1):.1f} s "
        f"on {os.cpu_count()} CPUs"
    )
    under_load = max(samples) if samples else float("nan")
    print(
        f"server memory (RSS): idle {idle:.0f} MB, under load up to {under_load:.0f} MB, "
        f"process peak {peak:.0f} MB"
    )
    print(
        f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, "
        f"on {os.cpu_count()} CPUs: on a busy machine the figures are upper bounds"
    )


if __name__ == "__main__":
    main()
