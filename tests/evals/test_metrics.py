"""Page-level retrieval metrics (through trec_eval), key facts, citations, latency."""

from __future__ import annotations

import pytest
from eval_fakes import citation, passage

from evals.metrics import (
    citation_precision,
    key_fact_recall,
    percentile,
    ranked_units,
    relevant_units,
    retrieval_scores,
)
from evals.sets_io import GoldRef

GOLD = (GoldRef("a.pdf", pages=(2,)), GoldRef("glossary.md", section="1.7 Model"))


def test_chunks_of_one_page_are_one_unit_in_first_seen_order() -> None:
    hits = [passage("docs/a.pdf", 5), passage("a.pdf", 5), passage("a.pdf", 2), passage("b.pdf", 5)]
    assert ranked_units(hits, GOLD) == ["a.pdf#p5", "a.pdf#p2", "b.pdf#p5"]


def test_sections_are_named_after_the_gold_they_match() -> None:
    hits = [
        passage("glossary.md", None, "1 Basics > 1.7 Model"),
        passage("glossary.md", None, "1.7 model"),  # the same gold unit: counted once
        passage("glossary.md", None, "1 Basics > 1.8 Human in the loop"),
    ]
    units = ranked_units(hits, GOLD)
    assert units == ["glossary.md#s:1.7 model", "glossary.md#s:1 basics > 1.8 human in the loop"]
    assert units[0] in relevant_units(GOLD)


def test_ranking_is_cut_at_ten_units() -> None:
    hits = [passage("a.pdf", page) for page in range(1, 30)]
    assert len(ranked_units(hits, GOLD)) == 10


def test_retrieval_scores_overall_and_per_question() -> None:
    scores = retrieval_scores(
        rankings={
            "first": ["a#p1", "x#p1"],  # relevant at rank 1
            "second": ["x#p1", "y#p1", "a#p2"],  # relevant at rank 3
            "nothing": [],  # retrieved nothing: scores 0, no crash
            "unused": ["a#p1"],  # not in `relevant`: ignored
        },
        relevant={"first": ["a#p1"], "second": ["a#p2"], "nothing": ["a#p3"]},
    )
    first, second, nothing = (scores.per_question[q] for q in ("first", "second", "nothing"))
    assert first == {"hit@1": 1.0, "hit@5": 1.0, "mrr@10": 1.0, "ndcg@10": 1.0}
    assert second["hit@1"] == 0.0 and second["hit@5"] == 1.0
    assert second["mrr@10"] == pytest.approx(1 / 3)
    assert second["ndcg@10"] == pytest.approx(0.5)  # 1/log2(3+1)
    assert nothing == {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
    assert set(scores.per_question) == {"first", "second", "nothing"}
    assert scores.overall["hit@5"] == pytest.approx(2 / 3)
    assert scores.overall["mrr@10"] == pytest.approx((1 + 1 / 3) / 3)


def test_ndcg_counts_every_gold_page() -> None:
    scores = retrieval_scores({"q": ["a#p1", "x#p1"]}, {"q": ["a#p1", "a#p2"]})
    assert scores.per_question["q"]["hit@1"] == 1.0
    assert scores.per_question["q"]["ndcg@10"] == pytest.approx(1 / (1 + 1 / 1.5849625), rel=1e-4)


def test_no_in_scope_question_means_no_retrieval_score() -> None:
    scores = retrieval_scores({}, {})
    assert scores.overall == {"hit@1": None, "hit@5": None, "mrr@10": None, "ndcg@10": None}


def test_key_facts_ignore_case_and_whitespace() -> None:
    check = key_fact_recall(
        "The  review takes place\nNO LATER than 2028.", ["no later than 2028", "P.L. 116-283"]
    )
    assert check.recall == 0.5 and check.missing == ["P.L. 116-283"]
    assert key_fact_recall("anything", []).recall is None


def test_citation_precision_is_the_share_on_gold() -> None:
    cited = [
        citation("a.pdf", 2),
        citation("a.pdf", 9),
        citation("glossary.md", None, "X > 1.7 Model"),
    ]
    assert citation_precision(cited, GOLD) == pytest.approx(2 / 3)
    assert citation_precision([], GOLD) == 0.0


def test_percentile() -> None:
    assert percentile([10.0, 20.0, 30.0, 40.0], 50) == 25.0
    assert percentile([], 95) is None


def test_the_opening_is_the_first_sentence_or_the_first_list_whole() -> None:
    from evals.metrics import answers_first, opening

    listed = "The functions are as follows: [1]\n- Govern [1]\n- Map [1]\nAlso measure. [2]"
    assert opening(listed) == "The functions are as follows: [1]\n- Govern [1]\n- Map [1]"
    assert opening("A is B. [1]\nC is D. [2]") == "A is B. [1]"
    assert answers_first("A is B. [1]\nC is D. [2]", ["c is d"]) is False
    assert answers_first("A is B. [1]\nC is D. [2]", ["a IS  b"]) is True
    assert answers_first(listed, ["map"]) is True
    assert answers_first(listed, []) is None


def test_outcomes_share_every_question_and_add_up_to_one() -> None:
    from evals.runner import QuestionResult, summarize

    def result(kind: str, refused: bool, recall: float | None) -> QuestionResult:
        return QuestionResult(
            id=f"{kind}{refused}{recall}",
            kind=kind,
            question="q",
            refused=refused,
            answer="",
            latency_ms=1.0,
            ranked_units=[],
            relevant_units=[],
            key_fact_recall=recall,
        )

    metrics = summarize(
        [
            result("factoid", False, 1.0),
            result("factoid", False, 0.0),
            result("factoid", True, 0.0),
            result("out_of_scope", True, None),
        ]
    )
    assert metrics["answered_correct"] == 0.25
    assert metrics["answered_without_fact"] == 0.25
    assert metrics["refused_in_scope"] == 0.25
    assert metrics["refused_out_of_scope"] == 0.25
    assert metrics["answered_out_of_scope"] == 0.0


def test_a_relevant_unit_past_rank_ten_scores_nothing() -> None:
    ranking = [f"x#p{n}" for n in range(1, 11)] + ["a#p1"]  # relevant at rank 11
    scores = retrieval_scores({"q": ranking}, {"q": ["a#p1"]})
    assert scores.per_question["q"] == {"hit@1": 0.0, "hit@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}
