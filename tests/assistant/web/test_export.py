"""Copy and export: the Markdown and the PDF hold each question, answer, document, page
and quoted passage."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from assistant.qa.models import QUOTE_SEPARATOR, Answer, Citation
from assistant.web.export import answer_markdown, conversation_markdown, conversation_pdf

WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def _citation(n: int, source: str, page: int | None, quote: str) -> Citation:
    return Citation(
        n=n,
        source=source,
        title=f"Title of {source}",
        page=page,
        section="3 Principles > 3.2 Proportionality",
        text=f"Before. {quote} After.",
        quote=quote,
        score=0.7,
    )


def _answers() -> list[Answer]:
    first = Answer(
        "What does proportionality mean?",
        "Proportionality weighs the intrusion against the aim. [1]\nIt is reviewed. [2]",
        False,
        [
            _citation(1, "02-principles.pdf", 4, "Proportionality weighs the intrusion."),
            _citation(2, "agency/policy.md", None, f"It is reviewed.{QUOTE_SEPARATOR}Yearly."),
        ],
    )
    second = Answer(
        "Qu'en est-il de la vie privée, Größe, Ελλάδα, полиция?",
        "The corpus does not cover this question.",
        True,
        pointers=[_citation(1, "05-privacy.pdf", 2, "")],
    )
    return [first, second]


def test_an_answer_copies_as_markdown_with_its_citations_and_quotes() -> None:
    markdown = answer_markdown(_answers()[0])
    assert markdown.startswith("Proportionality weighs the intrusion against the aim. [1]")
    assert "[1] **Title of 02-principles.pdf**, 02-principles.pdf, page 4" in markdown
    assert "> Proportionality weighs the intrusion." in markdown
    assert "[2] **Title of agency/policy.md**, agency/policy.md, 3 Principles" in markdown
    assert "> It is reviewed.\n\n> Yearly." in markdown


def test_a_conversation_exports_as_markdown() -> None:
    markdown = conversation_markdown(_answers(), WHEN, "Proportionality")
    assert markdown.startswith("# Proportionality")
    assert "2026-05-04 09:30 UTC" in markdown and "not legal advice" in markdown
    assert "## Question 1\n\n> What does proportionality mean?" in markdown
    assert "## Question 2\n\n> Qu'en est-il de la vie privée, Größe, Ελλάδα, полиция?" in markdown
    assert "Nearest documents (places to look, not evidence):" in markdown
    assert "- Title of 05-privacy.pdf (05-privacy.pdf, page 2" in markdown


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_a_conversation_exports_as_a_pdf_holding_every_citation_and_quote() -> None:
    data = conversation_pdf(_answers(), WHEN, "Proportionality")
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    for expected in (
        "Question 1",
        "What does proportionality mean?",
        "Proportionality weighs the intrusion against the aim. [1]",
        "[1] Title of 02-principles.pdf",
        "02-principles.pdf, page 4",
        "\u201cProportionality weighs the intrusion.\u201d",
        "agency/policy.md, 3 Principles",
        "\u201cYearly.\u201d",
        "Qu'en est-il de la vie privée, Größe, Ελλάδα, полиция?",
        "05-privacy.pdf, page 2",
        "not legal advice",
    ):
        assert expected in text, expected


def test_long_unbroken_text_wraps_across_pages() -> None:
    huge = Answer("x" * 2000, "y" * 3000 + " [1]", False, [_citation(1, "a.pdf", 1, "z" * 2000)])
    reader = PdfReader(io.BytesIO(conversation_pdf([huge] * 5, WHEN)))
    assert len(reader.pages) > 1


def test_an_export_folder_is_private_and_old_exports_are_removed(tmp_path) -> None:
    import os
    import stat

    from assistant.web.app import fresh_export_folder

    old = fresh_export_folder(tmp_path, keep_seconds=600)
    (old / "conversation.pdf").write_bytes(b"%PDF- a conversation")
    os.utime(old, (0, 0))  # long past
    recent = fresh_export_folder(tmp_path, keep_seconds=600)
    assert not old.exists()  # removed by the next export
    newest = fresh_export_folder(tmp_path, keep_seconds=600)
    assert recent.exists() and newest.exists() and recent != newest
    assert stat.S_IMODE(newest.stat().st_mode) == 0o700
