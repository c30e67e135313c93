"""Hybrid retrieval: dense, sentence and keyword lists fused by weighted reciprocal rank.

Three lists over the current index generation:
- dense: the chunk's own vector (Chroma);
- sentence: the chunk's best sentence (`ingest.sentence_index`, small-to-big);
- keyword: BM25 over title, section and text.
With a query adapter (`assistant.qa.query_adapter`), the dense and sentence lists are run
a second time with the adapted question vector (the question read by the adapter's query
encoder, or turned by its matrix), over the passages the adapter was trained on, and fused
beside the others.

The fusion is written here rather than with LangChain's `EnsembleRetriever`, which this
module used until the sentence list came: `EnsembleRetriever` returns the fused order but
not the fused scores, and the correction below needs them. Passages from bibliographies
and from question lists ("Did your organization ...?") are demoted: they echo a
question's words but never answer it. After fusion, near-duplicates are merged and each
document is capped, so one long document cannot crowd out the rest.

Weights and the demotion were chosen on `evals/sets/pdfs.tune.jsonl` (page-level hit@5
0.678 -> 0.767, MRR@10 0.482 -> 0.583 against dense + BM25 alone) without costing the
sample set (hit@5 0.930 both, MRR@10 0.831 -> 0.816); a same-page lift that helped the PDFs
cost the sample set 0.09 of MRR and was dropped. Checked on the held-out split
(docs/evals.md).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from assistant.qa.definitions import asked_acronym, spelled_out_acronyms
from assistant.qa.models import Passage
from assistant.qa.query_adapter import QueryAdapter
from assistant.qa.refusal import law_names
from ingest.embedding import Embedder
from ingest.keyword_index import KeywordIndex, KeywordIndexDamagedError, terms
from ingest.refresh import keyword_dir
from ingest.sentence_index import SentenceIndex, SentenceIndexDamagedError
from ingest.settings import RetrievalSettings
from ingest.store import Store, StoredChunk, StoreError

# Follow-ups lean on the conversation: "and what about its accuracy?", "Accuracy?". Only a
# question that refers back is read with the previous one; a new topic is retrieved on its
# own, or the earlier topic leaks into it. "it"/"its" refer back anywhere; "this"/"that"
# only near the start or at the end ("Why is that?"), since "guidance that covers drones"
# uses "that" inside a question of its own; "they"/"their" only in a short question ("What
# are their error rates?"), since "agencies ... their decisions" has its own antecedent;
# "which one" anywhere.
_IT = re.compile(r"\b(it|its|it's|the same)\b", re.IGNORECASE)
_DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
_EARLY_WORDS = 3
_DEMONSTRATIVE_LAST = re.compile(r"\b(this|that|these|those|them)\W*$", re.IGNORECASE)
_THEY = re.compile(r"\b(they|them|their|he|she|his|her)\b", re.IGNORECASE)
_THEY_MAX_TERMS = 3
_CONTINUES = re.compile(r"^\s*(and|also|but|so|then|what about|how about)\b", re.IGNORECASE)
_SHORT_QUESTION_TERMS = 1
# "OK, forget that one. What does the Playbook suggest for ...?": an officer who sets the
# last question aside asks a new one, whatever "that one" reads like. The opening clause
# is dropped before the patterns above are read.
_SETS_ASIDE = re.compile(
    r"^\W*(?:(?:ok|okay|right|fine|thanks|thank you|anyway)\W+)?"
    r"(?:forget|ignore|never\s?mind|scratch|drop|leave)\b[^.?!;]{0,30}[.?!;]+\s*"
    r"|^\W*(?:(?:ok|okay|right|fine|thanks|thank you)\W+)?(?:on\s+)?(?:a|another|an)\s+"
    r"(?:(?:different|new|other|unrelated|separate)\s+)?(?:question|topic|subject|note|matter)\b"
    r"[^.?!:;]{0,20}[.?!:;]+\s*",
    re.IGNORECASE,
)
# "Which one should we start with?", "which of these comes first?": a choice among the
# items of the previous answer (one word between "the" and "one": "the second one").
_WHICH_ONE = re.compile(
    r"\b(?:which|the\s+\w+)\s+ones?\b|\bwhich\s+of\s+(?:them|these|those)\b",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9'\-]+")
_FIGURES = re.compile(r"\d+")  # "14110" in "Executive Order 14110": a designation's number

# Bibliographies and reference lists: they cite the question's words, never answer them.
_REFERENCE_SECTION = re.compile(r"\b(references|bibliography|works cited|further reading)\b", re.I)
_QUESTION_SHARE = 0.5  # a passage more than half questions is a checklist, not an answer
# In units of a first-place RRF score (1 / (rrf_c + 1)) of weight one; tuned on pdfs.tune.
_NON_ANSWER_DEMOTION = 0.5
# The same unit: the raise of a passage that spells out the acronym a question asks about
# ("What does TEVV stand for?"). Such a passage is often in no list: the acronym alone is
# in dozens of passages, and the question's other words are in none (`pdfs3.tune`).
_SPELLED_OUT_RAISE = 1.0

log = logging.getLogger(__name__)


@dataclass
class IndexSnapshot:
    """One published generation, held in memory for fast lookups."""

    generation: str
    corpus_kind: str
    chunks: dict[str, StoredChunk]
    keyword: KeywordIndex
    # Every lower-cased word and figure of the corpus, the laws it names ("initiative
    # act", `refusal.law_names`) and its capitalised words as written ("NIST",
    # "Playbook"): what `refusal.unknown_names` finds unknown.
    vocabulary: frozenset[str]
    sentences: SentenceIndex | None = None  # None for a store built before they existed
    non_answers: frozenset[str] = frozenset()  # bibliography and question-list chunks
    # (document id, ordinal) -> chunk id: the passages next to one (`neighbours`).
    positions: dict[tuple[str, int], str] = field(default_factory=dict)
    # document id -> the words of its title and file name ("playbook", "framework").
    document_names: dict[str, frozenset[str]] = field(default_factory=dict)
    # lower-cased acronym -> the answering chunks that spell it out ("... Validation (TEVV)").
    spelled_out: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _vocabulary(chunks: Iterable[StoredChunk]) -> frozenset[str]:
    """`IndexSnapshot.vocabulary`, in one loop over the chunks (at load, not per question):
    each chunk's words lower-cased, its capitalised words as written ("Playbook", "NIST":
    an owner's name), its figures, and the laws it names (`refusal.law_names`)."""
    found: set[str] = set()
    for chunk in chunks:
        text = f"{chunk.title} {chunk.section} {chunk.text}"
        words = _WORDS.findall(text)
        found.update(word.lower() for word in words)
        found.update(word.removesuffix("'s") for word in words if word[0].isupper())
        found.update(_FIGURES.findall(text))
        found.update(law_names(chunk.text, suffixes=True))
    return frozenset(found)


def _passage(chunk: StoredChunk, score: float, dense_score: float) -> Passage:
    return Passage(
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        source=chunk.source,
        title=chunk.title,
        page=chunk.page,
        section=chunk.section,
        text=chunk.text,
        score=round(score, 4),
        dense_score=round(dense_score, 4),
    )


def in_references_section(section: str) -> bool:
    """A section path under a references heading: its lines are sources, not guidance."""
    # Any heading of the path: the Playbook files its citations under "References > <topic>".
    return bool(_REFERENCE_SECTION.search(section))


def is_non_answer(chunk: StoredChunk) -> bool:
    """A bibliography entry or a list of questions: never the passage that answers."""
    if in_references_section(chunk.section):
        return True
    lines = [line for line in chunk.text.split("\n") if line.strip()]
    questions = sum(line.rstrip().endswith("?") for line in lines)
    return bool(lines) and questions / len(lines) > _QUESTION_SHARE


# Words a question names a document by ("the playbook", "the procurement checklist").
_DOCUMENT_KINDS = frozenset(
    {
        "guide", "guidance", "document", "toolkit", "playbook", "framework", "report",
        "roadmap", "handbook", "manual", "glossary", "questionnaire", "checklist", "primer",
        "policy", "brief", "factsheet", "booklet", "annex", "workbook", "profile", "standard",
        "code",
    }
)  # fmt: skip


def named_documents(question: str, names: dict[str, frozenset[str]]) -> frozenset[str]:
    """The documents a question names by their kind ("the playbook", "the framework"): a
    kind word of the question that some documents' titles or file names hold and others'
    do not."""
    asked = {w.lower() for w in _WORDS.findall(question)} & _DOCUMENT_KINDS
    named: set[str] = set()
    for kind in asked:
        holders = {doc for doc, words in names.items() if kind in words}
        if holders and len(holders) < len(names):
            named |= holders
    return frozenset(named)


def retrieval_query(question: str, history: list[str] | None) -> str:
    """The question, with the previous question prepended when it reads as a follow-up."""
    if not history:
        return question
    if refers_back(question):
        return f"{history[-1]} {question}"
    return question


def refers_back(question: str) -> bool:
    """Whether a question leans on the one before (see the patterns above)."""
    question = _SETS_ASIDE.sub("", question, count=1) or question
    content_terms = len(terms(question))
    return bool(
        _IT.search(question)
        or bool(_DEMONSTRATIVES & {w.lower() for w in _WORDS.findall(question)[:_EARLY_WORDS]})
        or _DEMONSTRATIVE_LAST.search(question)
        or (_THEY.search(question) and content_terms <= _THEY_MAX_TERMS)
        or _CONTINUES.match(question)
        or _WHICH_ONE.search(question)
        or content_terms <= _SHORT_QUESTION_TERMS
    )


def _spelled_out_acronyms(
    chunks: dict[str, StoredChunk], non_answers: frozenset[str]
) -> dict[str, tuple[str, ...]]:
    """Lower-cased acronym -> the chunks that spell it out: read once per generation, so a
    question asking for one costs a lookup, not a pass over the corpus."""
    found: dict[str, list[str]] = {}
    for chunk_id, chunk in chunks.items():
        if chunk_id in non_answers:
            continue
        for acronym in spelled_out_acronyms(chunk.text):
            found.setdefault(acronym, []).append(chunk_id)
    return {acronym: tuple(ids) for acronym, ids in found.items()}


def _rrf(lists: Iterable[tuple[float, list[str]]], rrf_c: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion: each list adds weight / (rrf_c + rank)."""
    scores: dict[str, float] = {}
    for weight, ids in lists:
        for rank, chunk_id in enumerate(ids):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (rrf_c + rank + 1)
    return scores


def _by_score(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=scores.__getitem__, reverse=True)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class HybridRetriever:
    """Retrieves passages from whatever generation is current, switching when it changes."""

    _RECHECK_SECONDS = 1.0

    def __init__(
        self,
        store: Store,
        settings: RetrievalSettings,
        embedder: Embedder,
        adapter: QueryAdapter | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        self.adapter = adapter if settings.adapter_weight > 0 else None
        self._snapshot: IndexSnapshot | None = None
        self._checked_at = 0.0
        self._checking = threading.Lock()  # the registry read: milliseconds
        self._loading = threading.Lock()  # one generation load at a time: seconds

    def snapshot(self) -> IndexSnapshot:
        """The current generation; re-read at most once a second, loaded once per generation.

        Loading a generation (every chunk, the BM25 index) takes seconds at 100k chunks, so
        it holds no lock that readers wait on: the caller that finds a new generation loads
        it while every other caller keeps answering from the snapshot it has, and the new
        snapshot replaces the old one in a single assignment when it is complete. Only the
        very first load, when there is nothing to answer from, is waited for.
        """
        held = self._snapshot
        if held is not None and time.monotonic() - self._checked_at < self._RECHECK_SECONDS:
            return held
        with self._checking:
            held = self._snapshot
            now = time.monotonic()
            if held is not None and now - self._checked_at < self._RECHECK_SECONDS:
                return held
            current = self.store.current()
            if current is None:
                raise StoreError("the index is empty; run `toolkit-assistant ingest` first")
            self._checked_at = now
        if held is not None and held.generation == current.generation:
            return held
        if held is not None and not self._loading.acquire(blocking=False):
            return held  # another caller is loading the new generation
        if held is None:
            self._loading.acquire()  # the first load: nothing to answer from until it ends
        try:
            latest = self._snapshot
            if latest is not None and latest.generation == current.generation:
                return latest  # loaded by the caller this one waited for
            loaded = self._load(current.generation, current.corpus_kind)
            self._snapshot = loaded
            return loaded
        finally:
            self._loading.release()

    def _load(self, generation: str, corpus_kind: str) -> IndexSnapshot:
        chunks = {c.id: c for c in self.store.iter_chunks(generation)}
        folder = keyword_dir(self.store.path, generation)
        try:
            keyword = KeywordIndex.load(folder)
        except KeywordIndexDamagedError as err:  # rebuilt from the chunks: nothing is lost
            log.warning("%s; rebuilding it from the stored chunks", err)
            keyword = None
        if keyword is None:  # a server-mode reader on another machine: build it locally
            keyword = KeywordIndex.build(
                (c.id, f"{c.title} {c.section} {c.text}") for c in chunks.values()
            )
            keyword.save(folder)
        vocabulary = _vocabulary(chunks.values())
        try:
            sentences = SentenceIndex.load(folder)
        except SentenceIndexDamagedError as err:
            log.warning("%s; run `toolkit-assistant ingest` to rebuild it", err)
            sentences = None
        if sentences is None:
            log.warning(
                "no sentence index for generation %s: answers use chunk vectors only until "
                "`toolkit-assistant ingest` builds it",
                generation,
            )
        non_answers = frozenset(c.id for c in chunks.values() if is_non_answer(c))
        positions = {(c.doc_id, c.ordinal): c.id for c in chunks.values()}
        labels = {c.doc_id: f"{c.title} {c.source}" for c in chunks.values()}
        names = {
            doc: frozenset(w.lower() for w in _WORDS.findall(label))
            for doc, label in labels.items()
        }
        return IndexSnapshot(
            generation,
            corpus_kind,
            chunks,
            keyword,
            vocabulary,
            sentences,
            non_answers,
            positions,
            names,
            _spelled_out_acronyms(chunks, non_answers),
        )

    def retrieve(
        self,
        question: str,
        history: list[str] | None = None,
        k: int | None = None,
        mode: str = "hybrid",
        snapshot: IndexSnapshot | None = None,
    ) -> list[Passage]:
        """The best `k` passages; from `snapshot` when given, so that a caller reading the
        snapshot again (for the answer) uses the same generation throughout. `mode`
        "dense" or "keyword" ranks by one list alone (the eval baselines)."""
        if mode == "hybrid":
            return self.retrieve_with_evidence(question, history, k, snapshot)[0]
        snapshot, k, query, vector, n = self._search(question, history, k, snapshot)
        if mode == "dense":
            ids = [i for i, _ in self.store.query(snapshot.generation, vector, n)]
        elif mode == "keyword":
            ids = [i for i, _ in snapshot.keyword.search(query, n)]
        else:
            raise ValueError(f"unknown retrieval mode {mode!r}: hybrid, dense or keyword")
        return self._passages(snapshot, ids, vector, k)

    def retrieve_with_evidence(
        self,
        question: str,
        history: list[str] | None,
        k: int | None,
        snapshot: IndexSnapshot | None,
    ) -> tuple[list[Passage], list[Passage]]:
        """The best `k` passages (hybrid), and the passages the refusal checks read.

        They are the same, except with a query adapter: the refusal thresholds were
        calibrated on the plain lists' passages, and the adapter's, which answer a
        paraphrase without its words, would fail the term-coverage check. Read on the
        plain passages, `pdfs.tune` false refusals 0.067 -> 0.044 with the same refusal
        accuracy: the adapter changes which passages answer, not whether any does.
        """
        snapshot, k, query, vector, n = self._search(question, history, k, snapshot)
        lists = self._plain_lists(snapshot, query, vector, n)
        scores = self._demoted(snapshot, _rrf(lists.values(), self.settings.rrf_c))
        plain = self._passages(snapshot, _by_score(scores), vector, k)
        if self.adapter is None:
            named = self._raised(snapshot, question, scores)
            if named is scores:
                return plain, plain
            return self._passages(snapshot, _by_score(named), vector, k), plain
        adapted = self._adapted_vector(query, vector)
        known = self.adapter.chunk_ids
        # A passage the adapter was not trained on (a document added later) is assumed to
        # do as well in the adapted lists as in the plain ones: its plain score grows by
        # their share of the weight. Left at its plain score it would lose to every passage
        # the adapter knows (a new note quoted word for word fell out of the top 5); placed
        # at its plain ranks in the adapted lists, a corpus the adapter never saw lost 0.14
        # of hit@5 (`sample-blind.tune` with an adapter of the PDFs only). With this, such
        # a corpus ranks exactly as without the adapter.
        adapted_lists = self._adapted_lists(snapshot, query, adapted, n)
        plain_weight = sum(weight for weight, _ in lists.values())
        added_weight = sum(weight for weight, _ in adapted_lists)
        growth = 1.0 + added_weight / plain_weight if plain_weight else 1.0
        extra = _rrf(adapted_lists, self.settings.rrf_c)
        both = {
            chunk_id: score + extra.get(chunk_id, 0.0) if chunk_id in known else score * growth
            for chunk_id, score in scores.items()
        }
        both.update(self._demoted(snapshot, {i: extra[i] for i in extra.keys() - both.keys()}))
        both = self._raised(snapshot, question, both)
        return self._passages(snapshot, _by_score(both), vector, k, adapted), plain

    def neighbours(
        self,
        question: str,
        history: list[str] | None,
        passages: list[Passage],
        snapshot: IndexSnapshot,
    ) -> list[Passage]:
        """The passages next to `passages` in their documents, for the answer to quote too.

        A topic often runs over two chunks, and the sentence that answers sits in the one
        before or after the chunk retrieval found: on `pdfs.tune` the share of key facts in
        the top 5 passages is 0.60, and 0.72 with each one's neighbours (0.69 in the top
        10). They come after the retrieved passages, so the answer's sentence ranking puts
        them lower, and they are not listed as retrieved. Bibliographies and question lists
        stay out, as from retrieval.
        """
        reach = self.settings.neighbour_passages
        if reach == 0:
            return []
        held = {p.chunk_id for p in passages}
        ids: list[str] = []
        for passage in passages:
            chunk = snapshot.chunks.get(passage.chunk_id)
            if chunk is None:
                continue
            for step in range(1, reach + 1):
                for ordinal in (chunk.ordinal - step, chunk.ordinal + step):
                    found = snapshot.positions.get((chunk.doc_id, ordinal))
                    if found and found not in held and found not in snapshot.non_answers:
                        held.add(found)
                        ids.append(found)
        if not ids:
            return []
        # The question's vector again: a cache hit (`Embedder.embed_query`), cheaper than
        # carrying it out of `retrieve_with_evidence` through the service.
        query = retrieval_query(question, history)
        vector = self.embedder.embed_query(query)
        adapted = self._adapted_vector(query, vector) if self.adapter is not None else None
        similarities = self._similarities(snapshot, ids, vector, adapted)
        return [_passage(snapshot.chunks[i], 0.0, similarities.get(i, 0.0)) for i in ids]

    def suggest_openers(
        self, question: str, history: list[str] | None, context: list[Passage]
    ) -> list[Passage]:
        """`context` with `suggested` set on the passage a close training question was
        written for, to the sentences that answer it (`QueryAdapter.suggested_opener`).

        Not for a follow-up: the training questions stand alone, and the previous
        question's words would make a near match mean something else. On `pdfs.tune`,
        answer_first_rate 0.391 -> 0.448: where such a question exists, its writer chose
        the sentence that answers it, and that sentence held a key fact twice as often as
        the one the sentence scoring chose (docs/evals.md).
        """
        settings = self.settings
        if self.adapter is None or history or not settings.suggested_openers:
            return context
        held = {passage.chunk_id: i for i, passage in enumerate(context)}
        # The matrix, not the query encoder: the threshold was set on the matrix's vectors,
        # and with the encoder's (closer to every training question) a question far from
        # any of them found one: `sample-blind.tune` answer_first_rate 0.622 -> 0.460.
        vector = self.adapter.adapt(self.embedder.embed_query(question))  # a cache hit
        found = self.adapter.suggested_opener(
            vector, settings.suggested_opener_similarity, among=held
        )
        if found is None:
            return context
        chunk_id, sentences = found
        marked = list(context)
        marked[held[chunk_id]] = replace(context[held[chunk_id]], suggested=sentences)
        return marked

    def _search(
        self,
        question: str,
        history: list[str] | None,
        k: int | None,
        snapshot: IndexSnapshot | None,
    ) -> tuple[IndexSnapshot, int, str, np.ndarray, int]:
        """The generation, passages wanted, query text, its vector and hits per list."""
        snapshot = snapshot or self.snapshot()
        k = k or self.settings.k
        query = retrieval_query(question, history)
        return (
            snapshot,
            k,
            query,
            self.embedder.embed_query(query),
            max(self.settings.candidates, 2 * k),
        )

    def _plain_lists(
        self, snapshot: IndexSnapshot, query: str, vector: np.ndarray, n: int
    ) -> dict[str, tuple[float, list[str]]]:
        """The dense, keyword and (when the generation has them) sentence lists, by name."""
        settings = self.settings
        lists = {
            "dense": (
                settings.dense_weight,
                [i for i, _ in self.store.query(snapshot.generation, vector, n)],
            ),
            "keyword": (settings.keyword_weight, [i for i, _ in snapshot.keyword.search(query, n)]),
        }
        if snapshot.sentences is not None:
            lists["sentence"] = (
                settings.sentence_weight,
                [i for i, _ in snapshot.sentences.best(vector, n)],
            )
        return lists

    def _named(
        self, snapshot: IndexSnapshot, question: str, scores: dict[str, float]
    ) -> dict[str, float]:
        """The fused scores with the passages of a document the question names ("the
        playbook") raised by `named_document_weight` of a first place."""
        boost = self.settings.named_document_weight / (self.settings.rrf_c + 1)
        named = named_documents(question, snapshot.document_names)
        if not boost or not named:
            return scores
        return {
            chunk_id: score + boost if snapshot.chunks[chunk_id].doc_id in named else score
            for chunk_id, score in scores.items()
        }

    def _raised(
        self, snapshot: IndexSnapshot, question: str, scores: dict[str, float]
    ) -> dict[str, float]:
        """The fused scores with what the question itself points at raised: a document it
        names, the passages that spell out an acronym it asks about. `scores` itself when
        it points at nothing."""
        return self._spelled_out(snapshot, question, self._named(snapshot, question, scores))

    def _spelled_out(
        self, snapshot: IndexSnapshot, question: str, scores: dict[str, float]
    ) -> dict[str, float]:
        """The fused scores with the passages that spell out the acronym the question asks
        about ("Test, Evaluation, Verification, and Validation (TEVV)") raised, whether a
        list found them or not."""
        acronym = asked_acronym(question)
        spelled = snapshot.spelled_out.get(acronym.lower(), ()) if acronym else ()
        if not spelled:
            return scores
        raise_by = _SPELLED_OUT_RAISE / (self.settings.rrf_c + 1)
        raised = dict(scores)
        for chunk_id in spelled:
            raised[chunk_id] = raised.get(chunk_id, 0.0) + raise_by
        return raised

    def _demoted(self, snapshot: IndexSnapshot, scores: dict[str, float]) -> dict[str, float]:
        """The fused scores with bibliographies and question lists demoted."""
        demotion = _NON_ANSWER_DEMOTION / (self.settings.rrf_c + 1)  # of a first place
        return {
            chunk_id: score - demotion if chunk_id in snapshot.non_answers else score
            for chunk_id, score in scores.items()
        }

    def _adapted_vector(self, query: str, vector: np.ndarray) -> np.ndarray:
        """The question read by the adapter's query encoder when it has one (a second
        MiniLM pass, cached per question), else `vector` turned by its matrix."""
        assert self.adapter is not None
        if self.adapter.encoder is not None:
            return self.embedder.embed_adapted([query], self.adapter.encoder)[0]
        return self.adapter.adapt(vector)

    def _adapted_lists(
        self, snapshot: IndexSnapshot, query: str, adapted: np.ndarray, n: int
    ) -> list[tuple[float, list[str]]]:
        """Dense and best-sentence lists for the adapted vector, over the adapter's passages,
        and the passages of the training questions nearest to it and to the query's words
        (those in this generation: the adapter may know passages of another corpus, or of
        text since changed)."""
        assert self.adapter is not None
        known = self.adapter.chunk_ids
        weight = self.settings.adapter_weight
        hits = self.store.query(snapshot.generation, adapted, n)
        lists = [(weight, [i for i, _ in hits if i in known])]
        if snapshot.sentences is not None:
            best = snapshot.sentences.best(adapted, n)
            lists.append((weight, [i for i, _ in best if i in known]))
        if self.settings.question_weight > 0:
            nearest, cosine = self.adapter.nearest_passages(adapted, n, among=snapshot.chunks)
            if nearest:
                # A training question close to this one speaks for its passage; a distant
                # one barely does (docs/evals.md, "The question list's weight follows the
                # nearest training question").
                near = cosine >= self.settings.question_near_cosine
                weight = (
                    self.settings.question_weight if near else self.settings.question_weight_far
                )
                lists.append((weight, nearest))
        if self.settings.question_keyword_weight > 0:
            matched = self.adapter.keyword_passages(query, n, among=snapshot.chunks)
            if matched:
                lists.append((self.settings.question_keyword_weight, matched))
        return lists

    def _passages(
        self,
        snapshot: IndexSnapshot,
        ids: list[str],
        vector: np.ndarray,
        k: int,
        adapted: np.ndarray | None = None,
    ) -> list[Passage]:
        chosen: list[StoredChunk] = []
        chosen_shingles: list[set] = []
        per_document: dict[str, int] = {}
        overflow: list[StoredChunk] = []  # over a document's cap: used only to fill up to k

        def admit(chunk: StoredChunk) -> None:
            shingles = _shingles(chunk.text)
            if any(
                _jaccard(shingles, s) >= self.settings.near_duplicate_jaccard
                for s in chosen_shingles
            ):
                return  # the same passage again (a copy in another document, a re-issue)
            chosen.append(chunk)
            chosen_shingles.append(shingles)
            per_document[chunk.doc_id] = per_document.get(chunk.doc_id, 0) + 1

        for chunk_id in ids:
            chunk = snapshot.chunks.get(chunk_id)
            if chunk is None:
                continue
            if per_document.get(chunk.doc_id, 0) >= self.settings.max_passages_per_document:
                overflow.append(chunk)
                continue
            admit(chunk)
            if len(chosen) == k:
                break
        # The cap spreads the answer over documents; it must not starve a one-document
        # corpus (or a question only one document answers) of passages.
        for chunk in overflow:
            if len(chosen) == k:
                break
            admit(chunk)
        similarities = self._similarities(snapshot, [c.id for c in chosen], vector, adapted)
        return [
            _passage(c, max(0.0, 1.0 - rank / (k + 1)), similarities.get(c.id, 0.0))
            for rank, c in enumerate(chosen)
        ]

    def _similarities(
        self,
        snapshot: IndexSnapshot,
        ids: list[str],
        vector: np.ndarray,
        adapted: np.ndarray | None = None,
    ) -> dict[str, float]:
        """Cosine of each passage to the question (`Passage.dense_score`).

        With `adapted` (the passages the adapter helped rank, which the answer quotes), the
        adapted vector's cosine counts too for a passage the adapter knows, the larger of
        the two: the answer's sentence ranking leans on it, and a paraphrase the adapter
        matched to its passage has a low plain cosine for the words it avoided. The
        refusal's dense floor reads the plain passages, which are scored without it.
        """
        if not ids:
            return {}
        vectors = self.store.embeddings(snapshot.generation, ids)
        known = self.adapter.chunk_ids if self.adapter and adapted is not None else frozenset()
        similarities = {}
        for i in ids:
            if i not in vectors:
                continue
            similarity = float(np.dot(vectors[i], vector))
            if i in known:
                similarity = max(similarity, float(np.dot(vectors[i], adapted)))
            similarities[i] = similarity
        return similarities
