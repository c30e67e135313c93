"""Bad files beside good ones: one clear error each, the rest still ingested, exit status 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from paths import CORPUS
from pdf_factory import encrypted_pdf, handbook_pdf, image_only_pdf, truncated_pdf, write
from store_helpers import policy_note, snapshot

from assistant.cli import main
from ingest.refresh import refresh
from ingest.settings import IngestSettings, Settings

pytestmark = pytest.mark.integration


def _real_pdf_cut_in_half() -> bytes:
    return truncated_pdf((CORPUS / "01-toolkit-overview.pdf").read_bytes())


BAD_FILES = [
    pytest.param("locked.pdf", encrypted_pdf, "encrypted PDF", id="encrypted"),
    pytest.param("half.pdf", _real_pdf_cut_in_half, "corrupt or truncated PDF", id="truncated"),
    pytest.param("empty.pdf", lambda: b"", "empty file (0 bytes)", id="zero-bytes"),
    pytest.param(
        "scan.pdf", image_only_pdf, "no extractable text; OCR is not supported", id="image-only"
    ),
    pytest.param(
        "notes.txt",
        lambda: "Café".encode("latin-1"),
        "not valid UTF-8 text (byte 0xe9",
        id="not-utf8",
    ),
    pytest.param(
        "report.txt",
        lambda: handbook_pdf(pages=1),
        "the content is a PDF but the name ends in .txt",
        id="pdf-named-txt",
    ),
    pytest.param(
        "minutes.docx", lambda: b"PK\x03\x04", "unsupported file type '.docx'", id="unsupported"
    ),
]


def _folder(tmp_path: Path, bad_name: str, bad_bytes: bytes) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text(policy_note(1), encoding="utf-8")
    write(folder / bad_name, bad_bytes)
    return folder


@pytest.mark.parametrize(("bad_name", "make", "reason"), BAD_FILES)
def test_a_bad_file_fails_alone_with_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_name: str, make, reason: str
) -> None:
    folder = _folder(tmp_path, bad_name, make())
    settings = Settings(store=tmp_path / "store")

    report = refresh([folder], settings)
    assert [f.source for f in report.failed] == [bad_name]
    error = report.failed[0].error
    assert reason in error and "\n" not in error
    assert report.added == ["good.md"]
    assert snapshot(settings.store).sources == ["good.md"]

    # The CLI says the same in one line on stderr and exits 1, with no traceback.
    capsys.readouterr()
    status = main(["ingest", str(folder), "--store", str(settings.store)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in out + err
    assert err.splitlines() == [f"  failed: {bad_name}: {error}"]
    assert out.startswith("added 0, updated 0, unchanged 1, removed 0, failed 1")


def test_a_file_over_the_size_limit_fails_and_the_rest_is_ingested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _folder(tmp_path, "big.pdf", handbook_pdf(pages=3))
    assert (folder / "good.md").stat().st_size < 1024 < (folder / "big.pdf").stat().st_size
    settings = Settings(store=tmp_path / "store", ingest=IngestSettings(max_file_mb=0.001))

    report = refresh([folder], settings)
    assert [(f.source, "over the 0.001 MB limit" in f.error) for f in report.failed] == [
        ("big.pdf", True)
    ]
    assert report.added == ["good.md"]

    monkeypatch.setenv("TOOLKIT_ASSISTANT_INGEST__MAX_FILE_MB", "0.001")
    capsys.readouterr()
    status = main(["ingest", str(folder), "--store", str(settings.store), "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in out + err
    printed = json.loads(out)
    assert printed["failed"] == [{"source": "big.pdf", "error": report.failed[0].error}]
    assert printed["unchanged"] == ["good.md"]


def test_several_bad_files_in_one_run_each_get_their_own_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "locked.pdf", encrypted_pdf())
    write(folder / "empty.md", b"")
    write(folder / "scan.pdf", image_only_pdf())
    write(folder / "sub" / "half.pdf", _real_pdf_cut_in_half())
    report = refresh([folder], Settings(store=tmp_path / "store"))
    assert {f.source: f.error.split(";")[0].split(" (")[0] for f in report.failed} == {
        "empty.md": "empty file",
        "locked.pdf": "encrypted PDF",
        "scan.pdf": "no extractable text",
        "sub/half.pdf": "corrupt or truncated PDF",
    }
    assert report.added == ["good.md"]
