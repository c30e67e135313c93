"""Split a passage into quotable units: sentences, list items and list introductions.

Every unit is an exact slice of the passage text (`passage.text[start:end]`), which is
what lets a test assert that every answer sentence is a verbatim span of its citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.cleaning import LIST_MARKER

# A sentence ends at . ! ? followed by a space and an upper-case letter, digit or quote,
# except after common abbreviations and single initials ("e.g. The", "J. Smith").
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(])")
_ABBREVIATIONS = re.compile(
    r"(\b(e\.g|i\.e|etc|vs|cf|No|Art|Sec|Fig|Dr|Mr|Ms|Mrs|Prof|St|para)\.|\b[A-Z]\.)$"
)


@dataclass(frozen=True)
class Unit:
    """A quotable piece of one passage."""

    start: int
    end: int
    text: str
    line: int  # index of the passage line it is on: list items of one list share a block
    is_list_item: bool
    is_list_intro: bool


def split_units(passage_text: str) -> list[Unit]:
    units: list[Unit] = []
    offset = 0
    for line_number, line in enumerate(passage_text.split("\n")):
        line_start = offset
        offset += len(line) + 1
        if not line.strip():
            continue
        marker = LIST_MARKER.match(line)
        if marker:
            start = line_start + marker.end()
            text = line[marker.end() :].strip()
            if text:
                units.append(
                    Unit(start, start + len(text), text, line_number, True, text.endswith(":"))
                )
            continue
        for start, end in _sentence_spans(line):
            text = line[start:end]
            units.append(
                Unit(
                    line_start + start,
                    line_start + end,
                    text,
                    line_number,
                    False,
                    text.endswith(":"),
                )
            )
    return units


def _sentence_spans(line: str) -> list[tuple[int, int]]:
    spans = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        candidate = line[start : match.start()].rstrip()
        if _ABBREVIATIONS.search(candidate):
            continue
        end = start + len(candidate)
        if candidate.strip():
            spans.append((start, end))
        start = match.end()
    tail = line[start:].rstrip()
    if tail.strip():
        spans.append((start, start + len(tail)))
    # Leading spaces are not part of a sentence.
    return [(s + (len(line[s:e]) - len(line[s:e].lstrip())), e) for s, e in spans]
