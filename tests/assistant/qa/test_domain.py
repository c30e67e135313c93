"""The domain models: whether an English question is about the corpus's subject at all, and
whether it asks what general guidance on it holds."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.qa import bundled, domain
from assistant.qa.definitions import typed_acronyms
from ingest.embedding import EMBEDDING_DIM


@pytest.mark.parametrize("load", [domain.domain_model, domain.near_domain_model])
def test_the_bundled_models_fit_the_encoder(load) -> None:
    model = load()
    assert model.weights.shape == (EMBEDDING_DIM,)
    assert np.isfinite(model.weights).all()


def test_the_two_models_are_two_files() -> None:
    assert not np.array_equal(domain.domain_model().weights, domain.near_domain_model().weights)


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
@pytest.mark.parametrize(
    ("name", "load"),
    [
        (domain.BUNDLED_DOMAIN, domain.domain_model),
        (domain.BUNDLED_NEAR_DOMAIN, domain.near_domain_model),
    ],
)
def test_a_broken_model_file_is_one_clear_error(
    tmp_path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, why: str, name, load
) -> None:
    path = tmp_path / name
    if content is None:
        np.savez(path, weights=np.ones(3), bias=0.0, floor=0.0)
    else:
        path.write_bytes(content)
    monkeypatch.setattr(bundled.resources, "files", lambda package: tmp_path)
    domain._bundled_model.cache_clear()
    try:
        with pytest.raises(domain.DomainModelError, match=why) as raised:
            load()
        assert name in str(raised.value)
        assert "evals.train_domain" in str(raised.value)
    finally:
        domain._bundled_model.cache_clear()


def test_the_acronyms_a_question_types_are_read_as_the_vocabulary_holds_them() -> None:
    assert typed_acronyms("What is TEVV, and are PETs in the AI RMF?") == {
        "tevv",
        "pets",
        "ai",
        "rmf",
    }
    assert typed_acronyms("How do I book a custody suite interview room?") == set()
