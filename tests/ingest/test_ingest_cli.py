"""`toolkit-assistant ingest` and `status`: the --json contracts and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pdf_factory import handbook_pdf, write
from store_helpers import write_policy_notes

from assistant.cli import main
from ingest.models import file_sha256

INGEST_KEYS = {
    "added",
    "updated",
    "unchanged",
    "removed",
    "failed",
    "documents",
    "pages",
    "chunks_embedded",
    "chunks_total",
    "seconds",
}
DOCUMENT_KEYS = {"source", "title", "pages", "chunks", "sha256", "ingested_at"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.integration
def test_ingest_and_status_print_their_documented_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_policy_notes(tmp_path / "docs", [1, 2])
    write(folder / "handbook.pdf", handbook_pdf(pages=2))
    store = str(tmp_path / "store")

    status, out, err = _run(capsys, "ingest", str(folder), "--store", store, "--json")
    assert status == 0, err
    report = json.loads(out)
    assert set(report) == INGEST_KEYS
    assert report["added"] == ["handbook.pdf", "note-001.md", "note-002.md"]
    assert report["updated"] == report["unchanged"] == report["removed"] == report["failed"] == []
    assert report["documents"] == 3 and report["pages"] == 2
    assert report["chunks_embedded"] == report["chunks_total"] > 3
    assert isinstance(report["seconds"], float) and report["seconds"] >= 0

    status, out, err = _run(capsys, "status", "--store", store, "--json")
    assert status == 0, err
    listing = json.loads(out)
    documents = {d["source"]: d for d in listing["documents"]}
    assert set(documents) == {"handbook.pdf", "note-001.md", "note-002.md"}
    for source, row in documents.items():
        assert set(row) >= DOCUMENT_KEYS
        assert row["sha256"] == file_sha256(folder / source)
        assert row["title"] and row["chunks"] > 0 and row["ingested_at"]
    assert documents["handbook.pdf"]["pages"] == 2
    assert documents["note-001.md"]["pages"] is None
    assert documents["note-001.md"]["title"] == "Policy note 1"
    assert sum(d["chunks"] for d in documents.values()) == report["chunks_total"]

    # Unchanged: nothing embedded, everything reported unchanged.
    status, out, _ = _run(capsys, "ingest", str(folder), "--store", store, "--json")
    again = json.loads(out)
    assert status == 0 and again["chunks_embedded"] == 0
    assert again["unchanged"] == report["added"] and again["chunks_total"] == report["chunks_total"]


def test_status_of_an_empty_store_says_there_is_no_index(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(capsys, "status", "--store", str(tmp_path / "store"), "--json")
    assert status == 0
    assert json.loads(out)["documents"] == []
    status, out, _ = _run(capsys, "status", "--store", str(tmp_path / "store"))
    assert status == 0 and out.startswith("no index in ")


def test_a_missing_path_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-folder"
    status, out, err = _run(
        capsys, "ingest", str(missing), "--store", str(tmp_path / "store"), "--json"
    )
    assert status == 2
    assert out == ""
    assert err == f"error: {missing}: no such file or folder\n"


def test_an_unknown_option_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["ingest", "--no-such-flag"])
    assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
