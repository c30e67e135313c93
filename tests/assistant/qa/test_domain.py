"""The domain model: whether an English question is about the corpus's subject at all."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.qa import bundled, domain
from assistant.qa.definitions import typed_acronyms
from ingest.embedding import EMBEDDING_DIM


def test_the_bundled_model_fits_the_encoder() -> None:
    model = domain.domain_model()
    assert model.weights.shape == (EMBEDDING_DIM,)
    assert np.isfinite(model.weights).all()


def test_the_score_is_the_log_odds_less_the_floor() -> None:
    model = domain.DomainModel(np.ones(EMBEDDING_DIM, dtype=np.float32), 0.5, -1.0)
    vector = np.full(EMBEDDING_DIM, 1 / EMBEDDING_DIM, dtype=np.float32)
    assert model.score(vector) == pytest.approx(1.0 + 0.5 + 1.0)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not a numpy file", "cannot be read"),
        (None, "its weights do not fit"),
    ],
)
def test_a_broken_model_file_is_one_clear_error(
    tmp_path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, why: str
) -> None:
    path = tmp_path / domain.BUNDLED_DOMAIN
    if content is None:
        np.savez(path, weights=np.ones(3), bias=0.0, floor=0.0)
    else:
        path.write_bytes(content)
    monkeypatch.setattr(bundled.resources, "files", lambda package: tmp_path)
    domain.domain_model.cache_clear()
    try:
        with pytest.raises(domain.DomainModelError, match=why) as raised:
            domain.domain_model()
        assert "evals.train_domain" in str(raised.value)
    finally:
        domain.domain_model.cache_clear()


def test_the_acronyms_a_question_types_are_read_as_the_vocabulary_holds_them() -> None:
    assert typed_acronyms("What is TEVV, and are PETs in the AI RMF?") == {
        "tevv",
        "pets",
        "ai",
        "rmf",
    }
    assert typed_acronyms("How do I book a custody suite interview room?") == set()
