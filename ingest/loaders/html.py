"""HTML: visible text only, with headings; scripts, styles and navigation dropped."""

from __future__ import annotations

from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment, Doctype

from ingest.cleaning import normalize_whitespace
from ingest.loaders.text import read_utf8, title_from_name
from ingest.models import Block, LoadedDocument
from ingest.structure import SECTION_SEPARATOR

_INVISIBLE = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "button",
]
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCK_TAGS = {
    "p",
    "li",
    "div",
    "section",
    "article",
    "main",
    "br",
    "tr",
    "dd",
    "dt",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "table",
    "figcaption",
}


def load_html(path: Path, source: str, sha256: str) -> LoadedDocument:
    soup = BeautifulSoup(read_utf8(path), "html.parser")
    meta_title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_INVISIBLE):
        tag.decompose()
    root = soup.body or soup
    h1s = root.find_all("h1")
    first_h1 = h1s[0] if h1s else None
    # A page with one <h1> uses it as its title; then it is not a section of itself.
    title_heading = first_h1.get_text(" ", strip=True) if len(h1s) == 1 else None
    title = (
        meta_title
        or (first_h1.get_text(" ", strip=True) if first_h1 else "")
        or title_from_name(path)
    )

    blocks: list[Block] = []
    path_stack: list[tuple[int, str]] = []
    lines: list[str] = [""]

    def flush() -> None:
        body = "\n".join(line for line in (normalize_whitespace(x) for x in lines) if line)
        if body:
            section = SECTION_SEPARATOR.join(t for _, t in path_stack) or title
            blocks.append(Block(text=body, page=None, section=section))
        lines[:] = [""]

    for node in root.descendants:
        if isinstance(node, Tag):
            if node.name in _HEADINGS:
                flush()
                level = _HEADINGS[node.name]
                text = node.get_text(" ", strip=True)
                if level == 1 and text in (title, title_heading):
                    continue  # the page title is not a section
                while path_stack and path_stack[-1][0] >= level:
                    path_stack.pop()
                path_stack.append((level, text))
            elif node.name in _BLOCK_TAGS:
                marker = "- " if node.name == "li" else ""
                if lines[-1].strip() in ("", "-"):
                    lines[-1] = marker or lines[-1]  # a <p> inside an <li> stays on its line
                else:
                    lines.append(marker)
        elif (
            isinstance(node, NavigableString)
            and not isinstance(node, (Comment, Doctype))
            and node.find_parent(list(_HEADINGS)) is None
        ):
            lines[-1] += str(node).replace("\n", " ")
    flush()
    return LoadedDocument(
        source=source,
        path=path,
        title=title,
        format="html",
        sha256=sha256,
        page_count=None,
        blocks=blocks,
    )
