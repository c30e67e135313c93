"""Headings and heading paths for formats whose structure is only in the text (PDF, plain text)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.cleaning import reflow
from ingest.models import Block

SECTION_SEPARATOR = " > "

# "3 Principles", "3.4 Fairness", "1. Framing Risk" (the dotted form only for one number:
# "1. Identify the use case" in a numbered list is told apart by its length and full stop).
_NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(?P<title>[A-Z][^\n]{1,90})$")
_LABELLED = re.compile(
    r"^(?P<num>(?:Part|Appendix|Annex|Chapter|Section)\s+[0-9A-Z]{1,3})[:.\s]\s*(?P<title>[A-Z].{1,90})$"
)
_NUMBER_PREFIX = re.compile(r"^(\d{1,2}(\.\d{1,2}){0,3}\.?|(Part|Appendix|Annex)\s+\w{1,3}:?)\s+")


# Titles producers leave in a file's metadata that say nothing about the document.
_PLACEHOLDER_TITLES = frozenset(
    {"untitled", "title", "about:blank", "document", "new document", "no title", "none", "-"}
)
_FILE_NAME = re.compile(
    r"[^/\\]{1,200}\.(?:pdf|docx?|odt|rtf|txt|md|html?|pptx?|xlsx?|indd|pages)", re.IGNORECASE
)
_PATH_OR_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]{0,20}:|[A-Za-z]:\\|/)", re.IGNORECASE)
_WORD_PROCESSOR_PREFIX = re.compile(r"^microsoft (?:word|powerpoint|excel) - ", re.IGNORECASE)


def is_placeholder_title(title: str, file_name: str = "") -> bool:
    """Whether a metadata title says nothing: empty, "Untitled", "about:blank", a URL or
    path, or a file name (the document's own or any other: "report_v2.docx")."""
    text = " ".join(title.split())
    bare = _WORD_PROCESSOR_PREFIX.sub("", text)
    lowered = bare.lower()
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()
    return (
        not lowered
        or lowered in _PLACEHOLDER_TITLES
        or lowered.startswith("untitled")
        or bool(stem)
        and lowered in {stem, file_name.lower()}
        or bool(_FILE_NAME.fullmatch(bare))
        or bool(_PATH_OR_URL.match(bare))
    )


def first_heading(lines: list[str], matcher: HeadingMatcher) -> str:
    """The first line of `lines` that is a heading, or "" when there is none."""
    for index in range(len(lines)):
        heading, _ = _heading_at(lines, index, matcher)
        if heading is not None:
            return heading[1]
    return ""


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def numbered_heading_level(line: str) -> int | None:
    """Level of a numbered heading line ("3.4 Fairness" -> 2), or None for body text."""
    if len(line) > 100 or line.endswith((".", ",", ";")) or len(line.split()) > 14:
        return None
    match = _NUMBERED.match(line)
    if match:
        dotted_single = line[len(match["num"])] == "." and "." not in match["num"]
        # "5. Severe (5): grave or irreversible harm, such" is a numbered list item.
        if dotted_single and (
            len(match["title"].split()) > 6 or any(c in match["title"] for c in ":,;(")
        ):
            return None
        return match["num"].count(".") + 1
    if _LABELLED.match(line):
        return 1
    return None


class HeadingMatcher:
    """Recognises heading lines, from a PDF outline when there is one, else by numbering.

    Outline page numbers are unreliable in real PDFs (named destinations resolve to the
    wrong page), so outline titles are matched against the text of any page.
    """

    def __init__(self, outline: Iterable[tuple[int, str]] = ()) -> None:
        self._levels: dict[str, int] = {}
        for level, title in outline:
            for key in {_squash(title), _squash(_NUMBER_PREFIX.sub("", title))}:
                if key:
                    self._levels.setdefault(key, level)

    @property
    def uses_outline(self) -> bool:
        return bool(self._levels)

    def level(self, line: str) -> int | None:
        if self._levels:
            for key in (_squash(line), _squash(_NUMBER_PREFIX.sub("", line))):
                if key in self._levels:
                    return self._levels[key]
            return None
        return numbered_heading_level(line)

    def is_prefix(self, line: str) -> bool:
        """Whether `line` may be the first line of a heading wrapped over two lines."""
        key = _squash(_NUMBER_PREFIX.sub("", line))
        return bool(key) and len(key) > 8 and any(t.startswith(key + " ") for t in self._levels)


def blocks_from_pages(
    pages: list[tuple[int | None, list[str]]], title: str, matcher: HeadingMatcher
) -> list[Block]:
    """Split cleaned page lines into blocks, one per (page, heading path)."""
    path: list[tuple[int, str]] = []
    blocks: list[Block] = []

    def section() -> str:
        return SECTION_SEPARATOR.join(text for _, text in path) or title

    def flush(body: list[str], page_number: int | None) -> None:
        text = "\n".join(reflow(body)).strip()
        if text:
            blocks.append(Block(text=text, page=page_number, section=section()))
        body.clear()

    for page_number, lines in pages:
        body: list[str] = []
        index = 0
        while index < len(lines):
            line = lines[index]
            heading, consumed = _heading_at(lines, index, matcher)
            if heading is None:
                body.append(line)
                index += 1
                continue
            flush(body, page_number)
            level, text = heading
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, text))
            index += consumed
        flush(body, page_number)
    return blocks


def _heading_at(
    lines: list[str], index: int, matcher: HeadingMatcher
) -> tuple[tuple[int, str] | None, int]:
    line = lines[index]
    if not line:
        return None, 1
    level = matcher.level(line)
    if level is not None:
        return (level, line), 1
    if matcher.uses_outline and index + 1 < len(lines) and matcher.is_prefix(line):
        joined = f"{line} {lines[index + 1]}"
        level = matcher.level(joined)
        if level is not None:
            return (level, joined), 2
    return None, 1
