"""The vector cache shared across stores (ingest/vector_cache.py): it only ever saves work.

The unit tests use a counting fake encoder; the last test builds a second store of the same
files with the real models made unloadable, so every vector must come from the cache.
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from store_helpers import snapshot, write_policy_notes

from ingest import embedding, multilingual, vector_cache
from ingest.embedding import Embedder
from ingest.refresh import refresh
from ingest.settings import Settings
from ingest.vector_cache import VectorCache, cached

REPO = Path(__file__).resolve().parents[2]


class CountingEncoder:
    def __init__(self, dim: int = 4) -> None:
        self.dim = dim
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0, float(i)] for i, t in enumerate(texts)])


def test_only_texts_the_cache_lacks_are_encoded_and_order_is_kept(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "v.sqlite", "model-a", 4)
    encoder = CountingEncoder()
    first = cache.encode(["alpha", "beta"], encoder)
    again = cache.encode(["beta", "gamma", "alpha", "beta"], encoder)
    assert encoder.texts == ["alpha", "beta", "gamma"]
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[2], first[0])
    assert np.array_equal(again[3], again[0])
    assert again.dtype == np.float32 and again.shape == (4, 4)


def test_models_do_not_share_vectors(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    VectorCache(tmp_path / "v.sqlite", "model-a", 4).encode(["alpha"], encoder)
    VectorCache(tmp_path / "v.sqlite", "model-b", 4).encode(["alpha"], encoder)
    assert encoder.texts == ["alpha", "alpha"]


def test_no_path_means_the_encoder_itself(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    assert cached(None, "model-a", 4, encoder) is encoder


def test_a_damaged_cache_file_is_skipped_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "v.sqlite"
    path.write_bytes(b"not a database " * 200)
    encoder = CountingEncoder()
    with caplog.at_level(logging.WARNING):
        out = cached(path, "model-a", 4, encoder)(["alpha", "beta"])
        cached(path, "model-a", 4, encoder)(["alpha"])
    assert out.shape == (2, 4) and encoder.texts == ["alpha", "beta", "alpha"]
    warnings = [r.getMessage() for r in caplog.records if "vector cache" in r.getMessage()]
    assert len(warnings) == 1 and str(path) in warnings[0]
    assert path.read_bytes() == b"not a database " * 200, "a damaged file is left as it was"


def test_a_row_of_the_wrong_width_is_encoded_again(tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    cache = VectorCache(path, "model-a", 4)
    encoder = CountingEncoder()
    cache.encode(["alpha"], encoder)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE vectors SET vector = ?", [b"\0" * 7])
    assert cache.encode(["alpha"], encoder)[0][0] == 5.0
    assert encoder.texts == ["alpha", "alpha"]


def test_past_its_limit_the_cache_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_cache, "MAX_ROWS", 3)
    path = tmp_path / "v.sqlite"
    cache = VectorCache(path, "model-a", 4)
    cache.encode(["a", "b", "c"], CountingEncoder())
    cache.encode(["d", "e"], CountingEncoder())
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM vectors").fetchone() == (2,)


def test_a_question_is_never_written_corpus_sentences_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Embedder, "_encode", lambda self, texts: np.ones((len(texts), 384)))
    path = tmp_path / "v.sqlite"
    embedder = Embedder(vector_cache=path)
    embedder.embed_query("Which officer asked about case 4471?")
    embedder.embed_short(["A sentence of the corpus that answers."], corpus=True)
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT count(*) FROM vectors").fetchone()[0]
    assert rows == 1
    assert b"4471" not in path.read_bytes()


def test_float32_and_bfloat16_vectors_are_cached_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache hit returns what the asking encoder would have computed, in its precision."""
    monkeypatch.setattr(embedding, "native_bfloat16", lambda: True)
    encoded: list[tuple[bool, str]] = []

    def encode(self, texts):
        encoded.extend((self.bfloat16, t) for t in texts)
        return np.ones((len(texts), 384))

    monkeypatch.setattr(Embedder, "_encode", encode)
    path = tmp_path / "v.sqlite"
    for bfloat16 in (False, True, False, True):
        Embedder(vector_cache=path, bfloat16=bfloat16).embed_passages(["A passage."])
    assert encoded == [(False, "A passage."), (True, "A passage.")]


def test_bfloat16_is_used_only_where_the_cpu_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedding, "native_bfloat16", lambda: False)
    assert Embedder(bfloat16=True).bfloat16 is False
    monkeypatch.setattr(embedding, "native_bfloat16", lambda: True)
    assert Embedder(bfloat16=True).bfloat16 is True
    assert Embedder(bfloat16=False).bfloat16 is False
    assert Embedder.from_settings(Settings().ingest).bfloat16 is True
    off = Settings(ingest={"encoder_bfloat16": False}).ingest
    assert Embedder.from_settings(off).bfloat16 is False


def test_an_embedder_that_encodes_nothing_does_not_import_torch() -> None:
    """Whether to use bfloat16 is asked of torch on first use, not when the encoder is made:
    a refresh with nothing to encode stays light."""
    code = (
        "import sys; from ingest.embedding import Embedder; Embedder(bfloat16=True); "
        "Embedder(bfloat16=True).embed_passages([]); assert 'torch' not in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.integration
def test_bfloat16_vectors_rank_as_float32_ones() -> None:
    """The real model: what the speed-up changes is below what retrieval can see."""
    if not embedding.native_bfloat16():
        pytest.skip("this CPU has no native bfloat16: the encoder runs in float32")
    texts = [
        "Human oversight keeps a person able to intervene in an AI system's decisions.",
        "Data minimization: collect only the personal data the purpose needs.",
        "An impact assessment is repeated when the system or its use changes.",
        "Quels sont les cinq principes fondamentaux ?",
    ]
    full = Embedder(bfloat16=False).embed_passages(texts)
    fast = Embedder(bfloat16=True).embed_passages(texts)
    assert not np.array_equal(full, fast)  # the autocast did take effect
    assert float(np.min(np.sum(full * fast, axis=1))) > 0.9995
    assert np.array_equal(np.argsort(-(full @ full[0])), np.argsort(-(fast @ fast[0])))


@pytest.mark.integration
def test_a_second_store_of_the_same_files_needs_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "vectors.sqlite"
    folder = write_policy_notes(tmp_path / "docs", [1, 2, 3])
    monkeypatch.setenv("TOOLKIT_ASSISTANT_INGEST__VECTOR_CACHE", str(cache))
    first = refresh([folder], Settings(store=tmp_path / "one"))

    def unloadable(*_args, **_kwargs):
        raise AssertionError("a model was loaded although every text is in the cache")

    monkeypatch.setattr(embedding, "_model", unloadable)
    monkeypatch.setattr(multilingual, "_model", unloadable)
    second = refresh([folder], Settings(store=tmp_path / "two"))
    assert not second.failed and second.chunks_embedded == first.chunks_embedded > 0
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert two.same_content(one)
    if multilingual.unavailable_reason() is None:
        vectors = [
            multilingual.MultilingualVectors.load(multilingual.vectors_dir(tmp_path / name, gen))
            for name, gen in (("one", one.generation), ("two", two.generation))
        ]
        assert np.array_equal(vectors[0].vectors, vectors[1].vectors)
