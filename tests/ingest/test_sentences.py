"""split_units: the quotable pieces of a passage, each an exact slice of its text.

The verbatim guarantee of every answer rests on `unit.text == text[unit.start:unit.end]`.
"""

from __future__ import annotations

import pytest

from ingest.sentences import Unit, split_units

PASSAGES = [
    "Use care, e.g. The model may drift. Then stop.",
    "It covers five domains:\n- Data quality and bias\n- Human oversight of use\n1. Third item",
    "  Leading spaces here.   And more after three spaces.  ",
    'He said "stop." Then he left. Really? Yes!',
    "First line.\r\nSecond line ends here.\r\n\r\n\n(a) an item\nb) another item  ",
    "J. Smith wrote it, cf. Art. 5 of the Act. Next sentence 2 follows.",
    "\u2022 A bullet with a non-breaking\u00a0space.\n\u25aa Another\u00a0bullet.",
]


def texts(passage: str) -> list[str]:
    return [u.text for u in split_units(passage)]


@pytest.mark.parametrize("passage", PASSAGES)
def test_every_unit_is_an_exact_slice_of_the_passage(passage: str) -> None:
    units = split_units(passage)
    assert units
    for unit in units:
        assert passage[unit.start : unit.end] == unit.text
        assert unit.text == unit.text.strip(), "no unit starts or ends with whitespace"
    starts = [u.start for u in units]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


def test_abbreviations_and_initials_do_not_end_a_sentence() -> None:
    assert texts("Use care, e.g. The model may drift. Then stop.") == [
        "Use care, e.g. The model may drift.",
        "Then stop.",
    ]
    assert texts("J. Smith wrote it, cf. Art. 5 of the Act. Next one.") == [
        "J. Smith wrote it, cf. Art. 5 of the Act.",
        "Next one.",
    ]


def test_sentences_end_at_full_stops_question_and_exclamation_marks() -> None:
    assert texts("It works. Does it? Yes! 2 more follow.") == [
        "It works.",
        "Does it?",
        "Yes!",
        "2 more follow.",
    ]


def test_lower_case_after_a_full_stop_does_not_split() -> None:
    """Decimals and mid-sentence abbreviations ("approx. three") stay in one sentence."""
    assert texts("Accuracy was 99.5 per cent, approx. three points up.") == [
        "Accuracy was 99.5 per cent, approx. three points up."
    ]


def test_list_items_and_their_introduction_are_flagged() -> None:
    passage = "Intro text. It covers two domains:\n- Data quality and bias\n2) Human oversight"
    units = split_units(passage)
    flags = [(u.text, u.is_list_item, u.is_list_intro) for u in units]
    assert flags == [
        ("Intro text.", False, False),
        ("It covers two domains:", False, True),
        ("Data quality and bias", True, False),
        ("Human oversight", True, False),
    ]
    assert units[0].line == units[1].line == 0
    assert [u.line for u in units[2:]] == [1, 2]


def test_list_markers_and_leading_spaces_are_not_part_of_a_unit() -> None:
    passage = "   Indented sentence.\n-   spaced item\n(a) lettered item"
    units = split_units(passage)
    assert [u.text for u in units] == ["Indented sentence.", "spaced item", "lettered item"]
    assert units[0].start == 3
    assert passage[units[1].start - 1] == " "


def test_blank_and_whitespace_lines_give_no_units() -> None:
    assert split_units("") == []
    assert split_units("\n   \n\t\n") == []
    assert split_units("- \n-   ") == []


def test_units_are_plain_values() -> None:
    unit = split_units("One sentence here.")[0]
    assert unit == Unit(0, 18, "One sentence here.", 0, False, False)
