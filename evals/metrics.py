"""Scores for one question and their means: retrieval at page level, answers, latency.

Retrieval is scored on *units*, not chunks: a PDF page (source, page) or, for documents
without pages, a section. Several chunks of one page count once, so a retriever is not
rewarded for returning the same page three times. The IR formulas are trec_eval's, through
pytrec-eval-terrier (the C trec_eval, called in-process).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from evals.sets_io import GoldRef, page_unit_id, section_unit_id

RANKING_DEPTH = 10
# Our names -> trec_eval's. hit@k is success_k (1 if any relevant unit is in the top k);
# MRR@10 is recip_rank over rankings cut at RANKING_DEPTH.
RETRIEVAL_METRICS = {
    "hit@1": "success_1",
    "hit@5": "success_5",
    "mrr@10": "recip_rank",
    "ndcg@10": "ndcg_cut_10",
}
_TREC_MEASURES = {"success.1,5", "recip_rank", "ndcg_cut.10"}
ANSWER_METRICS = (
    "key_fact_recall",
    "answer_first_rate",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)
# CRAG-style outcomes, each a share of all questions: they add up to 1 over a set.
OUTCOME_METRICS = (
    "answered_correct",  # in scope, answered, a key fact shown
    "answered_without_fact",  # in scope, answered, no key fact shown
    "refused_in_scope",  # in scope, refused: a false refusal
    "refused_out_of_scope",  # out of scope, refused: right
    "answered_out_of_scope",  # out of scope, answered: a guess
)
# Reported with `--answerer generative` only: the share of shown sentences that verification
# accepts, and the share of answers the model wrote (the rest fell back to quotes).
GENERATION_METRICS = ("supported_sentence_rate", "generated_rate")
# Metrics where less is better.
LOWER_IS_BETTER = frozenset(
    {
        "false_refusal_rate",
        "latency_p50_ms",
        "latency_p95_ms",
        "answered_without_fact",
        "refused_in_scope",
        "answered_out_of_scope",
    }
)


class Located(Protocol):
    """Anything that points into the corpus: a Passage, a Citation, a baseline hit."""

    source: str
    page: int | None
    section: str


def unit_of(hit: Located, gold: Sequence[GoldRef]) -> str:
    """The hit's ranking unit; named like the gold unit it matches, so the scorer sees it."""
    for ref in gold:
        unit = ref.matching_unit(hit.source, hit.page, hit.section)
        if unit is not None:
            return unit
    if hit.page is not None:
        return page_unit_id(hit.source, hit.page)
    return section_unit_id(hit.source, hit.section)


def ranked_units(
    hits: Iterable[Located], gold: Sequence[GoldRef], depth: int = RANKING_DEPTH
) -> list[str]:
    """Distinct units in the order their first passage was retrieved."""
    units: list[str] = []
    for hit in hits:
        unit = unit_of(hit, gold)
        if unit not in units:
            units.append(unit)
    return units[:depth]


def relevant_units(gold: Sequence[GoldRef]) -> list[str]:
    return list(dict.fromkeys(unit for ref in gold for unit in ref.units()))


@dataclass
class RetrievalScores:
    """`overall` holds the mean of each metric; `per_question[id][metric]` the single scores."""

    overall: dict[str, float | None]
    per_question: dict[str, dict[str, float]]


def retrieval_scores(
    rankings: dict[str, list[str]], relevant: dict[str, list[str]]
) -> RetrievalScores:
    """hit@1, hit@5, MRR@10 and nDCG@10 for every question in `relevant`.

    trec_eval (pytrec-eval-terrier) rather than ranx: ranx compiles its metrics with numba
    in each new process, 34 s cold and 13 s with numba's disk cache on the 2-core machine,
    paid by every eval run and test process; trec_eval scores a whole set in milliseconds,
    with the same values (tests/evals/test_metrics.py). A question that retrieved nothing
    scores 0.
    """
    if not relevant:
        return RetrievalScores({name: None for name in RETRIEVAL_METRICS}, {})
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(
        {qid: dict.fromkeys(units, 1) for qid, units in relevant.items()}, _TREC_MEASURES
    )
    run = {
        # trec_eval orders by score: the first unit gets the highest.
        qid: {unit: float(RANKING_DEPTH - rank) for rank, unit in enumerate(units)}
        for qid, units in ((qid, rankings.get(qid, [])[:RANKING_DEPTH]) for qid in relevant)
        if units  # trec_eval leaves out a question without a ranking: it scores 0 below
    }
    scored = evaluator.evaluate(run)
    per_question = {
        qid: {
            ours: float(scored.get(qid, {}).get(theirs, 0.0))
            for ours, theirs in RETRIEVAL_METRICS.items()
        }
        for qid in relevant
    }
    overall = {
        name: mean(scores[name] for scores in per_question.values()) for name in RETRIEVAL_METRICS
    }
    return RetrievalScores(overall, per_question)


def normalize_text(text: str) -> str:
    """Case-folded with whitespace runs collapsed: how key facts are looked for."""
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class FactCheck:
    recall: float | None  # None when the question lists no key facts
    missing: list[str]


def key_fact_recall(answer_text: str, key_facts: Sequence[str]) -> FactCheck:
    """The share of key facts that occur in the answer text."""
    if not key_facts:
        return FactCheck(None, [])
    text = normalize_text(answer_text)
    missing = [fact for fact in key_facts if normalize_text(fact) not in text]
    return FactCheck(1 - len(missing) / len(key_facts), missing)


def opening(answer_text: str) -> str:
    """What an answer opens with: its first sentence, or its first list whole.

    Answer lines are one quoted unit each; list items start with "- ". An opener that
    introduces a list ("... the following:") is read with its items.
    """
    lines = [line for line in answer_text.split("\n") if line.strip()]
    if not lines:
        return ""
    first = lines[0]
    if not (first.startswith("- ") or first.rstrip(" 0123456789[]").rstrip().endswith(":")):
        return first
    block = [first]
    for line in lines[1:]:
        if not line.startswith("- "):
            break
        block.append(line)
    return "\n".join(block)


def answers_first(answer_text: str, key_facts: Sequence[str]) -> bool | None:
    """Whether the answer's opening holds a key fact; None when the question lists none."""
    if not key_facts:
        return None
    text = normalize_text(opening(answer_text))
    return any(normalize_text(fact) in text for fact in key_facts)


def citation_precision(citations: Sequence[Located], gold: Sequence[GoldRef]) -> float:
    """The share of citations that point at a gold page or section.

    An answer without citations scores 0: an uncited answer is what this assistant exists
    to prevent, so it must not vanish from the mean.
    """
    if not citations:
        return 0.0
    hits = sum(
        any(ref.matching_unit(c.source, c.page, c.section) for ref in gold) for c in citations
    )
    return hits / len(citations)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; None when there are none (a metric that does not apply)."""
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None
