"""Heading detection and heading paths for PDF and plain text (`ingest/structure.py`)."""

from __future__ import annotations

import pytest

from ingest.models import Block
from ingest.structure import HeadingMatcher, blocks_from_pages, numbered_heading_level


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("3 Principles", 1),
        ("3.4 Fairness", 2),
        ("2.1.3 Data minimisation", 3),
        ("1. Framing Risk", 1),
        ("Appendix B: Glossary", 1),
        ("Part 2 Governance", 1),
    ],
)
def test_numbered_and_labelled_headings_get_their_level(line: str, level: int) -> None:
    assert numbered_heading_level(line) == level


@pytest.mark.parametrize(
    "line",
    [
        "1. Identify the use case and write down who owns the system",  # a list item
        "3 officers attended the meeting.",  # a sentence ends with a full stop
        "12 agencies, 4 regions;",
        "2024 was a year of change in many agencies across the whole of the region and beyond",
        "Principles",  # not numbered: body text unless an outline says otherwise
        "",
    ],
)
def test_list_items_and_sentences_are_not_headings(line: str) -> None:
    assert numbered_heading_level(line) is None


def test_blocks_follow_the_heading_path_across_pages() -> None:
    pages = [
        (
            1,
            [
                "Lead text before any heading.",
                "1 Scope",
                "Scope text.",
                "1.1 Detail",
                "Detail text.",
            ],
        ),
        (2, ["More detail on the next page.", "2 Next", "Next text."]),
    ]
    assert blocks_from_pages(pages, "Handbook", HeadingMatcher()) == [
        Block("Lead text before any heading.", 1, "Handbook"),
        Block("Scope text.", 1, "1 Scope"),
        Block("Detail text.", 1, "1 Scope > 1.1 Detail"),
        Block("More detail on the next page.", 2, "1 Scope > 1.1 Detail"),
        Block("Next text.", 2, "2 Next"),
    ]


def test_a_shallower_heading_closes_the_deeper_ones() -> None:
    lines = [
        "1 Governance",
        "a.",
        "1.1 Roles",
        "b.",
        "1.1.1 Board",
        "c.",
        "1.2 Records",
        "d.",
        "2 Operations",
        "e.",
    ]
    sections = [b.section for b in blocks_from_pages([(None, lines)], "T", HeadingMatcher())]
    assert sections == [
        "1 Governance",
        "1 Governance > 1.1 Roles",
        "1 Governance > 1.1 Roles > 1.1.1 Board",
        "1 Governance > 1.2 Records",
        "2 Operations",
    ]


def test_wrapped_body_lines_are_reflowed_within_a_block() -> None:
    lines = [
        "1 Scope",
        "The handbook applies to every unit of the agency that buys, builds or",
        "operates an AI system, and to the staff who supervise them.",
    ]
    [block] = blocks_from_pages([(4, lines)], "T", HeadingMatcher())
    assert block == Block(
        "The handbook applies to every unit of the agency that buys, builds or operates an AI "
        "system, and to the staff who supervise them.",
        4,
        "1 Scope",
    )


class TestOutline:
    outline = [
        (1, "Part 1: Foundational Information"),
        (2, "1. Framing Risk"),
        (3, "1.1 Understanding and Addressing Risks, Impacts, and Harms"),
    ]

    def test_outline_titles_set_levels_with_or_without_their_numbers(self) -> None:
        matcher = HeadingMatcher(self.outline)
        assert matcher.uses_outline
        assert matcher.level("Part 1: Foundational Information") == 1
        assert matcher.level("1. Framing Risk") == 2
        assert matcher.level("Framing Risk") == 2

    def test_with_an_outline_numbered_lines_outside_it_are_body_text(self) -> None:
        assert HeadingMatcher(self.outline).level("3 Principles") is None

    def test_a_heading_wrapped_over_two_lines_is_joined(self) -> None:
        lines = [
            "Framing Risk",
            "Lead.",
            "1.1 Understanding and Addressing Risks,",
            "Impacts, and Harms",
            "Body.",
        ]
        blocks = blocks_from_pages([(7, lines)], "AI RMF", HeadingMatcher(self.outline))
        assert blocks == [
            Block("Lead.", 7, "Framing Risk"),
            Block(
                "Body.",
                7,
                "Framing Risk > 1.1 Understanding and Addressing Risks, Impacts, and Harms",
            ),
        ]
