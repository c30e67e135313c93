"""The domain model's training (`evals/train_domain.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import evals.train_domain as train_domain
from evals.train_domain import fit, held_out_scores, read_questions, train


def _two_subjects(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    on = rng.normal(0.5, 1.0, (120, 8))
    off = rng.normal(-0.5, 1.0, (30, 8))
    return np.vstack([on, off]), np.r_[np.ones(120), np.zeros(30)]


def test_the_fit_tells_the_subjects_apart_though_one_is_four_times_the_other() -> None:
    vectors, labels = _two_subjects()
    weights, bias = fit(vectors, labels)
    scores = vectors @ weights + bias
    assert np.mean(scores[labels == 1] > 0) > 0.8
    assert np.mean(scores[labels == 0] < 0) > 0.8, "the smaller class is not outvoted"


def test_training_is_reproducible() -> None:
    vectors, labels = _two_subjects()
    first, second = held_out_scores(vectors, labels), held_out_scores(vectors, labels)
    assert np.array_equal(first, second)
    assert not np.allclose(first, vectors @ fit(vectors, labels)[0]), "scored by other folds"


def test_a_bad_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text('{"question": "How do I renew my warrant card?"}\n{"area": "x"}\n')
    with pytest.raises(SystemExit, match=r"questions.jsonl:2"):
        read_questions(path)


def test_a_trained_model_leaves_the_floor_share_of_its_own_side_below_its_floor(
    tmp_path: Path,
) -> None:
    vectors, labels = _two_subjects()
    out = tmp_path / "model.npz"
    train(vectors[labels == 1], vectors[labels == 0], out, "off it")
    with np.load(out) as model:
        floor = float(model["floor"])
        scores = held_out_scores(vectors, labels)
    below = np.mean(scores[labels == 1] < floor)
    assert 0 < below <= train_domain.FLOOR_SHARE + 1 / 120
