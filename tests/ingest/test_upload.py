"""Uploads into the corpus folder: each refusal is one clear line and leaves the folder alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import CORPUS
from pdf_factory import (
    encrypted_pdf,
    handbook_pdf,
    image_only_pdf,
    long_pdf,
    truncated_pdf,
    write,
)
from store_helpers import policy_note

from ingest.models import file_sha256
from ingest.upload import MAX_UPLOAD_PAGES, UploadError, save_upload

MAX_MB = 5.0
HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Lab</title></head>"
    b"<body><h1>Lab</h1><p>The lab tests analytics tools before use.</p></body></html>"
)


def _folder_state(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, hidden ones included: a refused upload changes none."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "note-001.md").write_text(policy_note(1), encoding="utf-8")
    return folder


def _upload(tmp_path: Path, name: str, data: bytes, corpus: Path, **options):
    incoming = write(tmp_path / "incoming" / "upload.bin", data)
    return save_upload(incoming, name, corpus, options.pop("max_mb", MAX_MB), **options)


def _refused(tmp_path: Path, name: str, data: bytes, corpus: Path, **options) -> str:
    before = _folder_state(corpus)
    with pytest.raises(UploadError) as refused:
        _upload(tmp_path, name, data, corpus, **options)
    message = str(refused.value)
    assert message and "\n" not in message
    assert _folder_state(corpus) == before, "a refused upload must leave the corpus as it was"
    return message


def test_a_markdown_note_is_saved_under_its_name(tmp_path: Path, corpus: Path) -> None:
    result = _upload(tmp_path, "note-002.md", policy_note(2).encode(), corpus)
    assert result.name == "note-002.md" and result.path == corpus.resolve() / "note-002.md"
    assert result.format == "markdown" and result.title == "Policy note 2"
    assert result.replaced_sha256 is None
    assert (corpus / "note-002.md").read_text(encoding="utf-8") == policy_note(2)
    assert result.sha256 == file_sha256(corpus / "note-002.md")
    assert sorted(_folder_state(corpus)) == ["note-001.md", "note-002.md"]  # no temporary left


def test_a_pdf_and_an_html_page_are_saved(tmp_path: Path, corpus: Path) -> None:
    pdf = _upload(tmp_path, "handbook.pdf", handbook_pdf(pages=3), corpus)
    assert (pdf.format, pdf.pages) == ("pdf", 3)
    page = _upload(tmp_path, "lab.html", HTML_PAGE, corpus)
    assert page.format == "html" and page.title == "Lab"
    assert sorted(_folder_state(corpus)) == ["handbook.pdf", "lab.html", "note-001.md"]


BAD_FILES = [
    pytest.param("locked.pdf", encrypted_pdf, "encrypted PDF", id="encrypted"),
    pytest.param(
        "half.pdf",
        lambda: truncated_pdf((CORPUS / "01-toolkit-overview.pdf").read_bytes()),
        "corrupt or truncated PDF",
        id="truncated",
    ),
    pytest.param("empty.pdf", lambda: b"", "empty file (0 bytes)", id="zero-bytes"),
    pytest.param(
        "scan.pdf", image_only_pdf, "no extractable text; OCR is not supported", id="image-only"
    ),
    pytest.param(
        "notes.txt", lambda: "Café".encode("latin-1"), "not valid UTF-8 text", id="not-utf8"
    ),
    pytest.param(
        "minutes.docx",
        lambda: b"PK\x03\x04" + b"\x00" * 64,
        "the content is a ZIP archive",
        id="docx",
    ),
    pytest.param("photo.pdf", image_only_pdf, "no extractable text", id="image-only-named-pdf"),
    pytest.param(
        "scan.pdf",
        lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        "the content is a PNG image",
        id="png-named-pdf",
    ),
    pytest.param("data.txt", lambda: b"col\x00umn" * 20, "binary content", id="binary-named-txt"),
    pytest.param("notes.md", lambda: b"   \n\n  \t\n", "no extractable text", id="blank-text"),
]


@pytest.mark.parametrize(("name", "make", "reason"), BAD_FILES)
def test_a_bad_file_is_refused_with_one_line_and_nothing_written(
    tmp_path: Path, corpus: Path, name: str, make, reason: str
) -> None:
    assert reason in _refused(tmp_path, name, make(), corpus)


WRONG_EXTENSIONS = [
    pytest.param(
        "report.txt",
        lambda: handbook_pdf(pages=1),
        "the content is a PDF but the name ends in .txt; rename it to .pdf",
        id="pdf-named-txt",
    ),
    pytest.param(
        "report.md",
        lambda: handbook_pdf(pages=1),
        "the content is a PDF but the name ends in .md",
        id="pdf-named-md",
    ),
    pytest.param(
        "policy.pdf",
        lambda: policy_note(3).encode(),
        "the name ends in .pdf but the content is plain text, not a PDF",
        id="text-named-pdf",
    ),
    pytest.param(
        "lab.md",
        lambda: HTML_PAGE,
        "the content is an HTML page but the name ends in .md; rename it to .html",
        id="html-named-md",
    ),
    pytest.param(
        "lab.pdf",
        lambda: HTML_PAGE,
        "the name ends in .pdf but the content is an HTML page",
        id="html-named-pdf",
    ),
    pytest.param(
        "notes.docx",
        lambda: policy_note(3).encode(),
        "unsupported file type '.docx'",
        id="text-named-docx",
    ),
]


@pytest.mark.parametrize(("name", "make", "reason"), WRONG_EXTENSIONS)
def test_a_name_that_disagrees_with_the_content_is_refused_not_renamed(
    tmp_path: Path, corpus: Path, name: str, make, reason: str
) -> None:
    assert reason in _refused(tmp_path, name, make(), corpus)


def test_a_name_without_extension_gets_the_one_of_its_content(tmp_path: Path, corpus: Path) -> None:
    assert _upload(tmp_path, "handbook", handbook_pdf(pages=1), corpus).name == "handbook.pdf"
    assert _upload(tmp_path, "README", policy_note(4).encode(), corpus).name == "README.txt"
    assert _upload(tmp_path, "lab", HTML_PAGE, corpus).name == "lab.html"


def test_plain_text_named_html_is_accepted(tmp_path: Path, corpus: Path) -> None:
    # Any text is valid HTML to the loader: the visible text is what gets indexed.
    result = _upload(tmp_path, "page.html", b"<p>Officers log every query.</p>", corpus)
    assert result.format == "html"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.md", "'..' is refused"),
        ("..\\evil.md", "'..' is refused"),
        ("/etc/passwd", "absolute paths are refused"),
        ("\\\\server\\share\\evil.md", "absolute paths are refused"),
        ("C:\\Users\\evil.md", "absolute paths are refused"),
        ("sub/evil.md", "folder separators"),
        ("sub\\evil.md", "folder separators"),
        ("evil\x00.md", "NUL character"),
        ("notes..md", "'..' is refused"),
        ("   ", "has no name"),
        ("()!.md", "no letters or digits"),
    ],
)
def test_path_like_names_are_refused_and_nothing_is_written_anywhere(
    tmp_path: Path, corpus: Path, name: str, reason: str
) -> None:
    around = _folder_state(tmp_path)
    assert reason in _refused(tmp_path, name, policy_note(5).encode(), corpus)
    for folder in (tmp_path, Path.cwd().parent, Path("/etc")):
        assert not (folder / "evil.md").exists()
    assert not Path("/etc/passwd.md").exists() and not Path("/etc/passwd.txt").exists()
    changed = {path for path, data in _folder_state(tmp_path).items() if around.get(path) != data}
    # Only the test's own staging of the upload changed: nothing beside the corpus.
    assert changed <= {"incoming/upload.bin"}


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("Politique de sécurité (v2).MD", "Politique-de-securite-v2.md"),
        ("  annual   report 2024.TXT ", "annual-report-2024.txt"),
        ("-leading-dash.md", "leading-dash.md"),
        (".hidden.md", "hidden.md"),
        ("notes.markdown", "notes.markdown"),
        ("x" * 300 + ".md", "x" * 100 + ".md"),
    ],
)
def test_names_are_made_safe(tmp_path: Path, corpus: Path, name: str, saved: str) -> None:
    result = _upload(tmp_path, name, policy_note(6).encode(), corpus)
    assert result.name == saved
    assert (corpus / saved).is_file()


def test_a_duplicate_is_refused_naming_the_file_it_duplicates(tmp_path: Path, corpus: Path) -> None:
    same = (corpus / "note-001.md").read_bytes()
    assert "already in the corpus as note-001.md" in _refused(tmp_path, "copy.md", same, corpus)
    message = _refused(tmp_path, "note-001.md", same, corpus)
    assert "note-001.md is already in the corpus with exactly this content" in message


def test_a_duplicate_in_a_subfolder_is_found(tmp_path: Path, corpus: Path) -> None:
    data = handbook_pdf(pages=1)
    write(corpus / "policies" / "handbook.pdf", data)
    message = _refused(tmp_path, "other.pdf", data, corpus)
    assert "already in the corpus as policies/handbook.pdf" in message


def test_a_new_version_replaces_only_when_asked(tmp_path: Path, corpus: Path) -> None:
    old_sha = file_sha256(corpus / "note-001.md")
    newer = policy_note(1, edition=" Second edition.").encode()
    message = _refused(tmp_path, "note-001.md", newer, corpus)
    assert "a different file named note-001.md is already in the corpus" in message
    result = _upload(tmp_path, "note-001.md", newer, corpus, replace=True)
    assert result.replaced_sha256 == old_sha
    assert (corpus / "note-001.md").read_bytes() == newer
    assert sorted(_folder_state(corpus)) == ["note-001.md"]


def test_the_size_limit_is_checked_before_anything_else(tmp_path: Path, corpus: Path) -> None:
    data = policy_note(7).encode() * 20  # about 5 KB
    message = _refused(tmp_path, "big.md", data, corpus, max_mb=0.002)
    assert "over the 0.002 MB limit (setting ingest.max_file_mb)" in message
    assert _upload(tmp_path, "big.md", data, corpus, max_mb=0.01).name == "big.md"


def test_a_link_in_the_corpus_is_never_written_through(tmp_path: Path, corpus: Path) -> None:
    outside = tmp_path / "outside.md"
    outside.write_text("outside", encoding="utf-8")
    (corpus / "linked.md").symlink_to(outside)
    message = _refused(tmp_path, "linked.md", policy_note(8).encode(), corpus, replace=True)
    assert "is a link to somewhere else" in message
    assert outside.read_text(encoding="utf-8") == "outside"


def test_a_2000_page_pdf_is_refused_by_the_page_limit(tmp_path: Path, corpus: Path) -> None:
    data = long_pdf(2000)
    assert len(data) < MAX_MB * 1048576  # under the size limit: the page limit decides
    message = _refused(tmp_path, "register.pdf", data, corpus)
    assert f"the PDF has 2,000 pages; uploads are limited to {MAX_UPLOAD_PAGES:,} pages" in message
    assert "toolkit-assistant ingest" in message


def test_the_page_limit_is_a_policy_not_a_crash(tmp_path: Path, corpus: Path) -> None:
    result = _upload(tmp_path, "register.pdf", long_pdf(2000), corpus, max_pages=2000)
    assert (result.format, result.pages) == ("pdf", 2000)


@pytest.mark.parametrize("second", ["policy.md", "POLICY.md", "\uff30olicy.md", "Policy.MD"])
def test_names_differing_only_in_case_or_width_are_one_name(
    tmp_path: Path, corpus: Path, second: str
) -> None:
    """Issue 14, finding 13: `Policy.md`, `policy.md` and `Ｐolicy.md` could coexist."""
    _upload(tmp_path, "Policy.md", policy_note(7).encode(), corpus)
    message = _refused(tmp_path, second, policy_note(8).encode(), corpus)
    assert "Policy.md is already in the corpus" in message and "replace" in message
    replaced = _upload(tmp_path, second, policy_note(8).encode(), corpus, replace=True)
    assert replaced.name == "Policy.md"  # the new version keeps the name citations show
    assert sorted(p.name for p in corpus.iterdir()) == ["Policy.md", "note-001.md"]
