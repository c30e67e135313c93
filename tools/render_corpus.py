"""Render the sample corpus sources (tools/corpus_sources/NN-*.md) into PDFs.

The official Toolkit PDFs cannot be redistributed, so the project ships its own
sample documents. They are rendered to PDF (rather than shipped as Markdown) so that
the ingest pipeline meets what real corpora contain: running headers and footers,
page numbers, page breaks in mid-paragraph and a two-column page.

The source format is described in tools/corpus_sources/FORMAT.md.

Usage:
    python tools/render_corpus.py [--out corpus]

Output is byte-stable for unchanged sources: the creation date comes from the
document's ``date:`` field and fpdf2 derives the file /ID from the content.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

SOURCES = Path(__file__).resolve().parent / "corpus_sources"

BODY_PT = 10.5
LINE_HEIGHT = 1.4  # multiple of the font size
HEADING_PT = {1: 14.0, 2: 12.0, 3: 11.0}
MARGIN_MM = 20.0
PARAGRAPH_GAP_MM = 2.2
BULLET = "-"

# Core fonts only know Latin-1, so typographic characters are mapped to ASCII.
# Dashes become a plain hyphen or a spaced hyphen, never "--": a double hyphen would
# read as noise in extracted text.
ASCII_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": " - ",
        "\u2011": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u00ad": "",  # soft hyphen: would allow hyphenated line breaks
        "\u2022": "-",
    }
)


@dataclass
class Block:
    """One rendered unit: a heading, paragraph, list item or page break."""

    kind: str  # heading | para | bullet | number | pagebreak
    text: str = ""
    level: int = 0  # heading level
    label: str = ""  # "3." for numbered items


@dataclass
class Source:
    """A parsed source file: front matter and body blocks."""

    path: Path
    meta: dict[str, str]
    blocks: list[Block] = field(default_factory=list)


def to_latin1(text: str, where: str) -> str:
    """Map typographic characters to ASCII; fail loudly on anything else non-Latin-1."""
    text = re.sub(r" {2,}", " ", text.translate(ASCII_MAP))
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as err:
        raise SystemExit(f"{where}: character {text[err.start]!r} is not Latin-1") from None
    return text


def parse_source(path: Path) -> Source:
    """Split front matter from body and group body lines into blocks."""
    raw = path.read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", raw, re.S)
    if not match:
        raise SystemExit(f"{path}: missing front matter")
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip()] = re.sub(r"\s+#.*$", "", value).strip()
    for key in ("title", "version", "date"):
        if not meta.get(key):
            raise SystemExit(f"{path}: front matter needs '{key}'")
    src = Source(path, meta)
    para: list[str] = []

    def flush() -> None:
        if para:
            src.blocks.append(Block("para", " ".join(para)))
            para.clear()

    body = raw[match.end() :].splitlines()
    for lineno, line in enumerate(body, start=match.group(0).count("\n") + 1):
        stripped = to_latin1(line.strip(), f"{path.name}:{lineno}")
        heading = re.match(r"(#{1,3}) (.+)", stripped)
        number = re.match(r"(\d+)\. (.+)", stripped)
        if not stripped:
            flush()
        elif stripped == "<!-- pagebreak -->":
            flush()
            src.blocks.append(Block("pagebreak"))
        elif heading:
            flush()
            src.blocks.append(Block("heading", heading.group(2), level=len(heading.group(1))))
        elif stripped.startswith("- "):
            flush()
            src.blocks.append(Block("bullet", stripped[2:]))
        elif number:
            flush()
            src.blocks.append(Block("number", number.group(2), label=number.group(1) + "."))
        elif para or not src.blocks or src.blocks[-1].kind not in ("bullet", "number"):
            para.append(stripped)
        else:  # continuation line of a list item
            src.blocks[-1].text += " " + stripped
    flush()
    return src


class CorpusPDF(FPDF):
    """FPDF with the running header (from page 2) and the "Page N of M" footer."""

    def __init__(self, title: str, running_header: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.doc_title = title
        self.running_header = running_header
        self.set_margins(MARGIN_MM, MARGIN_MM + 2, MARGIN_MM)
        self.set_auto_page_break(True, margin=MARGIN_MM + 2)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("Helvetica", "", 8.5)
        self.set_text_color(90)
        self.set_xy(MARGIN_MM, 10)
        self.cell(0, 5, self.running_header, align="L")
        self.set_draw_color(170)
        self.line(MARGIN_MM, 15.5, self.w - MARGIN_MM, 15.5)
        self.set_text_color(0)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_font("Helvetica", "", 8.5)
        self.set_text_color(90)
        self.set_y(-14)
        self.cell(0, 5, f"{self.doc_title} | Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)


def write_inline(pdf: FPDF, target: object, text: str, size: float, base_style: str) -> None:
    """Write text into a paragraph, switching to bold for **...** spans.

    fpdf2's own markdown mode also treats "--" and "__" as markup, which would eat
    characters in ordinary prose, so only "**" is interpreted here.
    """
    for i, part in enumerate(re.split(r"\*\*(.+?)\*\*", text)):
        if part:
            pdf.set_font("Helvetica", "B" if i % 2 else base_style, size)
            target.write(part)  # type: ignore[attr-defined]


def render_blocks(pdf: CorpusPDF, blocks: list[Block], ncols: int = 1) -> None:
    """Flow blocks through a fpdf2 text region, which handles wrapping and page breaks.

    Word wrapping only (WrapMode.WORD) and no soft hyphens: words are never split.
    """
    line = BODY_PT * LINE_HEIGHT / pdf.k
    with pdf.text_columns(
        ncols=ncols, gutter=8, text_align="LEFT", line_height=LINE_HEIGHT, wrapmode=WrapMode.WORD
    ) as region:
        for i, block in enumerate(blocks):
            if block.kind == "heading":
                # Narrow columns get smaller headings so they rarely wrap, and the first
                # one gets no top gap so that both columns start at the same height.
                size = HEADING_PT[block.level if ncols == 1 else 3]
                gap = 0 if ncols > 1 and i == 0 else line * 0.9
                with region.paragraph(top_margin=gap, bottom_margin=1.2) as par:
                    write_inline(pdf, par, block.text, size, "B")
            elif block.kind in ("bullet", "number"):
                label = BULLET if block.kind == "bullet" else block.label
                # The label takes the font that is current when the paragraph opens.
                pdf.set_font("Helvetica", "", BODY_PT)
                with region.paragraph(
                    top_margin=1.0, indent=6, bullet_string=label, bullet_r_margin=2
                ) as par:
                    write_inline(pdf, par, block.text, BODY_PT, "")
            else:
                with region.paragraph(top_margin=PARAGRAPH_GAP_MM) as par:
                    write_inline(pdf, par, block.text, BODY_PT, "")


def render_flow(pdf: CorpusPDF, blocks: list[Block]) -> None:
    """Render single-column blocks, keeping each heading with the lines that follow it."""
    run: list[Block] = []
    line = BODY_PT * LINE_HEIGHT / pdf.k
    for block in blocks:
        if block.kind in ("heading", "pagebreak"):
            render_blocks(pdf, run)
            run = []
            # A heading needs room for itself and about three body lines.
            wanted = block.kind == "pagebreak" or pdf.y + 5 * line > pdf.page_break_trigger
            if wanted and pdf.y > pdf.t_margin + 1:
                pdf.add_page()
            if block.kind == "pagebreak":
                continue
        run.append(block)
    render_blocks(pdf, run)


def split_sections(
    blocks: list[Block], number: str
) -> tuple[list[Block], list[Block], list[Block]]:
    """Split blocks into (before, section `number`, after) at top-level headings."""
    start = end = None
    for i, block in enumerate(blocks):
        if block.kind == "heading" and block.level == 1:
            if block.text.split(" ", 1)[0] == number:
                start = i
            elif start is not None and end is None:
                end = i
    if start is None:
        raise SystemExit(f"two_column: no top-level section numbered {number}")
    end = end if end is not None else len(blocks)
    return blocks[:start], blocks[start:end], blocks[end:]


def render_source(src: Source, out_dir: Path) -> tuple[Path, int]:
    """Render one source into out_dir/<same stem>.pdf; return the path and page count."""
    meta = src.meta
    pdf = CorpusPDF(meta["title"], meta.get("running_header") or meta["title"])
    pdf.set_title(meta["title"])
    pdf.set_author("toolkit-assistant project (sample corpus)")
    pdf.set_creator("toolkit-assistant tools/render_corpus.py")
    date = datetime.strptime(meta["date"], "%Y-%m-%d").replace(tzinfo=UTC)
    pdf.set_creation_date(date)
    pdf.set_lang("en")
    pdf.add_page()

    # Title block on page 1.
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 8.5, meta["title"], align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_draw_color(60)
    pdf.line(MARGIN_MM, pdf.y, pdf.w - MARGIN_MM, pdf.y)
    pdf.ln(1)

    blocks = src.blocks
    if meta.get("two_column"):
        before, section, after = split_sections(blocks, meta["two_column"])
        render_flow(pdf, before)
        if pdf.y > pdf.t_margin + 1:
            pdf.add_page()
        render_blocks(pdf, section[:1])  # the section heading spans both columns
        pdf.set_y(pdf.y + 2)
        render_blocks(pdf, section[1:], ncols=2)
        if after:
            pdf.add_page()
            render_flow(pdf, after)
    else:
        render_flow(pdf, blocks)

    out = out_dir / (src.path.stem + ".pdf")
    pdf.output(str(out))
    return out, pdf.pages_count


def main(argv: list[str] | None = None) -> int:
    """Render every NN-*.md source; print one line per PDF with its page count."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", default="corpus", help="output folder (default: corpus)")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = sorted(SOURCES.glob("[0-9][0-9]-*.md"))
    if not paths:
        print(f"no sources found in {SOURCES}", file=sys.stderr)
        return 1
    for path in paths:
        out, pages = render_source(parse_source(path), out_dir)
        print(f"{out}  {pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
