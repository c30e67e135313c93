"""Useless metadata titles ("about:blank", "Untitled", a file name) give way to the
document's own heading; the manifest's title, version and kind are what staff set."""

from __future__ import annotations

from pathlib import Path

import pytest
from fpdf import FPDF

from ingest.loaders import load_document
from ingest.manifest import ManifestError, corpus_kind, document_group, read_manifest, set_entry
from ingest.structure import is_placeholder_title


def _pdf(path: Path, metadata_title: str, outline: bool) -> Path:
    pdf = FPDF()
    pdf.set_title(metadata_title)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, "Internal - for officers only", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 16)
    if outline:
        pdf.start_section("Patrol Drone Policy")
    pdf.cell(0, 10, "Patrol Drone Policy", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Drones are flown only with a supervisor's approval. " * 5)
    pdf.output(str(path))
    return path


@pytest.mark.parametrize(
    "title",
    [
        "about:blank",
        "Untitled",
        "Untitled-3",
        "patrol.pdf",
        "Microsoft Word - report_v2.docx",
        "C:\\Users\\me\\draft.doc",
        "file:///tmp/x.html",
        "  ",
        "policy",
    ],
)
def test_placeholder_titles_are_recognised(title: str) -> None:
    assert is_placeholder_title(title, "policy.pdf")


@pytest.mark.parametrize("title", ["Patrol Drone Policy", "Node.js in the lab", "Web 3.0 risks"])
def test_real_titles_are_kept(title: str) -> None:
    assert not is_placeholder_title(title, "policy.pdf")


def test_a_pdf_titled_about_blank_is_named_by_its_first_heading(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "upload.pdf", "about:blank", outline=True)
    assert load_document(path, "upload.pdf", 50).title == "Patrol Drone Policy"


def test_a_pdf_titled_with_a_file_name_and_no_outline_is_named_by_its_first_line(
    tmp_path: Path,
) -> None:
    path = _pdf(tmp_path / "upload.pdf", "report_v2.docx", outline=False)
    assert load_document(path, "upload.pdf", 50).title == "Internal - for officers only"


def test_a_useful_metadata_title_is_kept(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "upload.pdf", "Drone Policy 2026", outline=True)
    assert load_document(path, "upload.pdf", 50).title == "Drone Policy 2026"


def test_an_html_page_titled_about_blank_is_named_by_its_heading(tmp_path: Path) -> None:
    path = tmp_path / "saved.html"
    path.write_text(
        "<html><head><title>about:blank</title></head><body><h1>Use Policy</h1>"
        "<p>Body text of the policy.</p></body></html>",
        encoding="utf-8",
    )
    assert load_document(path, "saved.html", 50).title == "Use Policy"


def test_set_entry_writes_title_version_and_kind_and_keeps_comments(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '# Keep this comment.\n\n[[documents]]\nfile = "a.pdf"\ntitle = "A"\norigin = "sample"\n',
        encoding="utf-8",
    )
    set_entry(tmp_path, "b.pdf", title="Drone Policy", version="2", kind="agency", origin="agency")
    set_entry(tmp_path, "a.pdf", title="A, edited", version="1.1")
    assert manifest.read_text(encoding="utf-8").startswith("# Keep this comment.")
    entries = {e.file: e for e in read_manifest(tmp_path).entries}
    assert (entries["a.pdf"].title, entries["a.pdf"].version) == ("A, edited", "1.1")
    assert entries["a.pdf"].origin == "sample"
    b = entries["b.pdf"]
    assert (b.title, b.version, b.kind, b.origin) == ("Drone Policy", "2", "agency", "agency")
    assert [document_group(entries[f]) for f in ("a.pdf", "b.pdf")] == ["sample", "agency"]
    assert not list(tmp_path.glob(".*.part"))


def test_set_entry_refuses_a_broken_manifest_and_leaves_it(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("[[documents]\nbroken", encoding="utf-8")
    with pytest.raises(ManifestError):
        set_entry(tmp_path, "a.pdf", title="A")
    assert manifest.read_text(encoding="utf-8") == "[[documents]\nbroken"


def test_set_entry_makes_a_manifest_when_there_is_none(tmp_path: Path) -> None:
    set_entry(tmp_path, "a.md", title="A", kind="agency", origin="agency")
    assert read_manifest(tmp_path).for_file("a.md").kind == "agency"


def test_corpus_kind_names_each_group_present() -> None:
    assert corpus_kind([]) == "empty"
    assert corpus_kind(["sample", "sample"]) == "sample"
    assert corpus_kind(["agency", "official"]) == "official+agency"
    assert corpus_kind(["sample", "agency"]) == "agency+sample"
    assert corpus_kind(["sample", "official", "agency"]) == "official+agency+sample"
    assert document_group(None) == "agency"  # unlisted: added locally
