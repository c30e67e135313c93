"""The runner against a fake assistant: what is asked, how it is scored, the JSON shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from eval_fakes import FakeAssistant, citation, passage

from assistant.qa.models import Answer
from evals.runner import WARM_UP_QUESTION, eval_settings, evaluate
from evals.sets_io import EvalQuestion, EvalSet, GoldRef
from ingest.settings import Settings

QUESTIONS = [
    EvalQuestion("f1", "Who made it?", "factoid", (GoldRef("a.pdf", pages=(1,)),), ("UNICRI",)),
    EvalQuestion(
        "u1",
        "And then?",
        "follow-up",
        (GoldRef("g.md", section="Model"),),
        ("weights", "bias"),
        history=("Who made it?",),
    ),
    EvalQuestion("o1", "GPU price?", "out_of_scope"),
    EvalQuestion("o2", "EU fine?", "out_of_scope"),
]


def fake() -> FakeAssistant:
    return FakeAssistant(
        answers={
            "Who made it?": Answer(
                "Who made it?",
                "Made by UNICRI.",
                False,
                [citation("a.pdf", 1), citation("b.pdf", 4)],
            ),
            "EU fine?": Answer("EU fine?", "Some fine.", False, [citation("b.pdf", 1)]),
            # "And then?" and "GPU price?" fall back to a refusal.
        },
        passages={
            ("Who made it?", "hybrid"): [
                passage("a.pdf", 1),
                passage("a.pdf", 1),
                passage("b.pdf", 2),
            ],
            ("And then?", "hybrid"): [
                passage("g.md", None, "Intro"),
                passage("g.md", None, "A > Model"),
            ],
            ("Who made it?", "keyword"): [passage("b.pdf", 2)],
        },
    )


def test_scores_every_metric_and_the_json_contract() -> None:
    assistant = fake()
    result = evaluate(EvalSet("mini", Path("mini.jsonl"), QUESTIONS), assistant)
    data = result.to_dict()
    assert set(data) == {"set", "n", "metrics", "by_kind", "per_question"}
    assert data["set"] == "mini" and data["n"] == 4
    metrics = data["metrics"]
    assert metrics["hit@1"] == 0.5 and metrics["hit@5"] == 1.0  # f1 at rank 1, u1 at rank 2
    assert metrics["mrr@10"] == 0.75
    assert metrics["key_fact_recall"] == 0.5  # f1 has its fact, u1 was refused
    assert metrics["citation_precision"] == 0.5  # only f1 answered in scope: 1 of 2 citations
    assert metrics["refusal_accuracy"] == 0.5  # o1 refused, o2 answered
    assert metrics["false_refusal_rate"] == 0.5  # u1 refused
    assert (
        metrics["latency_p50_ms"] is not None
        and metrics["latency_p95_ms"] >= metrics["latency_p50_ms"]
    )
    assert data["by_kind"]["out_of_scope"]["n"] == 2
    assert data["by_kind"]["out_of_scope"]["hit@5"] is None
    assert data["by_kind"]["factoid"]["citation_precision"] == 0.5
    follow_up = next(q for q in data["per_question"] if q["id"] == "u1")
    assert follow_up["ranked_units"] == ["g.md#s:intro", "g.md#s:model"]
    assert follow_up["refused"] and follow_up["missing_facts"] == ["weights", "bias"]
    # A warm-up question first, then each question asked before it is retrieved, with history.
    assert assistant.calls[0] == ("ask", WARM_UP_QUESTION, ())
    assert ("ask", "And then?", ("Who made it?",)) in assistant.calls
    assert ("retrieve:hybrid", "And then?", ("Who made it?",)) in assistant.calls


def test_baselines_are_scored_on_retrieval_only() -> None:
    assistant = fake()
    from evals.baselines import bm25_retriever

    result = evaluate(
        EvalSet("mini", Path("mini.jsonl"), QUESTIONS),
        assistant,
        baselines={"bm25": bm25_retriever(assistant)},
    )
    bm25 = result.to_dict()["baselines"]["bm25"]
    assert bm25["metrics"] == {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    assert set(bm25["by_kind"]) == {"factoid", "follow-up"}


def test_an_eval_on_another_corpus_never_uses_the_app_store(tmp_path: Path) -> None:
    settings = Settings(
        store=tmp_path / "state" / "store", corpus=tmp_path / "corpus", chroma_url="http://h:1"
    )
    assert eval_settings(settings, tmp_path / "corpus", None) is settings
    other = eval_settings(settings, tmp_path / "nist.pdf", None)
    assert other.store.parent == tmp_path / "state" / "eval-stores" and other.chroma_url is None
    assert eval_settings(settings, tmp_path / "nist.pdf", None).store == other.store
    mine = eval_settings(settings, tmp_path / "x", tmp_path / "mine")
    assert mine.store == tmp_path / "mine" and mine.chroma_url is None


def test_gold_sources_must_be_indexed() -> None:
    from evals.runner import check_gold_sources
    from evals.sets_io import EvalSetError
    from ingest.models import RefreshReport

    eval_set = EvalSet(
        "mini",
        Path("mini.jsonl"),
        [EvalQuestion("q", "?", "factoid", (GoldRef("c.pdf", (1,)),), line=7)],
    )
    with pytest.raises(
        EvalSetError, match=r"mini.jsonl:7: gold source 'c.pdf' is not in the index"
    ):
        check_gold_sources(eval_set, RefreshReport(unchanged=["sub/a.pdf"]), Path("corpus"))
    check_gold_sources(eval_set, RefreshReport(added=["sub/c.pdf"]), Path("corpus"))


class _CountingChecker:
    """Accepts the sentences of an answer that do not mention a fine."""

    def check_answer(self, answer: Answer) -> list:
        from types import SimpleNamespace

        lines = [line for line in answer.answer.split(". ") if line]
        return [SimpleNamespace(verified="fine" not in line) for line in lines]


def test_supported_sentence_rate_pools_the_shown_sentences_of_answered_questions() -> None:
    assistant = fake()
    assistant.answers["Who made it?"] = Answer(
        "Who made it?",
        "Made by UNICRI. In 2020.",
        False,
        [citation("a.pdf", 1)],
        answerer="generative",
    )
    result = evaluate(
        EvalSet("mini", Path("mini.jsonl"), QUESTIONS), assistant, verifier=_CountingChecker()
    )
    metrics = result.to_dict()["metrics"]
    # "Who made it?": 2 of 2 sentences; "EU fine?": 0 of 1; refusals are not checked.
    assert metrics["supported_sentence_rate"] == round(2 / 3, 4)
    assert metrics["generated_rate"] == 0.5
    assert (
        "supported_sentence_rate"
        not in evaluate(EvalSet("mini", Path("mini.jsonl"), QUESTIONS), fake()).metrics
    )
