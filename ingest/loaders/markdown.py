"""Markdown: sections from headings, inline markup dropped.

Sections come from LangChain's MarkdownHeaderTextSplitter.
"""

from __future__ import annotations

import re
from pathlib import Path

from langchain_text_splitters import MarkdownHeaderTextSplitter

from ingest.cleaning import normalize_whitespace
from ingest.loaders.text import read_utf8, title_from_name
from ingest.models import Block, LoadedDocument
from ingest.structure import SECTION_SEPARATOR

_LEVELS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_INLINE = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links -> link text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"<[^>\n]+>"), ""),  # inline HTML is markup, not text
]


def strip_inline_markup(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def load_markdown(path: Path, source: str, sha256: str) -> LoadedDocument:
    text = read_utf8(path)
    front_title = ""
    if match := _FRONT_MATTER.match(text):
        text = text[match.end() :]
        for line in match.group(1).splitlines():
            if line.lower().startswith("title:"):
                front_title = line.split(":", 1)[1].strip().strip("\"'")
    sections = MarkdownHeaderTextSplitter(_LEVELS, strip_headers=True).split_text(text)
    h1_titles = {doc.metadata["h1"] for doc in sections if "h1" in doc.metadata}
    title = front_title or (sorted(h1_titles)[0] if h1_titles else "") or title_from_name(path)
    # A single H1 is the document title, not a section of it.
    skip_h1 = len(h1_titles) == 1
    blocks = []
    for doc in sections:
        names = [doc.metadata[key] for _, key in _LEVELS if key in doc.metadata]
        if skip_h1 and "h1" in doc.metadata:
            names = names[1:]
        body = normalize_whitespace(strip_inline_markup(doc.page_content))
        body = "\n".join(line for line in body.split("\n") if line)
        if body:
            section = SECTION_SEPARATOR.join(strip_inline_markup(n) for n in names) or title
            blocks.append(Block(text=body, page=None, section=section))
    return LoadedDocument(
        source=source,
        path=path,
        title=strip_inline_markup(title),
        format="markdown",
        sha256=sha256,
        page_count=None,
        blocks=blocks,
    )
