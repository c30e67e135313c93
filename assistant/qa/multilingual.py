"""Questions in French, Spanish and Arabic: the multilingual dense side and its refusal.

For a question not in English, MiniLM's and English BM25's lists are noise (a probe on the
shared PDFs: naive fusion of all three scored hit@5 0.21-0.25 against 0.375 for e5 alone),
so such a question is answered from the e5 list fused with the keyword list analysed in
the question's language (which finds same-language documents and names). English questions
are not touched here: `e5_ranked` is there for a caller that wants to fuse it in English too.

Refusal for these questions is on the e5 cosine of the best passage, with its own threshold
(`answer.min_multilingual_score`): MiniLM's cosine and the English term coverage say nothing
about a French question. A question is never refused for its language: when the encoder is
off or cannot load, it gets `english_only_notice` in its own language instead.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.i18n import translate
from assistant.qa.answer import ExtractiveAnswerer
from assistant.qa.models import Answer, Passage
from assistant.qa.refusal import Evidence, states_quantity
from ingest.keyword_index import fold_diacritics
from ingest.multilingual import (
    DIM,
    MODEL_NAME,
    MultilingualEncoder,
    MultilingualVectors,
    say_unavailable_once,
    vectors_dir,
)
from ingest.settings import Settings
from ingest.vector_cache import cached

_RERANK_SENTENCES = 8
_WARM_BATCH = 4
ENGLISH_ONLY = "This installation answers in English only. Please ask your question in English."


def fuse(lists: Sequence[Sequence[str]], weights: Sequence[float], c: int = 60) -> list[str]:
    """Weighted reciprocal-rank fusion of ranked id lists, best first (ties: first seen)."""
    scores: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        if weight <= 0:
            continue
        for rank, item in enumerate(ranked):
            scores[item] = scores.get(item, 0.0) + weight / (c + rank + 1)
    return sorted(scores, key=lambda item: -scores[item])


class MultilingualSide:
    """The e5 vectors of the current generation and the queries against them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # As many engine threads as MiniLM has (one in `serve`) unless set: MultilingualEncoder.
        self.encoder = MultilingualEncoder(threads=settings.ingest.multilingual_threads)
        self._loaded: tuple[str, MultilingualVectors | None] = ("", None)
        self._lock = threading.Lock()
        self.reason = None if not settings.retrieval.multilingual else say_unavailable_once()

    @property
    def enabled(self) -> bool:
        return self.settings.retrieval.multilingual and self.reason is None

    def vectors(self, generation: str) -> MultilingualVectors | None:
        """The generation's vectors (None until `ingest` has made them), loaded once."""
        held = self._loaded
        if held[0] == generation:
            return held[1]
        with self._lock:
            if self._loaded[0] != generation:
                found = MultilingualVectors.load(vectors_dir(self.settings.store, generation))
                rows = {chunk_id: row for row, chunk_id in enumerate(found.ids)} if found else {}
                self._rows = rows
                self._loaded = (generation, found)
            return self._loaded[1]

    def answers(self, generation: str) -> bool:
        """Whether non-English questions can be answered from this generation."""
        return self.enabled and self.vectors(generation) is not None

    def e5_ranked(self, generation: str, query: str, n: int) -> list[tuple[str, float]]:
        """The `n` chunks nearest the query in e5's space, as (id, cosine), best first."""
        found = self.vectors(generation)
        if found is None or not found.ids:
            return []
        scores = found.vectors @ self.encoder.embed_query(query)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(found.ids[i], float(scores[i])) for i in top]

    def similarities(self, generation: str, query: str, ids: list[str]) -> dict[str, float]:
        found = self.vectors(generation)
        if found is None:
            return {}
        vector = self.encoder.embed_query(query)
        rows = self._rows
        return {i: float(found.vectors[rows[i]] @ vector) for i in ids if i in rows}

    def ranked_ids(self, snapshot, query: str, language: str, n: int) -> list[str]:
        """e5 and same-language keyword lists fused by the weights of the settings.

        The keyword list keeps only chunks in the question's language: a French question's
        stems match English chunks by accident ("principes" is not "principl"), and with
        them the list cost 5-10 points of hit@5 on the translated sets.
        """
        dense = [i for i, _ in self.e5_ranked(snapshot.generation, query, n)]
        keyword = [
            i
            for i, _ in snapshot.keyword.search(query, n, language)
            if snapshot.keyword.language_of(i) == language
        ]
        weight = self.settings.retrieval.multilingual_keyword_weight
        return fuse([dense, keyword], [1 - weight, weight], self.settings.retrieval.rrf_c)

    def rescored(self, generation: str, query: str, passages: list[Passage]) -> list[Passage]:
        """The passages with `dense_score` as e5's cosine: what refusal and citations show."""
        scores = self.similarities(generation, query, [p.chunk_id for p in passages])
        return [_with_score(p, round(scores.get(p.chunk_id, 0.0), 4)) for p in passages]


def _with_score(passage: Passage, score: float) -> Passage:
    from dataclasses import replace

    return replace(passage, dense_score=score)


# Letters, then letters or digits: an apostrophe ends a word, so "l'Australie" gives
# "Australie" (French and Spanish elisions), and a hyphen too ("Royaume-Uni").
_NAME = re.compile(r"[^\W\d_][^\W_]*")
# "IA" is French and Spanish for "AI": a word, not a name the corpus must contain.
_NOT_NAMES = frozenset({"ia"})


def unknown_names_any_script(question: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """Capitalised words and acronyms after the first that the corpus never uses.

    As `refusal.unknown_names`, for questions in any language: accents are folded before
    the corpus's words are looked up ("Secrétariat" is "secretariat").
    """
    names = []
    for word in _NAME.findall(question)[1:]:
        lower = word.lower()
        if not word[0].isupper() or lower in _NOT_NAMES:
            continue
        if lower not in vocabulary and fold_diacritics(lower) not in vocabulary:
            names.append(word)
    return tuple(names)


def multilingual_evidence(
    question: str, passages: list[Passage], vocabulary: frozenset[str]
) -> Evidence:
    """e5's best cosine (term coverage is not measured across languages: 1.0)."""
    best = max((p.dense_score for p in passages), default=0.0)
    return Evidence(best, 1.0, unknown_names_any_script(question, vocabulary))


def is_weak_multilingual(evidence: Evidence, settings: Settings, language: str) -> bool:
    threshold = settings.answer.min_multilingual_score.get(language, 1.0)
    return evidence.dense_score < threshold or bool(evidence.unknown_names)


# A question asking for an amount of money or a penalty needs a quoted sentence stating it,
# as in English (`refusal.states_quantity`); the English check is reused through the
# English question it stands for, since the quotes may be English.
_AMOUNTS = (
    (
        re.compile(r"\b(amendes?|multas?|sanci[oó]n)\b|غرام", re.IGNORECASE),
        "What is the maximum fine?",
    ),
    (re.compile(r"\beuros?\b|يورو", re.IGNORECASE), "How many euros?"),
    (re.compile(r"\b(budget|presupuesto)\b|ميزاني", re.IGNORECASE), "What is the budget?"),
)


def states_quantity_any_language(question: str, language: str, sentences: list[str]) -> bool:
    """`refusal.states_quantity` for a question in French, Spanish or Arabic; True for an
    English one, which `states_quantity` reads itself ("budget" is English too: "How do we
    rank risks when there isn't the budget to fix all of them?" asks no amount)."""
    if language == "en":
        return True
    for pattern, english in _AMOUNTS:
        if pattern.search(question):
            return states_quantity(english, sentences)
    return True


def english_only_answer(question: str, language: str) -> Answer:
    """Not a refusal: the officer is told to ask in English, in their own language."""
    text = translate(ENGLISH_ONLY, language)
    return Answer(question=question, answer=text, refused=False, notice=text)


class _NoLexicalEvidence:
    """The answerer's word-overlap weights, all nil: English term overlap between a French
    question and its quotes is noise (French function words "les", "des" only match French
    sentences, whatever they say), so sentences are chosen by e5's similarity alone."""

    def idf(self, term: str) -> float:
        return 0.0


class _E5Sentences:
    """The answerer's sentence encoder for non-English questions: e5, query against passages.

    `ExtractiveAnswerer._semantic` embeds [question, *sentences] and takes dot products;
    this gives it e5 vectors for them ("query: " for the first, "passage: " for the rest).
    Sentence vectors are kept for the process, shared by every generation's answerer (the
    same sentences recur across questions and refreshes), and filled ahead of questions by
    `warm` once a question not in English has been asked (Assistant.pre_embed_sentences).
    """

    capacity = 50_000
    _cache: dict[str, np.ndarray] = {}
    _lock = threading.Lock()

    def __init__(self, encoder: MultilingualEncoder, vector_cache: Path | None = None) -> None:
        self.encoder = encoder
        # Corpus sentences only, never the question: see ingest/vector_cache.py.
        self._encode = cached(vector_cache, MODEL_NAME, DIM, encoder.embed_passages)

    def _missing(self, sentences: list[str]) -> list[str]:
        with self._lock:
            return [t for t in dict.fromkeys(sentences) if t not in self._cache]

    def _add(self, texts: list[str]) -> None:
        vectors = self._encode(texts)
        with self._lock:
            if len(self._cache) + len(texts) > self.capacity:
                self._cache.clear()
            self._cache.update(zip(texts, vectors, strict=True))

    def embed_short(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        query, sentences = texts[0], texts[1:]
        missing = self._missing(sentences)
        if missing:
            self._add(missing)
        with self._lock:
            rows = [self._cache[t] for t in sentences]
        return np.stack([self.encoder.embed_query(query), *rows])

    def warm(self, sentences: list[str], batch: int = _WARM_BATCH) -> int:
        """Encode the sentences not yet held, a few at a time; how many were encoded.

        Small batches (~0.25 s each on one thread): a question waiting for the engine
        gets it between two of them.
        """
        missing = self._missing(sentences)
        for start in range(0, len(missing), batch):
            self._add(missing[start : start + batch])
        return len(missing)


def multilingual_answerer(
    settings: Settings, side: MultilingualSide, boilerplate: frozenset[str]
) -> ExtractiveAnswerer:
    """The quoting answerer for French, Spanish and Arabic questions: e5 picks the sentences.

    Fewer sentences are re-scored than in English (e5 encodes ~3x slower than MiniLM).
    """
    answer_settings = settings.answer.model_copy(
        update={"rerank_sentences": min(settings.answer.rerank_sentences, _RERANK_SENTENCES)}
    )
    return ExtractiveAnswerer(
        answer_settings,
        _E5Sentences(side.encoder, settings.ingest.vector_cache),
        _NoLexicalEvidence(),
        boilerplate,
    )


def warm_sentences(side: MultilingualSide, settings: Settings, sentences: list[str]) -> int:
    """e5 vectors of the corpus's quotable sentences, ahead of questions not in English."""
    return _E5Sentences(side.encoder, settings.ingest.vector_cache).warm(sentences)
