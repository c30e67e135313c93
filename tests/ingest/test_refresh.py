"""Sync semantics of `refresh` on a real store: real files, the real model, Chroma on disk."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pdf_factory import handbook_pdf, truncated_pdf, write
from store_helpers import policy_note, snapshot, write_policy_notes

from assistant.cli import main
from ingest.models import document_id
from ingest.refresh import (
    KEYWORD_DIR,
    RefreshInProgressError,
    keyword_dir,
    refresh,
    refresh_lock,
)
from ingest.settings import Settings
from ingest.store import Store

pytestmark = pytest.mark.integration

SOURCES = ["handbook.pdf", "note-001.md", "note-002.md", "note-003.md"]


@pytest.fixture(scope="module")
def first_ingest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four files ingested once; each test works on its own copy of folder and store."""
    root = tmp_path_factory.mktemp("first-ingest")
    folder = write_policy_notes(root / "docs", [1, 2, 3])
    write(folder / "handbook.pdf", handbook_pdf(pages=2))
    report = refresh([folder], Settings(store=root / "store"))
    assert report.added == SOURCES and not report.failed
    return root


@pytest.fixture
def corpus(first_ingest: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(first_ingest / "docs", tmp_path / "docs"))


@pytest.fixture
def settings(first_ingest: Path, tmp_path: Path) -> Settings:
    return Settings(store=Path(shutil.copytree(first_ingest / "store", tmp_path / "store")))


@pytest.fixture
def ingested(corpus: Path, settings: Settings):
    return snapshot(settings.store)


def test_a_first_run_adds_every_file(ingested, settings: Settings) -> None:
    assert ingested.sources == SOURCES
    assert set(ingested.chunk_ids_by_source) == set(SOURCES)
    pages = {c[2] for c in ingested.chunks if c[1] == "handbook.pdf"}
    assert pages == {1, 2}
    assert all(c[2] is None for c in ingested.chunks if c[1].endswith(".md"))


def test_a_second_run_embeds_nothing_and_reports_all_unchanged(
    ingested, corpus: Path, settings: Settings
) -> None:
    report = refresh([corpus], settings)
    assert report.chunks_embedded == 0
    assert report.unchanged == SOURCES
    assert (report.added, report.updated, report.removed, report.failed) == ([], [], [], [])
    assert report.chunks_total == len(ingested.chunks)
    after = snapshot(settings.store)
    assert after.generation == ingested.generation  # nothing was rebuilt
    assert after.same_content(ingested)


def test_changing_one_file_replaces_only_its_chunks(
    ingested, corpus: Path, settings: Settings
) -> None:
    (corpus / "note-002.md").write_text(
        policy_note(2, " Revised after the audit."), encoding="utf-8"
    )
    report = refresh([corpus], settings)
    assert report.updated == ["note-002.md"]
    assert report.unchanged == ["handbook.pdf", "note-001.md", "note-003.md"]
    assert (report.added, report.removed, report.failed) == ([], [], [])
    after = snapshot(settings.store)
    assert report.chunks_embedded == len(after.chunk_ids_by_source["note-002.md"])

    before_ids, after_ids = ingested.chunk_ids_by_source, after.chunk_ids_by_source
    for source in ["handbook.pdf", "note-001.md", "note-003.md"]:
        assert after_ids[source] == before_ids[source]
    assert after_ids["note-002.md"] != before_ids["note-002.md"]
    assert any("Revised after the audit." in c[4] for c in after.chunks if c[1] == "note-002.md")
    assert not any("Revised" in c[4] for c in ingested.chunks)

    # The document keeps its id across versions; only its hash and chunks moved on.
    [old_row] = [r for r in ingested.documents if r[1] == "note-002.md"]
    [new_row] = [r for r in after.documents if r[1] == "note-002.md"]
    assert new_row[0] == old_row[0] == document_id("note-002.md")
    assert new_row[7] != old_row[7]


def test_deleting_a_file_removes_its_chunks_and_its_status_row(
    ingested, corpus: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus / "note-003.md").unlink()
    report = refresh([corpus], settings)
    assert report.removed == ["note-003.md"]
    assert report.chunks_embedded == 0
    after = snapshot(settings.store)
    assert after.sources == ["handbook.pdf", "note-001.md", "note-002.md"]
    assert "note-003.md" not in after.chunk_ids_by_source
    assert after.chunk_ids_by_source == {
        s: ids for s, ids in ingested.chunk_ids_by_source.items() if s != "note-003.md"
    }
    capsys.readouterr()
    assert main(["status", "--json", "--store", str(settings.store)]) == 0
    listed = [d["source"] for d in json.loads(capsys.readouterr().out)["documents"]]
    assert listed == ["handbook.pdf", "note-001.md", "note-002.md"]


@pytest.mark.parametrize("other_change", [False, True], ids=["alone", "with-another-change"])
def test_a_file_that_becomes_corrupt_keeps_its_previous_version(
    ingested, corpus: Path, settings: Settings, other_change: bool
) -> None:
    pdf = corpus / "handbook.pdf"
    pdf.write_bytes(truncated_pdf(pdf.read_bytes()))
    if other_change:
        (corpus / "note-001.md").write_text(policy_note(1, " Amended."), encoding="utf-8")
    report = refresh([corpus], settings)

    assert [f.source for f in report.failed] == ["handbook.pdf"]
    assert "corrupt or truncated PDF" in report.failed[0].error
    assert report.updated == (["note-001.md"] if other_change else [])
    after = snapshot(settings.store)
    assert after.sources == SOURCES  # nothing stored is lost
    assert after.chunk_ids_by_source["handbook.pdf"] == ingested.chunk_ids_by_source["handbook.pdf"]
    old_pdf_rows = [r for r in ingested.documents if r[1] == "handbook.pdf"]
    assert [r for r in after.documents if r[1] == "handbook.pdf"] == old_pdf_rows
    old_pdf_chunks = [c for c in ingested.chunks if c[1] == "handbook.pdf"]
    assert [c for c in after.chunks if c[1] == "handbook.pdf"] == old_pdf_chunks

    # Once the file is repaired it is reloaded, and the same text gives the same chunks.
    write(pdf, handbook_pdf(pages=2))
    repaired = refresh([corpus], settings)
    assert "handbook.pdf" in repaired.updated + repaired.unchanged and not repaired.failed
    assert (
        snapshot(settings.store).chunk_ids_by_source["handbook.pdf"]
        == ingested.chunk_ids_by_source["handbook.pdf"]
    )


def test_a_second_refresh_while_one_holds_the_lock_is_refused(
    ingested, corpus: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (corpus / "note-001.md").write_text(policy_note(1, " Changed while locked."), encoding="utf-8")
    with refresh_lock(settings.store):
        with pytest.raises(RefreshInProgressError, match="another refresh is running on"):
            refresh([corpus], settings)
        capsys.readouterr()
        status = main(["ingest", str(corpus), "--store", str(settings.store)])
        err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("error: another refresh is running on") and err.count("\n") == 1
    assert "Traceback" not in err
    assert snapshot(settings.store).same_content(ingested)  # the refused run changed nothing
    # Once the lock is free, the same refresh goes ahead.
    assert refresh([corpus], settings).updated == ["note-001.md"]


def test_what_a_refresh_killed_while_dropping_generations_leaves_is_cleaned_up(
    ingested, corpus: Path, settings: Settings
) -> None:
    """Dropping a stale generation is two steps, its collections and its keyword folder: a
    kill between them leaves one without the other. The next refresh removes either."""
    store = Store(settings.store)
    orphan_folder = keyword_dir(settings.store, "g20000101000000000000")
    orphan_folder.mkdir(parents=True)
    (orphan_folder / "params.index.json").write_text("{}", encoding="utf-8")
    orphan_collections = store.create_generation()  # no keyword folder
    assert orphan_collections in store.generations()

    (corpus / "note-001.md").write_text(policy_note(1, " Second edition."), encoding="utf-8")
    assert refresh([corpus], settings).updated == ["note-001.md"]

    generations = store.generations()
    assert orphan_collections not in generations and len(generations) <= 2
    assert {p.name for p in (settings.store / KEYWORD_DIR).iterdir()} <= set(generations)
