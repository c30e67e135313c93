"""Loader timings on hostile files: prints figures, asserts nothing.

    python bench/loaders.py

For each 1 MB hostile Markdown and HTML file (tests/hostile_files.py) and the PDF whose 30
pages share one 2 MB content stream (tests/pdf_factory.py): how long `load_document`
takes in this process, and what it gives (blocks and characters, or the one-line
refusal). Then, for the whole set read through the child process under its time budget
(as `ingest` and the admin tab read files), how long a thread of this process waits to
run meanwhile: the time the server would keep a question waiting.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from hostile_files import hostile_html, hostile_markdown  # noqa: E402
from pdf_factory import shared_stream_pdf  # noqa: E402

from ingest.loaders import LoadError, load_document, load_in_worker  # noqa: E402
from ingest.worker import Worker  # noqa: E402

PDF_BUDGET_SECONDS = 10.0


def _describe(load) -> str:
    try:
        document = load()
    except LoadError as err:
        return f"refused: {str(err)[:70]}"
    chars = sum(len(block.text) for block in document.blocks)
    return f"{len(document.blocks)} blocks, {chars:,} chars"


def _worst_wait(stop: threading.Event, waits: list[float]) -> None:
    """How late a 10 ms sleep wakes up: what a thread of the server would wait to run."""
    while not stop.is_set():
        started = time.perf_counter()
        time.sleep(0.01)
        waits.append(time.perf_counter() - started - 0.01)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-loaders-"))
    files = []
    for name, text in {**hostile_markdown(), **hostile_html()}.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        files.append(path)
    pdf = folder / "shared-stream.pdf"
    pdf.write_bytes(shared_stream_pdf())

    print(f"{'file':<26} {'KB':>6} {'seconds':>8}  result (in-process load_document)")
    for path in files:
        started = time.perf_counter()
        result = _describe(lambda p=path: load_document(p, p.name, 50))
        seconds = time.perf_counter() - started
        print(f"{path.name:<26} {path.stat().st_size // 1024:>6} {seconds:>8.2f}  {result}")

    with Worker() as worker:
        load_in_worker(worker, files[0], files[0].name, 50)  # start-up not counted
        stop, waits = threading.Event(), []
        watcher = threading.Thread(target=_worst_wait, args=(stop, waits))
        watcher.start()
        started = time.perf_counter()
        for path in files:
            _describe(lambda p=path: load_in_worker(worker, p, p.name, 50))
        all_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = _describe(
            lambda: load_in_worker(worker, pdf, pdf.name, 50, seconds=PDF_BUDGET_SECONDS)
        )
        pdf_seconds = time.perf_counter() - started
        stop.set()
        watcher.join()
    print(
        f"\nall {len(files)} text files through the reading process: {all_seconds:.2f} s; "
        f"{pdf.name} ({pdf.stat().st_size // 1024} KB) with a {PDF_BUDGET_SECONDS:g} s "
        f"budget: {pdf_seconds:.2f} s, {result}"
    )
    print(
        f"meanwhile a thread of this process waited at most {max(waits) * 1000:.0f} ms to run "
        f"(median {sorted(waits)[len(waits) // 2] * 1000:.1f} ms, {len(waits)} samples)"
    )


if __name__ == "__main__":
    main()
