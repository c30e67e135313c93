"""The sentence index: chunks found by their best sentence, reused across refreshes."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from ingest.keyword_index import terms
from ingest.sentence_index import SentenceIndex, SentenceIndexDamagedError, indexed_sentences


class CountingEncoder:
    """Hashed bag of terms (unit length); remembers what it was asked to encode."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.encoded += texts
        vectors = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text):
                vectors[row, zlib.crc32(term.encode()) % 384] += 1.0
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


CHUNKS = [
    ("budget", "The committee meets monthly. Drone flights over crowds need a written permit."),
    ("checklist", "Did your organization assess drone flights over crowds?\nWho signs off?"),
    ("other", "Training records are kept by the academy for every officer."),
]


def test_a_chunk_is_found_by_its_best_sentence_and_questions_are_not_indexed() -> None:
    encode = CountingEncoder()
    index = SentenceIndex.build(CHUNKS, encode)
    assert not any(text.endswith("?") for text in encode.encoded)
    best = index.best(encode(["drone flights over crowds permit"])[0], 2)
    assert best[0][0] == "budget"
    assert "checklist" not in [chunk_id for chunk_id, _ in best]


def test_a_refresh_encodes_only_sentences_it_has_not_seen(tmp_path: Path) -> None:
    first = SentenceIndex.build(CHUNKS, CountingEncoder())
    first.save(tmp_path)
    encode = CountingEncoder()
    changed = [*CHUNKS[:2], ("other", "Training records are kept for five years.")]
    second = SentenceIndex.build(changed, encode, SentenceIndex.load(tmp_path))
    assert encode.encoded == ["Training records are kept for five years."]
    assert len(second) == len(indexed_sentences(changed[0][1])) + 1


def test_a_sentence_two_overlapping_chunks_share_is_encoded_once_and_finds_both() -> None:
    shared = "Drone flights over crowds need a written permit."
    chunks = [
        ("first", f"The committee meets monthly. {shared}"),
        ("second", f"{shared} Fees vary by county."),
    ]
    encode = CountingEncoder()
    index = SentenceIndex.build(chunks, encode)
    assert encode.encoded.count(shared) == 1
    assert len(index) == 4
    found = dict(index.best(encode([shared])[0], 2))
    assert found["first"] == pytest.approx(found["second"]) == pytest.approx(1.0, abs=1e-2)


def test_a_damaged_index_is_reported_and_a_missing_one_is_none(tmp_path: Path) -> None:
    assert SentenceIndex.load(tmp_path) is None
    SentenceIndex.build(CHUNKS, CountingEncoder()).save(tmp_path)
    (tmp_path / "sentence_vectors.npy").write_bytes(b"\x93NUMPY broken")
    with pytest.raises(SentenceIndexDamagedError, match="damaged"):
        SentenceIndex.load(tmp_path)
