"""Questions while the app reads hostile documents: prints figures, asserts nothing.

    python bench/hostile_load.py [--markdown emphasis-runs.md] [--html nested-divs.html]

Issue 14, finding 1: a 60 KB Markdown file froze every route of the app for 22 s, once on
upload and once on refresh. Loaders are now linear-time and run in a spawned child under
a time budget (ingest/worker.py), so the server keeps answering.

Starts the app as `make run` does on a small corpus of policy notes, with a staff account,
and measures `/ask` latency (through Gradio's REST API, one question after another) three
times: idle, while staff upload a 1 MB hostile Markdown file and a 1 MB nested HTML file
from the admin tab (the upload check reads each), and while a refresh loads both into the
index. For each phase: how many questions were answered, p50 and max latency, and how long
the admin action took with what it reported.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common import REPO, bench_parser, free_port, start_app, stop_app
from load import RawClient, wait_until_answering

sys.path.insert(1, str(REPO / "tests"))
from app_calls import call  # noqa: E402
from hostile_files import hostile_html, hostile_markdown  # noqa: E402
from store_helpers import write_policy_notes  # noqa: E402

from assistant.access.auth import UserStore  # noqa: E402

QUESTION = "How does unit 3 use analytics software?"
STAFF, PASSWORD = "bench-staff", "bench staff password"


def _asking(url: str, until: threading.Event, latencies: list[float]) -> None:
    client = RawClient(url)
    while not until.is_set():
        started = time.perf_counter()
        client.ask(QUESTION, None)
        latencies.append(time.perf_counter() - started)


def _phase(name: str, url: str, action) -> None:
    """`/ask` in a loop while `action()` runs (at least 10 questions when it is None)."""
    latencies: list[float] = []
    done = threading.Event()
    asker = threading.Thread(target=_asking, args=(url, done, latencies))
    asker.start()
    started = time.perf_counter()
    outcome = ""
    if action is None:
        while len(latencies) < 10:
            time.sleep(0.05)
    else:
        outcome = action()
    seconds = time.perf_counter() - started
    done.set()
    asker.join()
    p50, worst = statistics.median(latencies), max(latencies)
    print(f"{name:<34} {len(latencies):>4} asked  p50 {p50:5.2f} s  max {worst:5.2f} s", end="")
    print(f"  ({seconds:.1f} s){'  ' + outcome if outcome else ''}")


def _text(outcome, limit: int = 110) -> str:
    """The admin tab's message (or report), without its HTML, cut short."""
    if not outcome.data:
        return outcome.error[:limit]
    shown = next((d for d in outcome.data if isinstance(d, str) and d.strip()), "")
    return " ".join(re.sub(r"<[^>]+>", " ", shown).split())[:limit]


def main() -> None:
    parser = bench_parser(__doc__, store=False)
    parser.add_argument("--markdown", default="emphasis-runs.md", help="tests/hostile_files.py")
    parser.add_argument("--html", default="nested-divs.html", help="tests/hostile_files.py")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-hostile-load-"))
    corpus = write_policy_notes(folder / "corpus", range(1, 9))
    hostile = {
        args.markdown: hostile_markdown()[args.markdown],
        args.html: hostile_html()[args.html],
    }
    users = folder / "users.json"
    UserStore(users, rounds=4).add(STAFF, PASSWORD, "staff")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {"TOOLKIT_ASSISTANT_AUTH__USERS_FILE": str(users)}
    process = start_app(folder / "store", corpus, port, folder / "serve.log", env)
    staff = httpx.Client(timeout=600)
    try:
        wait_until_answering(url, process, folder / "serve.log")
        signed = staff.post(url + "staff/sign-in", data={"name": STAFF, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        sizes = ", ".join(f"{name} {len(text) / 1e6:.1f} MB" for name, text in hostile.items())
        print(f"hostile files: {sizes}\n")
        _phase("idle", url, None)

        def upload() -> str:
            said = []
            for name, text in hostile.items():
                posted = staff.post(url + "gradio_api/upload", files={"files": (name, text)})
                file = {"path": posted.json()[0], "orig_name": name}
                file["meta"] = {"_type": "gradio.FileData"}
                # The file, replace, title and version (empty: from the document).
                outcome = call(staff, url, "admin_upload", [file, False, "", ""])
                said.append(f"\n{' ' * 36}{name}: {_text(outcome)}")
            return "".join(said)

        _phase("while both are uploaded (checked)", url, upload)

        def refresh() -> str:
            # What the upload check refused, staff may still copy into the folder by hand.
            for name, text in hostile.items():
                if not (corpus / name).exists():
                    (corpus / name).write_text(text, encoding="utf-8")
            report = call(staff, url, "admin_refresh", [])
            failed = re.findall(r"<li>(.*?)</li>", report.data[1] if report.data else "")
            failed = [re.sub(r"<[^>]+>", "", f)[:110] for f in failed]
            return _text(report, 80) + "".join(f"\n{' ' * 36}{f}" for f in failed)

        _phase("while a refresh loads both", url, refresh)
    finally:
        staff.close()
        stop_app(process)


if __name__ == "__main__":
    main()
