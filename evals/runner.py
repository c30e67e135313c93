"""Run an eval set against the assistant (and baselines) and score it.

`evaluate` is the whole run; the CLI only prepares the index and prints. Latency is of a
warm assistant: one untimed question first loads the model, the index and the caches.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.qa.models import Answer
from evals.baselines import Retriever
from evals.metrics import (
    OUTCOME_METRICS,
    RANKING_DEPTH,
    RETRIEVAL_METRICS,
    Located,
    answers_first,
    citation_precision,
    key_fact_recall,
    mean,
    percentile,
    ranked_units,
    relevant_units,
    retrieval_scores,
    unit_of,
)
from evals.sets_io import KINDS, OUT_OF_SCOPE, EvalQuestion, EvalSet, EvalSetError
from ingest.models import RefreshReport
from ingest.settings import Settings

if TYPE_CHECKING:
    from assistant.qa.service import Assistant

EVAL_STORES_DIR = "eval-stores"  # beside the app store: .toolkit-assistant/eval-stores/
WARM_UP_QUESTION = "What is responsible AI innovation in policing?"
# question index (1-based), total
ProgressCallback = Callable[[int, int], None]


class EvaluatedAssistant(Protocol):
    """What the evals need of `assistant.qa.service.Assistant` (fakes implement it in tests)."""

    def ask(
        self, question: str, history: list[str] | None = None, k: int | None = None
    ) -> Answer: ...

    def retrieve(
        self, question: str, history: list[str] | None = None, k: int = 10, mode: str = "hybrid"
    ) -> list[Located]: ...


# -- the index ------------------------------------------------------------------------------
def eval_settings(settings: Settings, corpus: Path, store: Path | None) -> Settings:
    """Settings whose store holds `corpus`: never the app's index unless it is that corpus.

    An explicit `--store` wins, and is embedded. For another corpus the store is a folder of
    its own beside the app's store, keyed by the corpus path, and embedded too: on a shared
    Chroma server either would replace the app's generation.
    """
    if store is not None:
        return settings.model_copy(update={"store": store, "chroma_url": None})
    if corpus.resolve() == settings.corpus.resolve():
        return settings
    key = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
    return settings.model_copy(
        update={"store": settings.store.parent / EVAL_STORES_DIR / key, "chroma_url": None}
    )


def check_gold_sources(eval_set: EvalSet, report: RefreshReport, corpus: Path) -> None:
    """A gold source missing from the index would score 0 silently: refuse the run instead."""
    indexed = {
        source.rsplit("/", 1)[-1] for source in report.added + report.updated + report.unchanged
    }
    for question in eval_set.questions:
        for ref in question.gold:
            if ref.source not in indexed:
                raise EvalSetError(
                    f"{eval_set.path}:{question.line}: gold source {ref.source!r} is not in the "
                    f"index of {corpus}; pass the corpus it comes from with --corpus"
                )


def without_own_questions(assistant: Assistant, eval_set: EvalSet) -> None:
    """Leave `eval_set`'s own questions out of the assistant's question list: the `tune`
    splits are in it (evals/tune_questions.py), and a question there would find itself.
    A `tune` split is then scored on what the other rounds' questions bring."""
    retriever = assistant.retriever
    if retriever.adapter is not None:
        retriever.adapter = retriever.adapter.without_source(eval_set.name)


# -- one run ---------------------------------------------------------------------------------
@dataclass
class QuestionResult:
    id: str
    kind: str
    question: str
    refused: bool
    answer: str
    latency_ms: float
    ranked_units: list[str]  # distinct (source, page|section) units, best first
    relevant_units: list[str]
    retrieval: dict[str, float] = field(default_factory=dict)  # empty when out of scope
    key_fact_recall: float | None = None
    answer_first: bool | None = None  # None when refused, out of scope or without key facts
    missing_facts: list[str] = field(default_factory=list)
    citation_precision: float | None = None  # None when refused or out of scope
    cited_units: list[str] = field(default_factory=list)
    answerer: str = "extractive"  # who wrote the text shown (a fallback shows extractive)
    # Sentences shown and those verification accepts; None when not checked or refused.
    shown_sentences: int | None = None
    supported_sentences: int | None = None

    @property
    def in_scope(self) -> bool:
        return self.kind != OUT_OF_SCOPE

    def to_dict(self) -> dict:
        data = asdict(self)
        data["latency_ms"] = round(self.latency_ms, 1)
        return data


@dataclass
class SystemScores:
    """A baseline's retrieval metrics, overall and by question kind."""

    metrics: dict[str, float | None]
    by_kind: dict[str, dict[str, float | None]]

    def to_dict(self) -> dict:
        return {"metrics": self.metrics, "by_kind": self.by_kind}


@dataclass
class EvalResult:
    set_name: str
    questions: list[QuestionResult]
    baselines: dict[str, SystemScores] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float | None]:
        return summarize(self.questions)

    @property
    def by_kind(self) -> dict[str, dict[str, float | int | None]]:
        return {
            kind: {"n": len(group), **summarize(group)}
            for kind, group in _group_by_kind(self.questions).items()
        }

    def to_dict(self) -> dict:
        """The `eval --json` contract."""
        data = {
            "set": self.set_name,
            "n": len(self.questions),
            "metrics": self.metrics,
            "by_kind": self.by_kind,
            "per_question": [q.to_dict() for q in self.questions],
        }
        if self.baselines:
            data["baselines"] = {name: scores.to_dict() for name, scores in self.baselines.items()}
        return data


class SentenceChecker(Protocol):
    """What the evals need of `assistant.llm.verify.Verifier`."""

    def check_answer(self, answer: Answer) -> list: ...


def evaluate(
    eval_set: EvalSet,
    assistant: EvaluatedAssistant,
    baselines: dict[str, Retriever] | None = None,
    progress: ProgressCallback | None = None,
    verifier: SentenceChecker | None = None,
) -> EvalResult:
    """Ask every question, score the answers and the retrieval, then score the baselines.

    With a `verifier`, every sentence an answer shows is checked against its citations
    (`supported_sentence_rate`).
    """
    progress = progress or (lambda done, total: None)
    questions = eval_set.questions
    assistant.ask(WARM_UP_QUESTION)
    results = []
    for done, question in enumerate(questions, start=1):
        results.append(_ask_one(question, assistant, verifier))
        progress(done, len(questions))
    scores = retrieval_scores(
        {r.id: r.ranked_units for r in results},
        {r.id: r.relevant_units for r in results if r.in_scope},
    )
    for result in results:
        result.retrieval = scores.per_question.get(result.id, {})
    baseline_scores = {
        name: score_retriever(questions, retriever) for name, retriever in (baselines or {}).items()
    }
    return EvalResult(eval_set.name, results, baseline_scores)


def _ask_one(
    question: EvalQuestion, assistant: EvaluatedAssistant, verifier: SentenceChecker | None
) -> QuestionResult:
    history = list(question.history)
    # Ask before retrieving: retrieval would warm the query-embedding cache for `ask`.
    started = time.perf_counter()
    answer = assistant.ask(question.question, history or None)
    latency_ms = (time.perf_counter() - started) * 1000
    passages = assistant.retrieve(question.question, history or None, k=RANKING_DEPTH)
    # Key facts count anywhere the officer is shown them: the answer and "More from the
    # sources"; answer_first_rate says whether the answer opens with one.
    facts = key_fact_recall(f"{answer.answer}\n{answer.more}", question.key_facts)
    answered_in_scope = question.in_scope and not answer.refused
    checked = verifier.check_answer(answer) if verifier and not answer.refused else None
    return QuestionResult(
        id=question.id,
        kind=question.kind,
        question=question.question,
        refused=answer.refused,
        answer=answer.answer,
        latency_ms=latency_ms,
        ranked_units=ranked_units(passages, question.gold),
        relevant_units=relevant_units(question.gold),
        key_fact_recall=facts.recall if question.in_scope else None,
        answer_first=answers_first(answer.answer, question.key_facts)
        if answered_in_scope
        else None,
        missing_facts=facts.missing,
        citation_precision=citation_precision(answer.citations, question.gold)
        if answered_in_scope
        else None,
        cited_units=[unit_of(c, question.gold) for c in answer.citations],
        answerer=answer.answerer,
        shown_sentences=None if checked is None else len(checked),
        supported_sentences=None if checked is None else sum(c.verified for c in checked),
    )


def score_retriever(questions: Sequence[EvalQuestion], retriever: Retriever) -> SystemScores:
    """Retrieval metrics of another retriever over the in-scope questions."""
    in_scope = [q for q in questions if q.in_scope]
    rankings = {
        q.id: ranked_units(retriever(q.question, list(q.history)), q.gold) for q in in_scope
    }
    scores = retrieval_scores(rankings, {q.id: relevant_units(q.gold) for q in in_scope})
    by_kind: dict[str, dict[str, float | None]] = {}
    for kind in KINDS:
        ids = [q.id for q in in_scope if q.kind == kind]
        if ids:
            by_kind[kind] = {
                name: _rounded(mean(scores.per_question[i][name] for i in ids))
                for name in RETRIEVAL_METRICS
            }
    overall = {name: _rounded(value) for name, value in scores.overall.items()}
    return SystemScores(overall, by_kind)


def summarize(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """Every metric over `results`; None where it does not apply (e.g. no out-of-scope question)."""
    in_scope = [r for r in results if r.in_scope]
    out_of_scope = [r for r in results if not r.in_scope]
    latencies = [r.latency_ms for r in results]
    metrics: dict[str, float | None] = {
        name: mean(r.retrieval.get(name) for r in in_scope) for name in RETRIEVAL_METRICS
    }
    metrics.update(
        key_fact_recall=mean(r.key_fact_recall for r in in_scope),
        answer_first_rate=mean(
            None if r.answer_first is None else float(r.answer_first) for r in in_scope
        ),
        citation_precision=mean(r.citation_precision for r in in_scope),
        refusal_accuracy=mean(float(r.refused) for r in out_of_scope),
        false_refusal_rate=mean(float(r.refused) for r in in_scope),
        latency_p50_ms=percentile(latencies, 50),
        latency_p95_ms=percentile(latencies, 95),
    )
    metrics.update(_outcomes(results))
    checked = [r for r in results if r.shown_sentences is not None]
    if checked:
        shown = sum(r.shown_sentences or 0 for r in checked)
        metrics["supported_sentence_rate"] = (
            sum(r.supported_sentences or 0 for r in checked) / shown if shown else None
        )
        # Answers whose shown text the model wrote, not the extractive fallback.
        metrics["generated_rate"] = mean(float(r.answerer == "generative") for r in checked)
    return {name: _rounded(value) for name, value in metrics.items()}


def outcome(result: QuestionResult) -> str:
    """The CRAG-style outcome of one question (`OUTCOME_METRICS`)."""
    if not result.in_scope:
        return "refused_out_of_scope" if result.refused else "answered_out_of_scope"
    if result.refused:
        return "refused_in_scope"
    return "answered_correct" if result.key_fact_recall else "answered_without_fact"


def _outcomes(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    if not results:
        return dict.fromkeys(OUTCOME_METRICS)
    counts = {name: 0 for name in OUTCOME_METRICS}
    for result in results:
        counts[outcome(result)] += 1
    return {name: count / len(results) for name, count in counts.items()}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _group_by_kind(results: Sequence[QuestionResult]) -> dict[str, list[QuestionResult]]:
    groups: dict[str, list[QuestionResult]] = {}
    for kind in KINDS:
        group = [r for r in results if r.kind == kind]
        if group:
            groups[kind] = group
    return groups
