"""HTML: visible text only, with headings; scripts, styles and navigation dropped.

lxml (libxml2, in C) parses, and one pass over its start and end events collects the text,
so the work grows with the size of the file and never with how deeply it nests: the
BeautifulSoup walk this replaces looked up the enclosing heading of every string, which
took 20 s on 48 KB of nested tags. libxml2 stops building the tree at 256 levels and drops
what lies deeper; a page nested that deep is refused with a message instead of being
indexed in part. The Markdown loader renders to HTML and reuses `blocks_from_html`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import lxml.etree
import lxml.html

from ingest.cleaning import normalize_whitespace
from ingest.loaders.errors import LoadError
from ingest.loaders.text import read_utf8, title_from_name
from ingest.models import Block, LoadedDocument
from ingest.structure import SECTION_SEPARATOR, is_placeholder_title

# Real pages nest a few dozen levels; libxml2 silently stops at 256.
MAX_DEPTH = 200

_INVISIBLE = {
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
    "head",
}
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


@dataclass
class _Walk:
    """What one pass over the tree found: a flat list of events, and the page's headings."""

    from_markdown: bool
    events: list[tuple[str, object]] = field(default_factory=list)
    h1s: list[str] = field(default_factory=list)
    title: str = ""


def _parse(markup: str) -> lxml.html.HtmlElement | None:
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(markup.encode("utf-8"), parser=parser)
    except lxml.etree.ParserError:  # "Document is empty"
        return None


def _walk(root: lxml.html.HtmlElement, from_markdown: bool) -> _Walk:
    walk = _Walk(from_markdown)
    hidden = 0  # > 0 inside an invisible element
    heading: tuple[int, list[str]] | None = None  # the outermost open heading, its text
    heading_depth = 0
    list_numbers: list[int | None] = []  # per open list: the next item number (ol) or None
    depth = 0
    title_parts: list[str] = []
    in_title = False

    def text(value: str | None) -> None:
        if not value:
            return
        if in_title:
            title_parts.append(value)
        if hidden:
            return
        if heading is not None:
            heading[1].append(value)
        else:
            walk.events.append(("text", value.replace("\n", " ")))

    for event, element in lxml.etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            depth += 1
            if depth > MAX_DEPTH:
                raise LoadError(
                    f"the document nests more than {MAX_DEPTH} levels deep (tags, lists or "
                    "quotes inside each other); save a flatter copy, or save it as plain text"
                )
            if tag == "title" and not walk.title:
                in_title = True
            if tag in _INVISIBLE:
                hidden += 1
            elif not hidden and tag in _HEADINGS:
                if heading is None:
                    heading = (_HEADINGS[tag], [])
                heading_depth += 1
            elif not hidden and heading is None and tag in _BLOCK_TAGS:
                marker = ""
                if tag == "li":
                    number = list_numbers[-1] if list_numbers else None
                    marker = f"{number}. " if number is not None else "- "
                    if number is not None:
                        list_numbers[-1] = number + 1
                walk.events.append(("block", marker))
            if tag == "img" and walk.from_markdown:
                text(element.get("alt"))  # Markdown's ![alt](src): the alt text is text
            if tag in {"ol", "ul"}:
                ordered = tag == "ol" and walk.from_markdown
                list_numbers.append(_first_number(element) if ordered else None)
            text(element.text)
        else:
            depth -= 1
            if tag == "title" and in_title:
                in_title = False
                walk.title = " ".join("".join(title_parts).split())
            if tag in _INVISIBLE:
                hidden -= 1
            elif not hidden and tag in _HEADINGS and heading is not None:
                heading_depth -= 1
                if heading_depth == 0:
                    level, parts = heading
                    heading_text = " ".join("".join(parts).split())
                    walk.events.append(("heading", (level, heading_text)))
                    if level == 1:
                        walk.h1s.append(heading_text)
                    heading = None
            if tag in {"ol", "ul"} and list_numbers:
                list_numbers.pop()
            text(element.tail)
    return walk


def _first_number(element) -> int | None:
    try:
        return int(element.get("start", "1"))
    except ValueError:
        return 1


def blocks_from_html(
    markup: str, fallback_title: str, *, title: str = "", from_markdown: bool = False
) -> tuple[str, list[Block]]:
    """The title and the sections of `markup`: visible text under its headings.

    `title` (from front matter, say) wins over the page's <title> and its first <h1>. With
    `from_markdown`, items of an ordered list keep their numbers ("1. ") and an image its
    alt text, as the Markdown source shows them; otherwise every item starts with "- ".
    """
    root = _parse(markup)
    if root is None:
        return title or fallback_title, []
    walk = _walk(root, from_markdown)
    first_h1 = walk.h1s[0] if walk.h1s else ""
    page_title = "" if is_placeholder_title(walk.title) else walk.title  # "about:blank"...
    title = title or page_title or first_h1 or fallback_title
    # A page with one <h1> uses it as its title; then it is not a section of itself.
    title_heading = first_h1 if len(walk.h1s) == 1 else None

    blocks: list[Block] = []
    path_stack: list[tuple[int, str]] = []
    lines: list[str] = [""]
    bare = [True]  # the last line holds no text yet, at most a list marker

    def flush() -> None:
        body = "\n".join(line for line in (normalize_whitespace(x) for x in lines) if line)
        if body:
            section = SECTION_SEPARATOR.join(t for _, t in path_stack) or title
            blocks.append(Block(text=body, page=None, section=section))
        lines[:] = [""]
        bare[0] = True

    for kind, value in walk.events:
        if kind == "text":
            lines[-1] += value
            bare[0] = bare[0] and not value.strip()
        elif kind == "block":
            if bare[0]:
                lines[-1] = value or lines[-1]  # a <p> inside an <li> stays on its line
            else:
                lines.append(value)
                bare[0] = True
        else:
            flush()
            level, text = value
            if level == 1 and text in (title, title_heading):
                continue  # the page title is not a section
            while path_stack and path_stack[-1][0] >= level:
                path_stack.pop()
            path_stack.append((level, text))
    flush()
    return title, blocks


def load_html(path: Path, source: str, sha256: str) -> LoadedDocument:
    title, blocks = blocks_from_html(read_utf8(path), title_from_name(path))
    return LoadedDocument(
        source=source,
        path=path,
        title=title,
        format="html",
        sha256=sha256,
        page_count=None,
        blocks=blocks,
    )
