"""Markdown, HTML and text loaders, and format detection by content (`ingest/loaders`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pdf_factory import handbook_pdf

from ingest.loaders import LoadError, detect_format, load_document

PAGE_HTML = """<!DOCTYPE html>
<html><head><title>Responsible AI Lab</title>
<style>body { color: red; } .styleSecret {}</style>
<script>var scriptSecret = "do-not-index";</script>
</head>
<body>
<header><a href="/">Home banner text</a></header>
<nav><ul><li>Navigation link one</li><li>Navigation link two</li></ul></nav>
<main>
<h1>Responsible AI Lab</h1>
<p>The lab tests <b>AI systems</b> before agencies deploy them.</p>
<h2>Services</h2>
<p>It offers three services:</p>
<ul><li>Bias testing of face recognition</li><li><p>Red teaming of chatbots</p></li></ul>
<h3>Booking</h3>
<p>Agencies book a slot
   through the portal.</p>
<h2>Contact</h2>
<p>Write to the lab team.</p>
</main>
<aside>Related stories sidebar</aside>
<footer>Copyright footer text 2026</footer>
<!-- a comment that is not text -->
</body></html>
"""

GUIDE_MD = """---
title: "Field Guide to AI"
version: 2
---
# Field Guide

Intro paragraph with **bold**, *italic*, `code` and a [link](https://example.org).

## Before deployment

Check the data.

- item one
- item two

### Data sheets

Every model has a data sheet. ![diagram](d.png)

## After deployment

Monitor <span>drift</span>.
"""


def _load(path: Path):
    return load_document(path, path.name, max_file_mb=50)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class TestHtml:
    def test_invisible_and_navigation_text_is_absent(self, tmp_path: Path) -> None:
        document = _load(_write(tmp_path / "lab.html", PAGE_HTML))
        text = "\n".join(b.text for b in document.blocks) + " ".join(
            b.section for b in document.blocks
        )
        for hidden in [
            "scriptSecret",
            "do-not-index",
            "styleSecret",
            "color: red",
            "Home banner",
            "Navigation link",
            "Copyright footer",
            "Related stories",
            "a comment",
        ]:
            assert hidden not in text

    def test_title_from_the_title_element_and_headings_as_section_paths(
        self, tmp_path: Path
    ) -> None:
        document = _load(_write(tmp_path / "lab.html", PAGE_HTML))
        assert document.title == "Responsible AI Lab"
        assert (document.format, document.page_count) == ("html", None)
        assert [(b.section, b.text, b.page) for b in document.blocks] == [
            ("Responsible AI Lab", "The lab tests AI systems before agencies deploy them.", None),
            (
                "Services",
                "It offers three services:\n"
                "- Bias testing of face recognition\n"
                "- Red teaming of chatbots",
                None,
            ),
            ("Services > Booking", "Agencies book a slot through the portal.", None),
            ("Contact", "Write to the lab team.", None),
        ]

    def test_without_a_title_element_the_single_h1_is_the_title(self, tmp_path: Path) -> None:
        html = (
            "<html><body><h1>Patrol Notes</h1><p>Intro.</p>"
            "<h2>Shifts</h2><p>Two shifts.</p></body></html>"
        )
        document = _load(_write(tmp_path / "notes.html", html))
        assert document.title == "Patrol Notes"
        assert [(b.section, b.text) for b in document.blocks] == [
            ("Patrol Notes", "Intro."),
            ("Shifts", "Two shifts."),
        ]


class TestMarkdown:
    def test_sections_follow_headings_and_inline_markup_is_dropped(self, tmp_path: Path) -> None:
        document = _load(_write(tmp_path / "guide.md", GUIDE_MD))
        assert document.title == "Field Guide to AI"  # front matter wins over the H1
        assert document.format == "markdown"
        assert [(b.section, b.text) for b in document.blocks] == [
            ("Field Guide to AI", "Intro paragraph with bold, italic, code and a link."),
            ("Before deployment", "Check the data.\n- item one\n- item two"),
            ("Before deployment > Data sheets", "Every model has a data sheet. diagram"),
            ("After deployment", "Monitor drift."),
        ]

    def test_a_single_h1_is_the_title_and_not_a_section(self, tmp_path: Path) -> None:
        text = "# Use Policy\n\nScope text.\n\n## Roles\n\nThe board approves.\n"
        document = _load(_write(tmp_path / "policy.md", text))
        assert document.title == "Use Policy"
        assert [(b.section, b.text) for b in document.blocks] == [
            ("Use Policy", "Scope text."),
            ("Roles", "The board approves."),
        ]


class TestText:
    def test_numbered_headings_make_sections(self, tmp_path: Path) -> None:
        text = (
            "Patrol Guidance\n\n"
            "1 Scope\nThis applies to patrol units.\n\n"
            "2 Records\nKeep logs for a year.\n"
        )
        document = _load(_write(tmp_path / "guide.txt", text))
        assert document.title == "Patrol Guidance"
        assert [(b.section, b.text) for b in document.blocks][1:] == [
            ("1 Scope", "This applies to patrol units."),
            ("2 Records", "Keep logs for a year."),
        ]

    def test_a_file_that_is_not_utf8_names_the_byte(self, tmp_path: Path) -> None:
        path = tmp_path / "latin1.txt"
        path.write_bytes("Café rules\n".encode("latin-1"))
        with pytest.raises(LoadError) as caught:
            _load(path)
        message = str(caught.value)
        assert "not valid UTF-8" in message
        assert "0xe9" in message and "offset 3" in message
        assert "\n" not in message

    def test_a_utf8_byte_order_mark_is_not_text(self, tmp_path: Path) -> None:
        path = tmp_path / "bom.txt"
        path.write_bytes("\ufeffBriefing Note\n\nBody line.\n".encode())
        assert _load(path).title == "Briefing Note"


class TestDetectFormat:
    def test_by_content_and_name(self) -> None:
        assert detect_format(Path("a.pdf"), b"%PDF-1.7\n...") == "pdf"
        assert detect_format(Path("a.MD"), b"# Title") == "markdown"
        assert detect_format(Path("a.htm"), b"<html>") == "html"
        assert detect_format(Path("a.txt"), b"plain") == "text"

    def test_a_pdf_named_txt_is_refused_with_a_rename_hint(self, tmp_path: Path) -> None:
        path = tmp_path / "report.txt"
        path.write_bytes(handbook_pdf(pages=1))
        with pytest.raises(
            LoadError, match=r"the content is a PDF but the name ends in \.txt; rename it to \.pdf"
        ):
            _load(path)

    def test_a_pdf_name_on_other_content_is_not_a_pdf(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "report.pdf", "<html>an error page saved as PDF</html>")
        with pytest.raises(LoadError, match="not a PDF"):
            _load(path)

    @pytest.mark.parametrize("name", ["empty.pdf", "empty.md", "empty.txt"])
    def test_zero_bytes_is_an_empty_file(self, tmp_path: Path, name: str) -> None:
        path = tmp_path / name
        path.write_bytes(b"")
        with pytest.raises(LoadError, match=r"empty file \(0 bytes\)"):
            _load(path)

    def test_an_unsupported_suffix_lists_the_supported_ones(self, tmp_path: Path) -> None:
        path = _write(tmp_path / "minutes.docx", "PK...")
        with pytest.raises(LoadError) as caught:
            _load(path)
        assert "unsupported file type '.docx'" in str(caught.value)
        assert ".pdf" in str(caught.value) and ".md" in str(caught.value)

    def test_binary_content_in_a_text_file_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "data.txt"
        path.write_bytes(b"text\x00\x01\x02 more")
        with pytest.raises(LoadError, match="binary content"):
            _load(path)
