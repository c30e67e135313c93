"""PDFs the ingestion tests generate with fpdf2: well-formed ones with running headers,
footers and numbered headings, and each kind of bad file a user may hand in."""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF

RUNNING_HEADER = "Agency AI Handbook - Internal Draft"
DOCUMENT_TITLE = "Agency AI Handbook"
TOPICS = [
    "fairness",
    "accountability",
    "transparency",
    "privacy",
    "safety",
    "oversight",
    "procurement",
    "training",
    "auditing",
    "redress",
]


def paragraph(topic: str, number: int, sentences: int = 4) -> str:
    """Distinct sentences per topic, so body lines never look like running text."""
    return " ".join(
        f"Sentence {k} on {topic}: the agency documents how {topic} is assessed for system "
        f"{number}, who reviews it and when the review is repeated."
        for k in range(1, sentences + 1)
    )


class _HandbookPdf(FPDF):
    """Every page has a running header and a "Page N of M" footer, as office exports do."""

    def header(self) -> None:
        self.set_font("Helvetica", size=8)
        self.cell(0, 6, RUNNING_HEADER, align="C")
        self.ln(10)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, f"Page {self.page_no()} of {{nb}}", align="C")


def handbook_pdf(pages: int = 6, title: str = DOCUMENT_TITLE, edition: str = "") -> bytes:
    """One chapter per page: "N Topic", a paragraph, "N.1 Reviewing topic", a paragraph.

    `edition` is added to every paragraph, so two editions differ in their text.
    """
    pdf = _HandbookPdf()
    pdf.set_title(title)
    pdf.set_auto_page_break(True, margin=20)
    for number, topic in enumerate(TOPICS[:pages], start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, f"{number} {topic.capitalize()}")
        pdf.ln(2)
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, paragraph(topic, number) + edition)
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, f"{number}.1 Reviewing {topic}")
        pdf.ln(2)
        pdf.set_font("Helvetica", size=11)
        pdf.multi_cell(0, 6, paragraph(f"{topic} reviews", number) + edition)
    return bytes(pdf.output())


def encrypted_pdf(password: str = "secret") -> bytes:
    """A valid PDF that opens only with a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(handbook_pdf(pages=2))))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def truncated_pdf(original: bytes | None = None) -> bytes:
    """The first half of a real PDF's bytes: what an interrupted download leaves."""
    data = original if original is not None else handbook_pdf(pages=4)
    return data[: len(data) // 2]


def image_only_pdf() -> bytes:
    """A scan: one page holding one picture and no text layer."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(picture).rectangle((40, 40, 360, 160), outline="black", width=6)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def long_pdf(pages: int) -> bytes:
    """Tiny pages of a few lines: 2,000 pages take a fraction of a second to make."""
    pdf = FPDF(format=(100, 60))
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=6)
    for number in range(1, pages + 1):
        pdf.add_page()
        for row in range(7):  # the loader drops repeated lines at the top and bottom edges
            pdf.text(5, 6 + 7 * row, f"Entry {number}, line {row}: a review of unit {number}.")
    return bytes(pdf.output())


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def shared_stream_pdf(pages: int = 30, stream_mb: float = 2.0) -> bytes:
    """A few KB on disk, minutes to extract: every page draws one huge content stream.

    The stream repeats a short text operation until it is `stream_mb` MB, compressed (it
    shrinks to about 10 KB), and all `pages` pages point at the same stream object.
    """
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    operation = b"BT /F1 6 Tf 10 10 Td (Shared words on a page) Tj ET\n"
    stream = DecodedStreamObject()
    stream.set_data(operation * int(stream_mb * 1048576 / len(operation)))
    writer = PdfWriter()
    content = writer._add_object(stream.flate_encode())
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    resources = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    for _ in range(pages):
        page = writer.add_blank_page(width=200, height=200)
        page[NameObject("/Contents")] = content
        page[NameObject("/Resources")] = resources
        page[NameObject("/MediaBox")] = ArrayObject([NumberObject(0)] * 2 + [NumberObject(200)] * 2)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
