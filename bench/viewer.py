"""Viewer rendering timings on hostile files: prints figures, asserts nothing.

    python bench/viewer.py

For each hostile Markdown and HTML file of tests/hostile_files.py, cut to the viewer's
limit (`MAX_RENDER_BYTES`), plus the deepest nesting and a plain text file of that size:
how long `sanitized_html` and `render_cited` take, as `/view/<source>` runs them (in a
worker thread, so the server's loop keeps serving meanwhile).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import hostile_files  # noqa: E402

from assistant.web.document_html import render_cited, sanitized_html  # noqa: E402
from assistant.web.viewer import MAX_RENDER_BYTES  # noqa: E402


def cases() -> list[tuple[str, str, str]]:
    size = MAX_RENDER_BYTES
    out = [
        ("nested divs", "<div>" * (size // 11) + "x" + "</div>" * (size // 11), "html"),
        ("markdown *[ run", "*[" * (size // 2), "markdown"),
        ("plain text", ("Lorem ipsum dolor sit amet. " * (size // 28)), "text"),
    ]
    for kind, files in (
        ("markdown", hostile_files.hostile_markdown(size)),
        ("html", hostile_files.hostile_html(size)),
    ):
        out.extend((f"{kind}: {name}", text, kind) for name, text in files.items())
    return out


def main() -> None:
    print(f"limit: {MAX_RENDER_BYTES / 1024 / 1024:.1f} MB of file")
    for name, text, kind in cases():
        started = time.perf_counter()
        html = sanitized_html(text, kind)
        sanitized = time.perf_counter()
        rendered = render_cited(html, "A section", "a quote that is not there")
        done = time.perf_counter()
        print(
            f"{name:24} {len(text) / 1024:8.0f} KB  sanitize {sanitized - started:5.2f} s  "
            f"mark {done - sanitized:5.2f} s  -> {len(rendered.body) / 1024:6.0f} KB"
        )


if __name__ == "__main__":
    main()
