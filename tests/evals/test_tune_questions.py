"""The tune splits' questions in the adapter's list: which passage, which sentences, and only
the tune splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.qa.query_adapter import QueryAdapter, load_adapter, save_adapter
from evals.sets_io import EvalQuestion, EvalSet, GoldRef
from evals.tune_questions import TuneRow, tune_rows, with_rows
from ingest.store import StoredChunk

RULES = "Intro line.\nRecords are deleted  after 31 days. Nothing else is kept.\nThe end."


def _chunk(chunk_id: str, page: int, text: str, source: str = "guide.pdf") -> StoredChunk:
    return StoredChunk(chunk_id, source, source, source, page, "Retention", text, 0)


CHUNKS = [
    _chunk("p3", 3, RULES),
    _chunk("p3b", 3, "Retention is reviewed yearly."),  # on the page, without the fact
    _chunk("p9", 9, "Records are deleted after 31 days."),  # the fact, not on a gold page
    _chunk("other", 3, "Records are deleted after 31 days.", source="other.pdf"),
]
KEPT = EvalQuestion(
    "q1",
    "How long do we keep records?",
    "paraphrase",
    gold=(GoldRef("guide.pdf", (3,)),),
    key_facts=("records are deleted after 31 days",),
)


def _set(name: str, *questions: EvalQuestion) -> EvalSet:
    return EvalSet(name, Path(f"{name}.jsonl"), list(questions))


def test_a_tune_question_joins_for_its_gold_passage_with_the_sentence_holding_its_fact() -> None:
    rows = tune_rows(_set("pdfs.tune", KEPT), CHUNKS)
    # Case and spacing are read as the key-fact metric reads them.
    sentence = "Records are deleted  after 31 days."
    assert rows == [TuneRow("p3", KEPT.question, (sentence,), "pdfs.tune")]


def test_only_a_tune_splits_in_scope_questions_that_stand_alone_join() -> None:
    follow_up = EvalQuestion(
        "q2", "And after that?", "follow-up", KEPT.gold, KEPT.key_facts, ("How long?",)
    )
    out_of_scope = EvalQuestion("q3", "Who won the cup?", "out_of_scope")
    no_facts = EvalQuestion("q4", "What is retention?", "definition", KEPT.gold)
    assert tune_rows(_set("pdfs.tune", follow_up, out_of_scope, no_facts), CHUNKS) == []
    assert tune_rows(_set("pdfs.heldout", KEPT), CHUNKS) == []  # never tuned on
    assert tune_rows(_set("sample", KEPT), CHUNKS) == []  # a regression set


def test_adding_the_rows_again_replaces_those_added_before(tmp_path: Path) -> None:
    class Embedder:
        def embed_short(self, texts: list[str]) -> np.ndarray:
            return np.tile(np.eye(1, 4, dtype=np.float32), (len(texts), 1))

    path = tmp_path / "adapter.npz"
    written = np.eye(1, 4, k=1, dtype=np.float32)
    save_adapter(path, np.zeros((4, 4), np.float32), ["a"], written, ["a"], ["Who signs?"])
    rows = [TuneRow("p3", KEPT.question, ("Records are deleted after 31 days.",), "pdfs.tune")]
    for _ in range(2):
        adapter = load_adapter(path, 4)
        save_adapter(path, **with_rows(adapter, rows, Embedder()))
    adapter = load_adapter(path, 4)
    assert adapter.question_texts == ("Who signs?", KEPT.question)
    assert adapter.question_sources == ("", "pdfs.tune")
    assert adapter.question_answers == ((), rows[0].answer)
    assert adapter.chunk_ids == {"a"}  # the passages the matrix was trained on, as before
    assert isinstance(adapter.without_source("pdfs.tune"), QueryAdapter)
    assert adapter.without_source("pdfs.tune").question_texts == ("Who signs?",)


def test_a_set_is_asked_without_its_own_questions() -> None:
    from types import SimpleNamespace

    from evals.runner import without_own_questions

    adapter = QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset({"p3"}),
        questions=np.eye(2, 4, dtype=np.float32),
        question_owners=np.array([0, 0]),
        question_passages=("p3",),
        question_texts=("Who signs?", KEPT.question),
        question_sources=("", "pdfs.tune"),
    )
    assistant = SimpleNamespace(retriever=SimpleNamespace(adapter=adapter))
    without_own_questions(assistant, _set("pdfs2.tune", KEPT))
    assert assistant.retriever.adapter is adapter
    without_own_questions(assistant, _set("pdfs.tune", KEPT))
    assert assistant.retriever.adapter.question_texts == ("Who signs?",)
    assistant.retriever.adapter = None  # the adapter turned off: nothing to leave out
    without_own_questions(assistant, _set("pdfs.tune", KEPT))
