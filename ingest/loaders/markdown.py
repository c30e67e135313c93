"""Markdown: sections from headings, inline markup dropped.

cmark-gfm (GitHub's CommonMark parser, in C) renders the file to HTML, and the HTML
loader's single pass turns that into sections. Both take time in proportion to the file:
the regular expressions this replaces took seconds on a few dozen KB of `*` or `[`, and
a pure-Python parser (markdown-it-py) took 8 to 80 s on 1 MB of such input.
"""

from __future__ import annotations

from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

from ingest.loaders.html import blocks_from_html
from ingest.loaders.text import read_utf8, title_from_name
from ingest.models import LoadedDocument

# Raw HTML is kept for its text (the HTML pass drops scripts and tags); the output is
# parsed for text only, never shown. GitHub's tag filter is left out: it would turn a
# <script> block into visible text.
_OPTIONS = Options.CMARK_OPT_UNSAFE
_EXTENSIONS = ["table", "strikethrough", "autolink"]
_FRONT_MATTER_FENCE = "---\n"


def split_front_matter(text: str) -> tuple[str, str]:
    """(title from a YAML front matter block, the text after it); ("", text) without one."""
    if not text.startswith(_FRONT_MATTER_FENCE):
        return "", text
    end = text.find("\n" + _FRONT_MATTER_FENCE, len(_FRONT_MATTER_FENCE) - 1)
    if end < 0:
        return "", text
    title = ""
    for line in text[len(_FRONT_MATTER_FENCE) : end].splitlines():
        if line.lower().startswith("title:"):
            title = line.split(":", 1)[1].strip().strip("\"'")
    return title, text[end + 1 + len(_FRONT_MATTER_FENCE) :]


def markdown_to_html(text: str) -> str:
    return cmarkgfm.markdown_to_html_with_extensions(text, _OPTIONS, _EXTENSIONS)


def load_markdown(path: Path, source: str, sha256: str) -> LoadedDocument:
    front_title, text = split_front_matter(read_utf8(path))
    title, blocks = blocks_from_html(
        markdown_to_html(text), title_from_name(path), title=front_title, from_markdown=True
    )
    return LoadedDocument(
        source=source,
        path=path,
        title=title,
        format="markdown",
        sha256=sha256,
        page_count=None,
        blocks=blocks,
    )
