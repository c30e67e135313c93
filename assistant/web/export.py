"""An answer or a conversation as Markdown (to copy or save) and as a PDF (for a case file).

Each question comes with its answer and, for every citation, the document, the page, the
section and the quoted passage: what a reader of the case file needs to check the answer
against the source without the app. Pure functions of `Answer`; no Gradio.

The PDF is written with fpdf2 in DejaVu Sans, the TrueType font matplotlib ships (a
dependency already), so any script in a question or a document prints; no font is fetched.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from assistant.qa.models import QUOTE_SEPARATOR, Answer, Citation

DISCLAIMER = "Answers quote the loaded documents as guidance; they are not legal advice."
GENERATED_NOTE = (
    "Written by a language model from the cited passages; each sentence shown was checked "
    "against them."
)
_SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")


class ExportError(RuntimeError):
    """The export cannot be made; the message says why."""


def _where(citation: Citation) -> str:
    parts = [citation.source]
    if citation.page is not None:
        parts.append(f"page {citation.page}")
    if citation.section and citation.section != citation.title:
        parts.append(citation.section.replace(" > ", " \u203a "))
    return ", ".join(parts)


def _quoted(citation: Citation) -> list[str]:
    """The quoted sentences, one per item (non-adjacent ones are joined by an ellipsis)."""
    quote = citation.quote or citation.text
    return [" ".join(part.split()) for part in quote.split(QUOTE_SEPARATOR) if part.strip()]


def _blockquote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def answer_markdown(answer: Answer) -> str:
    """One answer with its citations, as Markdown: what the Copy button puts on the clipboard."""
    lines = [answer.answer.strip()]
    if answer.notice:
        lines.insert(0, f"_{answer.notice}_")
    if answer.answerer == "generative" and not answer.refused:
        lines.append(f"_{GENERATED_NOTE}_")
    if answer.refused:
        if answer.pointers:
            lines.append("Nearest documents (places to look, not evidence):")
            lines += [f"- {p.title} ({_where(p)})" for p in answer.pointers]
    elif answer.citations:
        lines.append("Sources:")
        for citation in answer.citations:
            lines.append(f"[{citation.n}] **{citation.title}**, {_where(citation)}")
            lines += [_blockquote(part) for part in _quoted(citation)]
    return "\n\n".join(lines) + "\n"


def conversation_markdown(
    answers: Sequence[Answer], exported: datetime, title: str = "Conversation"
) -> str:
    """The whole conversation: each question, its answer and its citations."""
    parts = [
        f"# {title}",
        f"Exported from Toolkit Assistant on {exported:%Y-%m-%d %H:%M %Z}".rstrip()
        + ". "
        + DISCLAIMER,
    ]
    for number, answer in enumerate(answers, start=1):
        parts.append(f"## Question {number}")
        parts.append(_blockquote(answer.question))
        parts.append("### Answer")
        parts.append(answer_markdown(answer).rstrip())
    return "\n\n".join(parts) + "\n"


# -- PDF -------------------------------------------------------------------------------------
def _font_folder() -> Path | None:
    spec = importlib.util.find_spec("matplotlib")  # finds the package without importing it
    packaged = [
        Path(p) / "mpl-data" / "fonts" / "ttf"
        for p in (spec and spec.submodule_search_locations) or []
    ]
    for folder in [*packaged, _SYSTEM_FONTS]:
        if (folder / "DejaVuSans.ttf").is_file() and (folder / "DejaVuSans-Bold.ttf").is_file():
            return folder
    return None


def conversation_pdf(
    answers: Sequence[Answer], exported: datetime, title: str = "Conversation"
) -> bytes:
    """The conversation as a PDF: each question, answer, and citation with its quote."""
    from fpdf import FPDF  # only when a PDF is asked for: it is not needed to answer

    folder = _font_folder()
    if folder is None:
        raise ExportError("no Unicode font (DejaVu Sans) was found; export as Markdown instead")
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Toolkit Assistant")
    pdf.add_font("DejaVu", "", str(folder / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(folder / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    def text(body: str, size: float = 10, style: str = "", indent: float = 0) -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, size * 0.5, body, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)

    text(title, 16, "B")
    text(f"Exported from Toolkit Assistant on {exported:%Y-%m-%d %H:%M %Z}".rstrip() + ".", 9)
    text(DISCLAIMER, 9)
    for number, answer in enumerate(answers, start=1):
        pdf.ln(3)
        text(f"Question {number}", 12, "B")
        text(answer.question)
        text("Answer", 11, "B")
        if answer.notice:
            text(answer.notice, 9)
        text(answer.answer.strip())
        if answer.answerer == "generative" and not answer.refused:
            text(GENERATED_NOTE, 9)
        if answer.refused:
            if answer.pointers:
                text("Nearest documents (places to look, not evidence)", 10, "B")
                for pointer in answer.pointers:
                    text(f"{pointer.title} ({_where(pointer)})", 9, indent=4)
            continue
        if answer.citations:
            text("Citations", 11, "B")
        for citation in answer.citations:
            text(f"[{citation.n}] {citation.title}", 10, "B")
            text(_where(citation), 9, indent=4)
            for part in _quoted(citation):
                text(f"\u201c{part}\u201d", 9, indent=8)
    return bytes(pdf.output())
