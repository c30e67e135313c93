"""The opener adapter's training (`evals/train_opener.py`) and its bundled file."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.qa import bundled, opener
from evals.train_opener import first_is_named, problems, train

_PASSAGE = (
    "2.1 Approval",
    "Officers should understand the tool. Deployment needs the owner's signed approval.",
)


def test_each_question_is_paired_with_its_passage_sentences_and_the_named_one() -> None:
    rows = [
        ("c1", "Who signs off before go-live?", ("Deployment needs the owner's signed approval.",)),
        ("c1", "A question naming no sentence", ()),
        ("gone", "A question whose passage left the index", ("Anything.",)),
    ]
    found = problems(rows, {"c1": _PASSAGE})
    assert len(found) == 1
    question, texts, answers, chunk_id = found[0]
    assert (question, answers, chunk_id) == ("Who signs off before go-live?", [False, True], "c1")
    assert texts[1] == "2.1 Approval: Deployment needs the owner's signed approval."


def test_training_moves_questions_toward_their_named_sentence() -> None:
    rng = np.random.default_rng(0)
    n, m, d = 60, 4, 16
    candidates = rng.normal(size=(n, m, d)).astype(np.float32)
    candidates /= np.linalg.norm(candidates, axis=2, keepdims=True)
    answers = np.zeros((n, m), dtype=bool)
    answers[:, 2] = True
    # Each question sits nearer its first candidate; the answering one is the third.
    questions = candidates[:, 0] + 0.3 * candidates[:, 2] + 0.5 * rng.normal(size=(n, d))
    questions = (questions / np.linalg.norm(questions, axis=1, keepdims=True)).astype(np.float32)
    real = np.ones((n, m), dtype=bool)
    before = first_is_named(questions, candidates, real, answers)
    weights = train(questions, candidates, real, answers)
    assert first_is_named(questions, candidates, real, answers, weights) > before
    assert np.array_equal(weights, train(questions, candidates, real, answers)), "reproducible"


def test_the_bundled_adapter_fits_the_encoder() -> None:
    assert opener.opener_adapter().matrix.shape == (384, 384)


def test_a_broken_adapter_file_is_one_clear_error(tmp_path, monkeypatch) -> None:
    (tmp_path / opener.BUNDLED_OPENER).write_bytes(b"not a numpy file")
    monkeypatch.setattr(bundled.resources, "files", lambda package: tmp_path)
    opener.opener_adapter.cache_clear()
    try:
        with pytest.raises(opener.OpenerAdapterError, match="cannot be read.*train_opener"):
            opener.opener_adapter()
    finally:
        opener.opener_adapter.cache_clear()
