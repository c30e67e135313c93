"""The shipped sample corpus: its manifest, its notice, and what a fresh clone ingests."""

from __future__ import annotations

import tomllib

import pytest
from paths import CORPUS

from ingest.loaders import load_document
from ingest.manifest import MANIFEST_NAME, read_manifest

NOTICE = "Sample document written for toolkit-assistant; not an official INTERPOL or UNICRI text"
# The French and Spanish sample documents carry it in their own language.
NOTICES = (
    NOTICE,
    "Document d'exemple rédigé pour toolkit-assistant ; ce n'est pas un texte officiel "
    "d'INTERPOL ou de l'UNICRI",
    "Documento de muestra redactado para toolkit-assistant; no es un texto oficial de "
    "INTERPOL ni de UNICRI",
)
OFFICIAL_PAGE = "https://www.interpol.int/How-we-work/Innovation/Artificial-Intelligence-Toolkit"


def _corpus_files() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file() and p.name != MANIFEST_NAME)


def test_every_corpus_file_is_in_the_manifest_and_every_bundled_entry_exists() -> None:
    manifest = read_manifest(CORPUS)
    listed = {entry.file for entry in manifest.entries if entry.file}
    assert set(_corpus_files()) <= listed, set(_corpus_files()) - listed
    missing = [e.file for e in manifest.bundled if not (CORPUS / e.file).is_file()]
    assert missing == []


def test_manifest_entries_are_complete() -> None:
    raw = tomllib.loads((CORPUS / MANIFEST_NAME).read_text(encoding="utf-8"))["documents"]
    for entry in raw:
        for key in ("title", "version", "date", "kind", "origin", "licence"):
            assert entry.get(key), f"{entry.get('file') or entry['title']}: no {key}"
        assert entry["kind"] in {"toolkit", "policy"}
    bundled = [e for e in raw if e.get("bundled", True)]
    official = [e for e in raw if not e.get("bundled", True)]
    assert all(e["origin"] == "sample" for e in bundled)
    # The seven official Toolkit resources and its README, for staff to download.
    assert len(official) == 8
    assert all(e["origin"] == OFFICIAL_PAGE and "file" not in e for e in official)
    assert any("README" in e["title"] for e in official)


def test_the_sample_has_about_ten_documents_in_mixed_formats() -> None:
    suffixes = [name.rsplit(".", 1)[-1] for name in _corpus_files()]
    assert len(suffixes) >= 10
    # Markdown: the glossary, the agency policy, and the French and Spanish notes.
    assert suffixes.count("md") == 4 and suffixes.count("html") == 1
    assert suffixes.count("pdf") >= 7


@pytest.mark.parametrize("name", _corpus_files())
def test_every_sample_document_carries_the_notice_on_its_first_page(name: str) -> None:
    document = load_document(CORPUS / name, name, max_file_mb=50)
    if document.format == "pdf":
        opening = [b.text for b in document.blocks if b.page == 1]
    else:  # no pages: the notice must come before the first section ends
        opening = [document.blocks[0].text]
    text = " ".join(" ".join(opening).split())
    assert any(notice in text for notice in NOTICES), f"{name}: no notice on page 1"
