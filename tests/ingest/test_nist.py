"""The NIST AI RMF 1.0 (a real 48-page PDF) ingested into a real store."""

from __future__ import annotations

import pytest
from paths import NIST_PDF

from ingest.chunking import Chunker
from ingest.embedding import MAX_WORD_PIECES, count_word_pieces
from ingest.loaders import load_document
from ingest.store import Store

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not NIST_PDF.is_file(), reason=f"{NIST_PDF} is not present"),
]


@pytest.fixture(scope="module")
def nist_store(nist_ingest):
    report, settings = nist_ingest  # tests/conftest.py: one ingest per session
    return report, Store(settings.store)


def test_ingests_as_48_pages(nist_store) -> None:
    report, store = nist_store
    assert report.added == [NIST_PDF.name] and not report.failed
    assert report.pages == 48
    [record] = store.documents(store.current().generation)
    assert (record.pages, record.format) == (48, "pdf")
    assert record.chunks == report.chunks_total == report.chunks_embedded


def test_every_chunk_has_a_page_and_a_section(nist_store) -> None:
    _, store = nist_store
    chunks = list(store.iter_chunks(store.current().generation))
    assert len(chunks) > 48
    assert all(c.page is not None and 1 <= c.page <= 48 for c in chunks)
    assert all(c.section.strip() for c in chunks)
    # Text runs from the front matter to the appendices, not one page.
    assert len({c.page for c in chunks}) > 40


def test_no_chunk_exceeds_the_encoder_limit(nist_store) -> None:
    _, store = nist_store
    chunks = Chunker().chunk_document(load_document(NIST_PDF, NIST_PDF.name, max_file_mb=50))
    # These are the stored chunks: the same ids, so the same embedded texts.
    stored = {c.id for c in store.iter_chunks(store.current().generation)}
    assert {c.id for c in chunks} == stored
    pieces_with_special_tokens = [count_word_pieces(c.embed_text) + 2 for c in chunks]
    assert max(pieces_with_special_tokens) <= MAX_WORD_PIECES


def test_words_broken_at_line_ends_read_as_the_pdf_prints_them(nist_store) -> None:
    # The PDF breaks "privacy-enhancing" after its own hyphen, and many pages break words
    # between syllables ("organi-zations"): the quotes must hold neither the joined
    # compound nor a stray syllable hyphen.
    _, store = nist_store
    text = " ".join(c.text for c in store.iter_chunks(store.current().generation))
    assert "privacy-enhancing" in text and "privacyenhancing" not in text
    assert "third-party" in text and "thirdparty" not in text
    assert "recommendations" in text and "recom-mendations" not in text
