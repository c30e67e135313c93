"""Text cleaning shared by the loaders: de-hyphenation, running headers and footers, reflow.

Extracted PDF text comes one visual line at a time. We keep one paragraph or list item per
line, because the answerer quotes sentences and keeps lists as lists.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

# A word broken at a line end: up to 40 letters, a hyphen, the line break, a lower-case
# continuation. Bounded, and anchored at a word start, so a page that is one endless word
# costs linear time.
_HYPHEN_AT_LINE_END = re.compile(r"\b(\w{1,40})-[ \t]{0,8}\n[ \t]{0,8}([a-z]\w{0,40})")
_TOKEN = re.compile(r"[\w-]+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER_LINE = re.compile(
    r"^(page\s*)?[-\u2013(]?\s*[0-9ivxlc]{1,5}\s*[-\u2013)]?(\s*(of|/)\s*\d+)?$", re.IGNORECASE
)
LIST_MARKER = re.compile(
    r"^([-\u2022\u2023\u25e6\u2043\u2219*\u25aa\u25cf]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+"
)

# How many lines at the top and bottom of a page are candidates for running text.
_EDGE_LINES = 3


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces inside lines; drop control characters; keep line breaks."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(lines)


def join_hyphenated(pages: Sequence[str]) -> list[str]:
    """Mend words a document broke across line ends, with the document as the dictionary.

    "organi-\\nzations" is a syllable break: "organizations". "privacy-\\nenhancing" is a
    compound the PDF happened to break after its own hyphen: joined, it would quote as
    "privacyenhancing", a word the document never wrote and an officer cannot find in it.
    The document decides: the form it writes more often elsewhere wins; a pair it writes
    in neither form keeps its hyphen when both halves are words it uses ("mission-critical"),
    and is joined otherwise ("recom-mendations"). Only before a lower-case continuation, so
    "COVID-\\n19" and list dashes survive.
    """
    whole: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    for page in pages:
        for token in _TOKEN.findall(_HYPHEN_AT_LINE_END.sub(" ", page)):
            token = token.strip("-").lower()
            whole[token] += 1
            parts.update(token.split("-"))

    def mend(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        hyphenated, joined = whole[f"{head}-{tail}".lower()], whole[f"{head}{tail}".lower()]
        if hyphenated > joined or (not joined and parts[head.lower()] and parts[tail.lower()]):
            return f"{head}-{tail}"
        return head + tail

    return [_HYPHEN_AT_LINE_END.sub(mend, page) for page in pages]


def _edge_key(line: str) -> str:
    # Page numbers change from page to page; compare lines with digits masked.
    return _DIGITS.sub("#", line.lower())


def remove_running_text(pages: list[str]) -> list[str]:
    """Drop headers, footers and page numbers that repeat at the edges of many pages."""
    split_pages = [page.split("\n") for page in pages]
    counts: Counter[str] = Counter()
    for lines in split_pages:
        edges = {_edge_key(line) for line in lines[:_EDGE_LINES] + lines[-_EDGE_LINES:] if line}
        counts.update(edges)
    threshold = max(3, len(pages) // 2)
    running = {key for key, n in counts.items() if n >= threshold} if len(pages) >= 3 else set()

    cleaned = []
    for lines in split_pages:
        kept = []
        for index, line in enumerate(lines):
            at_edge = index < _EDGE_LINES or index >= len(lines) - _EDGE_LINES
            if at_edge and (_edge_key(line) in running or _PAGE_NUMBER_LINE.match(line)):
                continue
            kept.append(line)
        cleaned.append("\n".join(kept))
    return cleaned


def reflow(lines: list[str]) -> list[str]:
    """Join wrapped lines into paragraphs; list items, titles and short last lines end them."""
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    previous = ""
    for line in lines:
        if not line:
            previous = ""
            continue
        joins = (
            paragraphs
            and previous
            and not LIST_MARKER.match(line)
            and _continues(previous, line, short=len(previous) < 0.6 * width)
        )
        if joins:
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        previous = line
    return paragraphs


def _continues(previous: str, line: str, short: bool) -> bool:
    """Whether `line` continues the paragraph whose last physical line is `previous`."""
    if previous.endswith(":"):
        return False
    starts_new = line[:1].isupper() or line[:1].isdigit()
    # A line that stops well short of the margin ended its paragraph or was a title.
    return not (short and starts_new)
