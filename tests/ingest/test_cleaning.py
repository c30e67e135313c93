"""Cleaning of extracted text: de-hyphenation, running headers and footers, reflow."""

from __future__ import annotations

from pdf_factory import TOPICS

from ingest.cleaning import join_hyphenated, normalize_whitespace, reflow, remove_running_text


def _page(number: int, topic: str, extra_top: str = "") -> str:
    top = [extra_top] if extra_top else []
    body = [
        f"Chapter on {topic}",
        f"The agency reviews {topic} before deployment and records the outcome.",
        f"Every review of {topic} names the officer who signed it off.",
        f"Findings on {topic} go to the oversight board within a month.",
    ]
    return "\n".join(
        top
        + [
            "Agency AI Handbook - Internal Draft",
            *body,
            "Confidential - do not circulate",
            f"Page {number} of 10",
        ]
    )


class TestDehyphenation:
    def test_joins_a_word_split_before_a_lower_case_continuation(self) -> None:
        assert join_hyphenated(["police organi-\nzations use it"]) == [
            "police organizations use it"
        ]

    def test_keeps_the_hyphen_before_upper_case_or_digits(self) -> None:
        text = "the COVID-\n19 response and Anti-\nMoney Laundering rules"
        assert join_hyphenated([text]) == [text]

    def test_keeps_a_dash_that_is_not_attached_to_a_word(self) -> None:
        text = "word -\nlist continues"
        assert join_hyphenated([text]) == [text]

    def test_a_compound_the_document_writes_elsewhere_keeps_its_hyphen(self) -> None:
        # NIST AI 100-1 breaks "privacy-enhancing" after its own hyphen; joined it quoted
        # "privacyenhancing", which no reader can find in the PDF.
        pages = ["use privacy-\nenhancing technologies", "Privacy-enhancing methods help."]
        assert join_hyphenated(pages)[0] == "use privacy-enhancing technologies"

    def test_the_form_the_document_writes_more_often_wins(self) -> None:
        pages = ["a sys-\ntem card", "the system and the system, not one sys-tem"]
        assert join_hyphenated(pages)[0] == "a system card"

    def test_a_pair_written_in_neither_form_keeps_the_hyphen_when_both_halves_are_words(
        self,
    ) -> None:
        pages = ["for mission-\ncritical uses and recom-\nmendations", "the mission is critical"]
        assert join_hyphenated(pages)[0] == "for mission-critical uses and recommendations"

    def test_a_page_that_is_one_endless_word_is_read_in_linear_time(self) -> None:
        # An unbounded "(\\w+)-" would retry the whole run from every letter: quadratic.
        page = "a" * 200_000 + "-\nb"
        assert join_hyphenated([page]) == [page]


class TestRunningText:
    def test_headers_footers_and_page_numbers_repeated_across_pages_are_removed(self) -> None:
        pages = [_page(n, topic) for n, topic in enumerate(TOPICS, start=1)]
        cleaned = remove_running_text(pages)
        assert len(cleaned) == 10
        for page, topic in zip(cleaned, TOPICS, strict=True):
            lines = page.split("\n")
            assert "Agency AI Handbook - Internal Draft" not in lines
            assert "Confidential - do not circulate" not in lines
            assert not any(line.startswith("Page ") for line in lines)
            assert lines == [
                f"Chapter on {topic}",
                f"The agency reviews {topic} before deployment and records the outcome.",
                f"Every review of {topic} names the officer who signed it off.",
                f"Findings on {topic} go to the oversight board within a month.",
            ]

    def test_a_line_repeated_on_only_two_of_ten_pages_is_kept(self) -> None:
        pages = [
            _page(n, topic, extra_top="Draft for consultation" if n in (3, 8) else "")
            for n, topic in enumerate(TOPICS, start=1)
        ]
        cleaned = remove_running_text(pages)
        assert cleaned[2].split("\n")[0] == "Draft for consultation"
        assert cleaned[7].split("\n")[0] == "Draft for consultation"
        assert all(
            "Draft for consultation" not in page
            for i, page in enumerate(cleaned)
            if i not in (2, 7)
        )

    def test_bare_page_numbers_at_the_edges_are_removed_but_numbers_in_the_body_stay(self) -> None:
        pages = [
            "\n".join(
                [
                    f"- {n} -",
                    f"The review of {topic} starts",
                    f"with a list of {topic} risks",
                    f"kept for {topic}",
                    "42",
                    f"the last {topic} line",
                    f"and a closing {topic} line",
                    f"{topic} signed off",
                ]
            )
            for n, topic in enumerate(TOPICS[:3], start=1)
        ]
        cleaned = remove_running_text(pages)
        for page in cleaned:
            lines = page.split("\n")
            assert not lines[0].startswith("- ")
            assert "42" in lines

    def test_two_pages_are_too_few_to_call_anything_running_text(self) -> None:
        pages = [
            "Agency Handbook\nFirst page body text here",
            "Agency Handbook\nSecond page body text here",
        ]
        assert remove_running_text(pages) == pages


class TestReflow:
    def test_wrapped_lines_join_and_list_items_and_titles_stay_apart(self) -> None:
        lines = [
            "Introduction",
            "This is a long paragraph line that wraps over to the next physical",
            "line and ends here with a full stop.",
            "Key points:",
            "- first item that is",
            "continued on the next line",
            "- second item",
            "1. a numbered item",
            "2) another numbered item",
        ]
        assert reflow(lines) == [
            "Introduction",
            "This is a long paragraph line that wraps over to the next physical line "
            "and ends here with a full stop.",
            "Key points:",
            "- first item that is continued on the next line",
            "- second item",
            "1. a numbered item",
            "2) another numbered item",
        ]

    def test_a_blank_line_ends_a_paragraph(self) -> None:
        lines = [
            "The first paragraph is long enough to reach the right margin of the",
            "page",
            "",
            "the second paragraph starts in lower case but after a blank line",
        ]
        assert reflow(lines) == [
            "The first paragraph is long enough to reach the right margin of the page",
            "the second paragraph starts in lower case but after a blank line",
        ]

    def test_a_short_line_followed_by_a_capital_starts_a_new_paragraph(self) -> None:
        lines = [
            "A full-width line of the first paragraph that runs to the margin of",
            "the page.",
            "Then a new paragraph follows with its own sentence at full width.",
        ]
        assert reflow(lines) == [
            "A full-width line of the first paragraph that runs to the margin of the page.",
            "Then a new paragraph follows with its own sentence at full width.",
        ]


def test_normalize_whitespace_collapses_spaces_and_drops_control_characters() -> None:
    text = "  Risk\u00a0\u00a0assessment\t guide \x0c\r\nsecond\x00 line  "
    assert normalize_whitespace(text) == "Risk assessment guide\nsecond line"
