"""The sentence index: chunks found by their best sentence, reused across refreshes."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from ingest.keyword_index import terms
from ingest.sentence_index import (
    SentenceIndex,
    SentenceIndexDamagedError,
    indexed_sentences,
    indexed_spans,
)


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


def test_sentences_pooled_in_context_are_taken_as_given_and_the_rest_encoded() -> None:
    encode = CountingEncoder()
    budget_rows = len(indexed_sentences(CHUNKS[0][1]))
    pooled = np.eye(384, dtype=np.float16)[:budget_rows]
    index = SentenceIndex.build(CHUNKS, encode, in_context={"budget": pooled})
    assert not set(encode.encoded) & set(indexed_sentences(CHUNKS[0][1]))
    assert encode.encoded == indexed_sentences(CHUNKS[2][1])
    assert np.array_equal(index.vectors[:budget_rows], pooled)
    # Vectors that do not match the chunk's sentences (another text) are not used.
    encode = CountingEncoder()
    SentenceIndex.build(CHUNKS, encode, in_context={"budget": pooled[:1]})
    assert indexed_sentences(CHUNKS[0][1])[0] in encode.encoded


def test_spans_are_where_the_indexed_sentences_are() -> None:
    text = CHUNKS[0][1] + "\n- Who pays?\n- Permits cost nothing for police units."
    assert [text[a:b] for a, b in indexed_spans(text)] == indexed_sentences(text)
    assert indexed_sentences(text)[-1] == "Permits cost nothing for police units."


@pytest.mark.integration
def test_the_real_encoder_pools_each_sentence_from_its_passage_s_own_pass() -> None:
    """Late chunking: the passage vector is unchanged, and each sentence's pooled vector is
    close to that sentence encoded on its own, and nearer its own passage's sentences than
    the other's (it reads its neighbours too: that is the context it gains)."""
    from ingest.embedding import Embedder

    passages = [
        "Policy / Drones\nDrone flights over crowds need a written permit. The permit names "
        "the pilot and the area. Footage is deleted after review unless it is evidence.",
        "  Policy / Training\nEvery officer completes data protection training each year. "
        "Records of the training are kept by the academy.",
    ]
    spans = []
    for text in passages:
        body = text.index("\n") + 1
        spans.append([(body + a, body + b) for a, b in indexed_spans(text[body:])])
    embedder = Embedder()
    vectors, pooled = embedder.embed_in_context(passages, spans)
    assert np.array_equal(vectors, embedder.embed_passages(passages))
    alone = [
        embedder.embed_passages([t[a:b] for a, b in own])
        for t, own in zip(passages, spans, strict=True)
    ]
    everything = np.concatenate(alone)
    passage_of = np.repeat([0, 1], [len(own) for own in spans])
    for which, rows in enumerate(pooled):
        assert rows.shape == alone[which].shape
        assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
        assert np.min(np.sum(rows * alone[which], axis=1)) > 0.6
        assert set(passage_of[np.argmax(rows @ everything.T, axis=1)]) == {which}


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["alone", "in_context"])
def test_a_refresh_encodes_the_sentences_alone_or_pools_them_as_the_setting_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    from store_helpers import write_policy_notes

    from ingest.embedding import Embedder
    from ingest.refresh import keyword_dir, refresh
    from ingest.settings import Settings
    from ingest.store import Store

    alone: list[str] = []
    encode = Embedder.embed_passages
    monkeypatch.setattr(
        Embedder, "embed_passages", lambda self, texts: alone.extend(texts) or encode(self, texts)
    )
    monkeypatch.setenv("TOOLKIT_ASSISTANT_RETRIEVAL__MULTILINGUAL", "false")
    monkeypatch.setenv("TOOLKIT_ASSISTANT_INGEST__SENTENCE_VECTORS", mode)
    store_path = tmp_path / "store"
    report = refresh([write_policy_notes(tmp_path / "docs", [1, 2])], Settings(store=store_path))
    assert not report.failed and report.chunks_embedded > 0
    generation = Store(store_path).current().generation
    index = SentenceIndex.load(keyword_dir(store_path, generation))
    texts = {c.id: c.text for c in Store(store_path).iter_chunks(generation)}
    sentences = {s for t in texts.values() for s in indexed_sentences(t)}
    assert len(index) == sum(len(indexed_sentences(t)) for t in texts.values()) > 0
    assert np.allclose(np.linalg.norm(index.vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    if mode == "in_context":
        assert alone == []  # no second pass: every sentence pooled from its chunk's
    else:
        assert sentences <= set(alone)


@pytest.mark.integration
def test_switching_the_sentence_vectors_rebuilds_the_store_and_the_default_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from store_helpers import write_policy_notes

    from ingest.refresh import refresh
    from ingest.settings import Settings

    monkeypatch.setenv("TOOLKIT_ASSISTANT_RETRIEVAL__MULTILINGUAL", "false")
    docs = write_policy_notes(tmp_path / "docs", [1])
    first = refresh([docs], Settings(store=tmp_path / "store"))
    assert refresh([docs], Settings(store=tmp_path / "store")).chunks_embedded == 0
    monkeypatch.setenv("TOOLKIT_ASSISTANT_INGEST__SENTENCE_VECTORS", "in_context")
    switched = refresh([docs], Settings(store=tmp_path / "store"))
    assert switched.chunks_embedded == first.chunks_embedded > 0


@pytest.mark.integration
def test_in_context_vectors_come_back_from_the_cache_without_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import embedding
    from ingest.embedding import Embedder

    text = "Policy / Drones\nDrone flights need a permit. The permit names the pilot."
    spans = [[(16 + a, 16 + b) for a, b in indexed_spans(text[16:])]]
    cached = Embedder(vector_cache=tmp_path / "v.sqlite")
    first, first_pooled = cached.embed_in_context([text], spans)

    def unloadable():
        raise AssertionError("the model was loaded although the cache holds every vector")

    monkeypatch.setattr(embedding, "_model", unloadable)
    again, again_pooled = Embedder(vector_cache=tmp_path / "v.sqlite").embed_in_context(
        [text], spans
    )
    assert np.array_equal(first, again)
    assert first_pooled[0].shape == (2, 384)
    assert np.array_equal(first_pooled[0], again_pooled[0])
