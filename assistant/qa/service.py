"""The assistant as a Python API: `Assistant(settings).ask(question, history) -> Answer`.

The CLI, the Gradio app and the evals all go through this class; none of them retrieves
or answers on its own.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.i18n import LANGUAGE_NAMES, translate
from assistant.qa.answer import Answerer, ExtractiveAnswerer, main_sentences, unmarked
from assistant.qa.definitions import typed_acronyms
from assistant.qa.domain import domain_model, near_domain_model
from assistant.qa.models import (
    REFUSAL_TEXT,
    Answer,
    AnswerTrace,
    Citation,
    Draft,
    Final,
    Passage,
    Retrieved,
    StreamEvent,
)
from assistant.qa.multilingual import (
    MultilingualSide,
    english_only_answer,
    is_weak_multilingual,
    multilingual_answerer,
    multilingual_evidence,
    states_quantity_any_language,
    warm_sentences,
)
from assistant.qa.opener import opener_adapter
from assistant.qa.query_adapter import query_adapter
from assistant.qa.refusal import (
    Evidence,
    is_weak,
    measure_evidence,
    states_quantity,
    states_what_is_asked,
)
from assistant.qa.retrieve import HybridRetriever, IndexSnapshot, retrieval_query
from ingest.embedding import EMBEDDING_DIM, MODEL_NAME, Embedder, return_freed_memory
from ingest.language import detect_language
from ingest.models import DocumentRecord
from ingest.sentences import split_units
from ingest.settings import Settings
from ingest.store import Store

MAX_QUESTION_CHARS = 2000
# C0 and C1 controls and DEL (U+009B alone starts a terminal escape sequence), and lone
# surrogates: JSON can carry "\ud800", which the tokenizer cannot encode (it raised TypeError).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_POINTERS = 3
_PRE_EMBED_BATCH = 32


# Builds the answerer actually used around the quoting one (e.g. a generative answerer that
# verifies against it and falls back to it); given the embedder it may verify with.
AnswererWrapper = Callable[[ExtractiveAnswerer, Embedder], Answerer]


class QuestionError(ValueError):
    """The question cannot be answered as typed; the message says what to change."""


def clean_question(question: str) -> str:
    """Control characters out, whitespace folded; empty or overlong questions refused."""
    text = " ".join(_CONTROL.sub(" ", question or "").split())
    if not text:
        raise QuestionError("the question is empty; type a question about the corpus")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask about one thing at a time."
        )
    return text


@dataclass(frozen=True)
class CorpusStatus:
    kind: str  # sample | official | mixed
    generation: str
    documents: list[DocumentRecord]


class Assistant:
    """Hybrid retrieval, refusal when the evidence is weak, then an answerer."""

    def __init__(
        self,
        settings: Settings,
        answerer: Answerer | None = None,
        wrap_answerer: AnswererWrapper | None = None,
    ) -> None:
        self.settings = settings
        self.store = Store.open(settings)
        self.embedder = Embedder.from_settings(settings.ingest)
        self.retriever = HybridRetriever(
            self.store, settings.retrieval, self.embedder, query_adapter(settings.retrieval)
        )
        # Read here, so that a broken bundled file is one clear error at start-up.
        self.domain_models = (
            (domain_model(), near_domain_model()) if settings.answer.domain_check else None
        )
        self.opener = opener_adapter() if settings.answer.opener_weight > 0 else None
        self.multilingual = MultilingualSide(settings)
        self.multilingual_asked = False
        self._answerer = answerer
        self._answerer_given = answerer is not None
        self._answerer_generation = ""
        # Chosen where the app is put together (assistant/compose.py): question answering
        # names only the `Answerer` interface, never the LLM code.
        self._wrap_answerer = wrap_answerer
        # The quoting answerer: the answer itself, or what the generative one verifies with
        # and falls back to. Its sentences are what `pre_embed_sentences` embeds.
        self._extractive = answerer if isinstance(answerer, ExtractiveAnswerer) else None
        # The pre-embedding thread and a question may both meet a new generation first: one
        # of them builds its answerer (a pass over every chunk), the other waits for it.
        self._answerer_lock = threading.Lock()
        # What every answer's audit record names besides its own generation and citations;
        # `assistant.compose` adds the versions and the chat model it chose.
        self.trace = AnswerTrace(embedding_model=MODEL_NAME)
        self._indexed: tuple[str, dict[str, str]] = ("", {})  # generation, source -> SHA-256
        self._indexed_lock = threading.Lock()

    def _answerer_for(self, snapshot: IndexSnapshot) -> Answerer:
        with self._answerer_lock:
            if not self._answerer_given and self._answerer_generation != snapshot.generation:
                self._answerer = self._extractive = self._build_extractive(snapshot)
                if self._wrap_answerer is not None:
                    self._answerer = self._wrap_answerer(self._extractive, self.embedder)
                self._answerer_generation = snapshot.generation
            return self._answerer

    def _multilingual_answerer_for(self, snapshot: IndexSnapshot) -> Answerer:
        """The answerer for questions not in English: the quoting one of
        assistant/qa/multilingual.py, wrapped like the English one when answers are
        generated (the model is asked to write in the question's language)."""
        with self._answerer_lock:
            held = getattr(self, "_multilingual_answerer", None)
            if held is None or held[0] != snapshot.generation:
                built = multilingual_answerer(
                    self.settings, self.multilingual, _boilerplate(snapshot)
                )
                if self._wrap_answerer is not None and not self._answerer_given:
                    built = self._wrap_answerer(built, self.embedder)
                self._multilingual_answerer = held = (snapshot.generation, built)
            return held[1]

    def _build_extractive(self, snapshot: IndexSnapshot) -> ExtractiveAnswerer:
        return ExtractiveAnswerer(
            self.settings.answer,
            self.embedder,
            snapshot.keyword,
            _boilerplate(snapshot),
            self.opener,
        )

    def warm_up(self) -> None:
        """Load the index and the model now rather than on the first officer's question."""
        self.retriever.snapshot()
        self.ask("What is responsible AI innovation?")

    def pre_embed_sentences(self, limit: int) -> int:
        """Embed the current corpus's quotable sentences ahead of questions; how many.

        A first-time question otherwise spends most of its answer time encoding about a
        dozen sentences; with them cached it costs one query encoding. Skipped (0) when
        the corpus has more than `limit` of them: the cache then fills as officers ask.
        """
        texts = self._quotable_sentences(self.retriever.snapshot(), limit)
        # Small batches: questions asked meanwhile get the encoder between two of them.
        for start in range(0, len(texts), _PRE_EMBED_BATCH):
            self.embedder.embed_short(texts[start : start + _PRE_EMBED_BATCH], corpus=True)
        return_freed_memory()
        return len(texts)

    def pre_embed_multilingual_sentences(self, limit: int) -> int:
        """The same sentences for e5, which picks the quotes for French, Spanish and Arabic
        questions; how many were encoded.

        Only once such a question has been asked (`multilingual_asked`): e5 is ~3x slower
        than MiniLM (the sample corpus's 1,300 sentences take ~75 s of one core), so an
        English-only installation never pays it. With `ingest.vector_cache` set the vectors
        come back from disk after a restart.
        """
        snapshot = self.retriever.snapshot()
        if not self.multilingual_asked or not self.multilingual.answers(snapshot.generation):
            return 0
        texts = self._quotable_sentences(snapshot, limit)
        return warm_sentences(self.multilingual, self.settings, texts) if texts else 0

    def _quotable_sentences(self, snapshot: IndexSnapshot, limit: int) -> list[str]:
        """The sentences answers quote from; none for an answerer given from outside (it
        quotes nothing) or past `limit` (the caches then fill as officers ask)."""
        self._answerer_for(snapshot)
        if self._extractive is None:
            return []
        texts = self._extractive.sentence_texts(
            (c.section, c.text) for c in snapshot.chunks.values()
        )
        return texts if len(texts) <= limit else []

    def generation(self) -> str:
        """The index generation questions are answered from now."""
        return self.retriever.snapshot().generation

    def corpus_status(self) -> CorpusStatus:
        snapshot = self.retriever.snapshot()
        return CorpusStatus(
            snapshot.corpus_kind, snapshot.generation, self.store.documents(snapshot.generation)
        )

    def retrieve(
        self, question: str, history: list[str] | None = None, k: int = 10, mode: str = "hybrid"
    ) -> list[Passage]:
        question = clean_question(question)
        language = detect_language(question)
        if language != "en" and mode == "hybrid":
            snapshot = self.retriever.snapshot()
            if self.multilingual.answers(snapshot.generation):
                return self._retrieve_multilingual(question, history, k, snapshot, language)
        return self.retriever.retrieve(question, history, k, mode)

    def _retrieve_multilingual(
        self,
        question: str,
        history: list[str] | None,
        k: int | None,
        snapshot: IndexSnapshot,
        language: str,
    ) -> list[Passage]:
        """A question not in English: see assistant/qa/multilingual.py."""
        k = k or self.settings.retrieval.k
        query = retrieval_query(question, history)
        n = max(self.settings.retrieval.candidates, 2 * k)
        ids = self.multilingual.ranked_ids(snapshot, query, language, n)
        # The same de-duplication and per-document cap as English; scores are e5's.
        passages = self.retriever._passages(snapshot, ids, _NO_VECTOR, k)
        return self.multilingual.rescored(snapshot.generation, query, passages)

    def evidence(self, question: str, history: list[str] | None = None) -> Evidence:
        """The refusal signals for a question, for calibration."""
        question = clean_question(question)
        snapshot = self.retriever.snapshot()
        language = detect_language(question)
        if language != "en" and self.multilingual.answers(snapshot.generation):
            passages = self._retrieve_multilingual(question, history, None, snapshot, language)
            return multilingual_evidence(question, passages, snapshot.vocabulary)
        _, passages = self.retriever.retrieve_with_evidence(question, history, None, snapshot)
        return self._english_evidence(question, history, passages, snapshot)

    def _domain_scores(
        self, question: str, history: list[str] | None, snapshot: IndexSnapshot
    ) -> tuple[float | None, float | None]:
        """The domain and near-domain models' scores of an English question
        (`assistant/qa/domain.py`), read from the vector retrieval made of it; None when the
        check is off. The domain model does not judge a question naming an acronym the corpus
        uses: MiniLM reads one it does not know ("What is TEVV?") as off every subject. The
        near-domain model does, as it learned such acronyms on both of its sides ("What does
        NIST require ... for body-worn camera video analytics?")."""
        if self.domain_models is None:
            return None, None
        domain, near_domain = self.domain_models
        vector = self.embedder.embed_query(retrieval_query(question, history))  # a cache hit
        if typed_acronyms(question) & snapshot.vocabulary:
            return None, near_domain.score(vector)
        return domain.score(vector), near_domain.score(vector)

    def _english_evidence(
        self,
        question: str,
        history: list[str] | None,
        passages: list[Passage],
        snapshot: IndexSnapshot,
    ) -> Evidence:
        """The refusal signals of an English question, the domain model's score among them; a
        passage in another language (a French guide) is evidence of meaning, but its words
        cannot show the question's topic."""
        other_language = frozenset(
            p.chunk_id
            for p in passages
            if snapshot.keyword.language_of(p.chunk_id) not in ("", "en")
        )
        evidence = measure_evidence(
            retrieval_query(question, history),
            passages,
            snapshot.keyword,
            snapshot.vocabulary,
            other_language,
        )
        domain, near_domain = self._domain_scores(question, history, snapshot)
        return replace(evidence, domain_score=domain, near_domain_score=near_domain)

    def ask(self, question: str, history: list[str] | None = None, k: int | None = None) -> Answer:
        for event in self.ask_stream(question, history, k):
            if isinstance(event, Final):
                return event.answer
        raise AssertionError("ask_stream ends with Final")

    def resolve_item(self, question: str, history: list[str]) -> str:
        """ "Explain the second one" after a list: the question with that item's words.

        The previous answer is asked again (history holds questions, not answers); its
        list items, or else its sentences, are what "the second one" counts.
        """
        match = _ORDINAL_REFERENCE.search(question)
        if match is None or not history:
            return question
        if not match["noun"] and not _ENDS_REFERENCE.match(question[match.end() :]):
            return question  # "the first time", "the second line of defence": not a reference
        previous = self.ask(history[-1], history[:-1])
        if previous.refused:
            return question
        lines = [line for line in previous.answer.splitlines() if line.strip()]
        items = (
            [line for line in lines if line.startswith("- ")]
            or _enumerated(unmarked(lines[0]))
            or lines
        )
        position = _ORDINALS[match["ordinal"].lower()]
        item = items[position - 1] if position <= len(items) else items[-1]
        words = unmarked(item).removeprefix("- ").split()[:_ITEM_WORDS]
        return f"{question[: match.start()]}{' '.join(words)}{question[match.end() :]}"

    def ask_stream(
        self, question: str, history: list[str] | None = None, k: int | None = None
    ) -> Iterator[StreamEvent]:
        """`Retrieved` as soon as the passages are in, `Draft` pieces while a model writes,
        then `Final` with the answer as shown (the extractive answerer yields no drafts)."""
        started = time.perf_counter()
        asked = question = clean_question(question)
        history = [clean_question(h) for h in (history or []) if h and h.strip()][-3:]
        question = self.resolve_item(question, history)
        snapshot = self.retriever.snapshot()  # one generation for the whole answer
        language = detect_language(question)
        if language != "en" and not self.multilingual.answers(snapshot.generation):
            yield Retrieved(question, [])
            answer = english_only_answer(question, language)
            answer.language = language
            answer.timings_ms = {"total": (time.perf_counter() - started) * 1000}
            answer.trace = replace(self.trace, generation=snapshot.generation)
            yield Final(answer)
            return
        if language != "en":
            self.multilingual_asked = True  # the app now embeds e5 sentences ahead too
        if language == "en":
            passages, evidence_passages = self.retriever.retrieve_with_evidence(
                question, history, k, snapshot
            )
        else:
            passages = self._retrieve_multilingual(question, history, k, snapshot, language)
        retrieved = time.perf_counter()
        yield Retrieved(question, passages)
        if language == "en":
            evidence = self._english_evidence(question, history, evidence_passages, snapshot)
            weak = is_weak(evidence, self.settings.answer)
        else:
            evidence = multilingual_evidence(question, passages, snapshot.vocabulary)
            weak = is_weak_multilingual(evidence, self.settings, language)
        answer = None
        first_token = None
        context = passages  # what the answer may quote: its citations are among these
        if not weak:
            answerer = (
                self._answerer_for(snapshot)
                if language == "en"
                else self._multilingual_answerer_for(snapshot)
            )
            # The neighbouring passages: English only, where they were measured; and not
            # when the caller chose how many passages the answer reads (`ask --k`).
            if language == "en" and k is None:
                context = passages + self.retriever.neighbours(
                    question, history, passages, snapshot
                )
            if language == "en":
                context = self.retriever.suggest_openers(question, history, context)
            stream = getattr(answerer, "stream", None)
            items = stream(question, context, history) if stream else None
            for item in items or [answerer.answer(question, context, history)]:
                if isinstance(item, Answer):
                    answer = item
                else:
                    first_token = first_token or time.perf_counter()
                    yield Draft(item)
        if answer is not None and not answer.refused:
            shown = main_sentences(answer)
            if not states_quantity(question, shown) or not states_quantity_any_language(
                question, language, shown
            ):
                answer = None  # the quantity asked for is not in the answer
            elif not states_what_is_asked(question, shown, english=language == "en"):
                answer = None  # nor the name, the permission or the figure asked about
        if answer is None or answer.refused:
            answer = _refusal(question, passages)
        _in_language(answer, language, snapshot, context)
        finished = time.perf_counter()
        answer.timings_ms = {
            "retrieve": (retrieved - started) * 1000,
            "answer": (finished - retrieved) * 1000,
            "total": (finished - started) * 1000,
        }
        if first_token is not None:
            answer.timings_ms["first_token"] = (first_token - started) * 1000
        answer.question = asked
        answer.trace = replace(
            self.trace,
            generation=snapshot.generation,
            chunk_ids=_cited_chunk_ids(answer, context),
            sentences_verified=answer.trace.sentences_verified if answer.trace else None,
        )
        yield Final(answer)

    def indexed_documents(self) -> dict[str, str]:
        """Source -> SHA-256 of each document of the generation questions are answered from."""
        snapshot = self.retriever.snapshot()
        with self._indexed_lock:
            if self._indexed[0] != snapshot.generation:
                records = self.store.documents(snapshot.generation)
                self._indexed = (snapshot.generation, {r.source: r.sha256 for r in records})
            return self._indexed[1]

    def document_path(self, source: str) -> tuple[Path, str] | None:
        """The corpus file behind a citation and the SHA-256 it was indexed with: only for a
        document of the current generation, inside the corpus folder, not hidden.

        A file uploaded but not yet indexed, or any other file of the folder, is not one:
        the caller serves the file only while its content still has that hash.
        """
        if "\x00" in source or len(source) > 1024:
            return None
        parts = source.split("/")
        if any(not part or part.startswith(".") for part in parts):
            return None
        sha256 = self.indexed_documents().get(source)
        if sha256 is None:
            return None
        root = self.settings.corpus.resolve()
        candidate = (root / source).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate, sha256


_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": 10**6,
}  # fmt: skip
_ORDINAL_REFERENCE = re.compile(
    r"\bthe\s+(?P<ordinal>" + "|".join(_ORDINALS) + r")\b"
    r"(?:\s+(?P<noun>one|item|point|principle|step|stage|function|characteristic|category|"
    r"element|part|option|requirement|question|risk|area|pillar|dimension)s?\b)?",
    re.IGNORECASE,
)
_ENDS_REFERENCE = re.compile(r"\s*(?:[?.!,;:]|$)")
_ITEM_WORDS = 16


def _enumerated(sentence: str) -> list[str]:
    """The items a sentence lists after its colon: "three categories: systemic,
    computational and statistical, and human-cognitive." gives three."""
    _, colon, listed = sentence.partition(":")
    if not colon:
        return []
    parts = [p.strip(" .;") for p in _ITEM_SEPARATOR.split(listed)]
    parts = [p for p in parts if p]
    return parts if len(parts) >= 2 else []


_ITEM_SEPARATOR = re.compile(r",\s*(?:and\s+|or\s+)?|;\s*")


_NO_VECTOR = np.zeros(EMBEDDING_DIM, dtype=np.float32)  # the English scores it yields are replaced
_QUOTES_IN = "The quoted passages are in {language}; they are quoted as written."


def _in_language(
    answer: Answer, language: str, snapshot: IndexSnapshot, passages: list[Passage]
) -> None:
    """The refusal in the question's language, and a line when the quotes are in another.

    Quotes stay verbatim in their document's language (the guarantee); only what the
    assistant says itself is translated.
    """
    answer.language = language
    if answer.refused:
        if language != "en":
            answer.answer = translate(answer.answer, language)
        return
    cited = _cited_chunk_ids(answer, passages)
    others = sorted({snapshot.keyword.language_of(i) for i in cited} - {language})
    if others:
        names = ", ".join(translate(LANGUAGE_NAMES[o], language) for o in others)
        line = translate(_QUOTES_IN, language).format(language=names)
        answer.notice = f"{answer.notice}\n{line}".strip() if answer.notice else line


def _cited_chunk_ids(answer: Answer, passages: list[Passage]) -> tuple[str, ...]:
    """The chunk behind each citation: citations carry the passage's source and text."""
    by_passage = {(p.source, p.text): p.chunk_id for p in passages}
    return tuple(
        by_passage[(c.source, c.text)] for c in answer.citations if (c.source, c.text) in by_passage
    )


def _refusal(question: str, passages: list[Passage]) -> Answer:
    seen: set[str] = set()
    pointers = []
    for passage in passages:
        if passage.doc_id in seen:
            continue
        seen.add(passage.doc_id)
        pointers.append(Citation.from_passage(len(pointers) + 1, passage))
        if len(pointers) == _POINTERS:
            break
    return Answer(
        question=question, answer=REFUSAL_TEXT, refused=True, citations=[], pointers=pointers
    )


def _boilerplate(snapshot: IndexSnapshot) -> frozenset[str]:
    """Sentences that recur in several documents (notices, disclaimers): never an answer."""
    documents_per_unit: dict[str, set[str]] = {}
    for chunk in snapshot.chunks.values():
        for unit in split_units(chunk.text):
            if len(unit.text) > 20:
                documents_per_unit.setdefault(unit.text, set()).add(chunk.doc_id)
    return frozenset(text for text, docs in documents_per_unit.items() if len(docs) >= 3)
