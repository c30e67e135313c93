"""Answerers: (question, passages, history) -> Answer.

The default is extractive: it quotes the sentences of the retrieved passages that answer
the question, so every sentence shown is a verbatim span of the passage it cites. A
generative backend can take its place behind the same `Answerer` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.models import Answer, Citation, Passage
from assistant.sentences import Unit, split_units
from ingest.embedding import Embedder
from ingest.keyword_index import KeywordIndex, terms
from ingest.settings import AnswerSettings

_MIN_WORDS = 4
_LIST_ITEMS_MAX = 10
# Share of the best unit's score another unit needs to join the answer.
_JOIN_RATIO = 0.72
_REDUNDANT_JACCARD = 0.6
_SHORT_OPENER_WORDS = 16


class Answerer(Protocol):
    def answer(self, question: str, passages: list[Passage], history: list[str]) -> Answer: ...


@dataclass(frozen=True)
class _Candidate:
    passage_index: int
    unit: Unit
    lexical: float
    score: float


class ExtractiveAnswerer:
    """Selects, orders and cites sentences; never writes a word of its own."""

    def __init__(
        self, settings: AnswerSettings, embedder: Embedder, keyword: KeywordIndex,
        boilerplate: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.keyword = keyword
        self.boilerplate = boilerplate

    def answer(self, question: str, passages: list[Passage], history: list[str]) -> Answer:
        candidates = self._score(question, history, passages)
        if not candidates:
            return Answer(question=question, answer="", refused=True)
        selected = self._select(candidates)
        return _compose(question, passages, selected, candidates)

    # -- scoring ---------------------------------------------------------------------
    def _score(self, question: str, history: list[str], passages: list[Passage]) -> list[_Candidate]:
        weights = {t: self.keyword.idf(t) for t in set(terms(question))}
        if history:  # a follow-up's own words matter most; the previous question's a little
            for t in set(terms(history[-1])) - weights.keys():
                weights[t] = 0.3 * self.keyword.idf(t)
        total = sum(weights.values()) or 1.0
        lexical: list[tuple[int, Unit, float]] = []
        for index, passage in enumerate(passages):
            for unit in split_units(passage.text):
                if unit.text in self.boilerplate:
                    continue
                if len(unit.text.split()) < _MIN_WORDS and not unit.is_list_item:
                    continue
                unit_terms = set(terms(unit.text))
                overlap = sum(w for t, w in weights.items() if t in unit_terms) / total
                lexical.append((index, unit, overlap))
        if not lexical:
            return []

        def prior(index: int) -> float:
            return passages[index].dense_score - 0.03 * index

        # Re-score only the best few with the encoder: it costs ~10 ms a sentence on a CPU.
        lexical.sort(key=lambda c: c[2] + 0.5 * prior(c[0]), reverse=True)
        top = lexical[: max(1, self.settings.rerank_sentences)]
        semantic = self._semantic(question, history, [u.text for _, u, _ in top])
        scored = [
            _Candidate(i, u, lex, 0.5 * sem + 0.3 * lex + 0.2 * prior(i))
            for (i, u, lex), sem in zip(top, semantic, strict=True)
        ]
        scored += [_Candidate(i, u, lex, 0.3 * lex + 0.2 * prior(i)) for i, u, lex in lexical[len(top):]]
        return sorted(scored, key=lambda c: c.score, reverse=True)

    def _semantic(self, question: str, history: list[str], texts: list[str]) -> np.ndarray:
        if self.settings.rerank_sentences == 0:
            return np.zeros(len(texts))
        query = f"{history[-1]} {question}" if history else question
        vectors = self.embedder.embed_short([query, *texts])
        return vectors[1:] @ vectors[0]

    # -- selection --------------------------------------------------------------------
    def _select(self, candidates: list[_Candidate]) -> list[_Candidate]:
        best = candidates[0]
        selected = [best]
        # A short opener rarely stands alone ("The risk score is likelihood multiplied by
        # severity."): the next sentence of its paragraph usually completes it.
        if len(best.unit.text.split()) < _SHORT_OPENER_WORDS and not best.unit.is_list_intro:
            follower = next(
                (c for c in candidates if c.passage_index == best.passage_index
                 and c.unit.line == best.unit.line and c.unit.start > best.unit.start), None,
            )
            if follower is not None and follower.unit.start == min(
                c.unit.start for c in candidates
                if c.passage_index == best.passage_index and c.unit.start > best.unit.start
            ):
                selected.append(follower)
        for candidate in candidates[1:]:
            if len(selected) >= self.settings.max_sentences:
                break
            if candidate.score < _JOIN_RATIO * best.score:
                break
            if any(_redundant(candidate.unit.text, s.unit.text) for s in selected):
                continue
            selected.append(candidate)
        return selected


def _redundant(a: str, b: str) -> bool:
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / max(1, len(wa | wb)) >= _REDUNDANT_JACCARD


def _list_block(units: list[Unit], anchor: Unit) -> list[Unit]:
    """The list an anchor introduces or belongs to: its intro (if any) and its items."""
    index = units.index(anchor)
    if anchor.is_list_item:
        start = index
        while start > 0 and units[start - 1].is_list_item:
            start -= 1
        if start > 0 and units[start - 1].is_list_intro:
            start -= 1
    elif anchor.is_list_intro:
        start = index
    else:
        return [anchor]
    block = [units[start]]
    for unit in units[start + 1 :]:
        if not unit.is_list_item or len(block) > _LIST_ITEMS_MAX:
            break
        block.append(unit)
    return block


def _compose(
    question: str, passages: list[Passage], selected: list[_Candidate], candidates: list[_Candidate]
) -> Answer:
    """Opener first, then the rest grouped by passage in reading order; lists kept whole."""
    opener, rest = selected[0], selected[1:]
    order = [opener.passage_index] + sorted({c.passage_index for c in rest} - {opener.passage_index})
    numbers: dict[int, int] = {}
    quotes: dict[int, list[Unit]] = {}
    lines: list[str] = []
    used: set[tuple[int, int]] = set()

    def emit(passage_index: int, unit_list: list[Unit]) -> None:
        number = numbers.setdefault(passage_index, len(numbers) + 1)
        for unit in unit_list:
            if (passage_index, unit.start) in used:
                continue
            used.add((passage_index, unit.start))
            quotes.setdefault(passage_index, []).append(unit)
            prefix = "- " if unit.is_list_item else ""
            lines.append(f"{prefix}{unit.text} [{number}]")

    for passage_index in order:
        group = [c for c in selected if c.passage_index == passage_index]
        if passage_index == opener.passage_index:
            group = [opener] + sorted((c for c in group if c is not opener), key=lambda c: c.unit.start)
        else:
            group.sort(key=lambda c: c.unit.start)
        units = split_units(passages[passage_index].text)
        for candidate in group:
            # A list is quoted whole when the answer is the list: when its introduction
            # was chosen, or one of its items opens the answer.
            whole = candidate.unit.is_list_intro or (candidate is opener and candidate.unit.is_list_item)
            emit(passage_index, _list_block(units, candidate.unit) if whole else [candidate.unit])

    citations = [
        Citation(
            n=number, source=passages[i].source, title=passages[i].title, page=passages[i].page,
            section=passages[i].section, text=passages[i].text,
            quote=" \u2026 ".join(u.text for u in sorted(quotes[i], key=lambda u: u.start)),
            score=passages[i].dense_score,
        )
        for i, number in sorted(numbers.items(), key=lambda item: item[1])
    ]
    return Answer(question=question, answer="\n".join(lines), refused=False, citations=citations)
