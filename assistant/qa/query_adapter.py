"""A learned correction of an English question's MiniLM vector, toward the passages that
answer questions put in officers' words.

MiniLM places "who is on the hook for AI decisions" far from "Executive leadership ...
takes responsibility". A 384 x 384 matrix `W`, trained on synthetic officer-style
questions written for each passage of the corpus (`evals/train_adapter.py`), moves the
question's vector: `v' = normalize(v + v @ W)`. The stored passage vectors are untouched,
so nothing is re-embedded.

What it learned is specific to the passages it was trained over: measured on a corpus it
was not trained on, it made retrieval worse (docs/evals.md). So it ranks only those
passages, listed by id in the adapter file; a passage whose text changed has a new id
and is unknown to it, like every passage of a document added later. Its two lists (dense
and best-sentence with the corrected vector) are added to the fusion beside the plain
ones; an unknown passage is scored as if it did as well in them as in the plain lists
(`HybridRetriever.retrieve_with_evidence`), so a corpus it never saw ranks as without it.

The file also holds the training questions themselves (vector, words and passage id), and
two more lists rank the passages by the training question nearest to the officer's
corrected vector (`nearest_passages`) and by the one best matching the officer's words
(`keyword_passages`). Two questions in officers' words are closer to each other than either
is to the passage's wording, which the matrix alone cannot carry: `pdfs.tune` hit@5 0.867
-> 0.911, `pdfs.heldout` 0.691 -> 0.798 (docs/evals.md). Like the matrix, the questions
speak only for the passages they were written for.

The question list also holds the blind eval sets' `tune` questions, each for its gold
passage and named by its set (`question_sources`; `evals/tune_questions.py`): officers'
questions are nearer to other officers' questions than to those written while reading a
passage. `eval` leaves a set's own rows out when it asks that set (`without_source`).

The file may also hold a query encoder: low-rank corrections of MiniLM's layers trained on
the same questions (`evals/train_encoder.py`). With it, the adapted lists and the
nearest-question list read the question through that encoder instead of the matrix (the
training questions are stored encoded with it too): `pdfs.tune` hit@5 0.911 -> 0.933,
MRR@10 up on every tune split (docs/evals.md). The suggested opener keeps the matrix: its
similarity threshold was set on it.
"""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from itertools import islice
from pathlib import Path

import numpy as np

from ingest.embedding import EMBEDDING_DIM, EncoderDeltas
from ingest.keyword_index import KeywordIndex
from ingest.settings import RetrievalSettings

BUNDLED_ADAPTER = "query_adapter.npz"
# The file holds a 384 x 384 matrix and some thousands of ids; far larger is not one.
_MAX_BYTES = 50_000_000
# Joins a question's answering sentences in one string of the file (no sentence holds it).
_SENTENCE_SEPARATOR = "\x1f"
# The layers a query encoder may correct, and their (inputs, outputs): MiniLM-L6's.
_ENCODER_LAYERS = {
    "attention.self.query": (EMBEDDING_DIM, EMBEDDING_DIM),
    "attention.self.key": (EMBEDDING_DIM, EMBEDDING_DIM),
    "attention.self.value": (EMBEDDING_DIM, EMBEDDING_DIM),
    "attention.output.dense": (EMBEDDING_DIM, EMBEDDING_DIM),
    "intermediate.dense": (EMBEDDING_DIM, 4 * EMBEDDING_DIM),
    "output.dense": (4 * EMBEDDING_DIM, EMBEDDING_DIM),
}
_ENCODER_DEPTH = 6


class QueryAdapterError(ValueError):
    """The adapter file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class QueryAdapter:
    """`v -> normalize(v + v @ matrix)`, for the passages listed in `chunk_ids`; and the
    training questions' vectors (`questions`, one row each), row i written for the passage
    `question_passages[question_owners[i]]`, its text `question_texts[i]` and the passage's
    sentences that answer it `question_answers[i]`."""

    matrix: np.ndarray  # float32, dimension x dimension
    chunk_ids: frozenset[str]
    questions: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    question_owners: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    question_passages: tuple[str, ...] = ()
    question_texts: tuple[str, ...] = ()
    # The sentences of its passage each question was written for; () when none are named.
    question_answers: tuple[tuple[str, ...], ...] = ()
    # The query encoder, and the training questions' vectors through it (rows as
    # `questions`); None and empty when the file holds no encoder.
    encoder: EncoderDeltas | None = None
    encoded_questions: np.ndarray = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.float32)
    )
    # Where each question came from: "" for those written for training, else the eval set
    # whose `tune` split it is ("pdfs.tune"), which `without_source` leaves out when that
    # set is asked; () when the file names none.
    question_sources: tuple[str, ...] = ()
    # Derived once, when the adapter is read at start-up, not on an officer's first question:
    # BM25 over the question texts (~0.1 s to build), and the rows and vectors of the
    # questions that name their sentences.
    _keywords: KeywordIndex | None = field(init=False, repr=False, compare=False)
    _named: np.ndarray = field(init=False, repr=False, compare=False)
    _named_vectors: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows = ((str(i), text, "en") for i, text in enumerate(self.question_texts))
        keywords = KeywordIndex.build(rows) if self.question_texts else None
        named = np.array([i for i, answer in enumerate(self.question_answers) if answer], int)
        object.__setattr__(self, "_keywords", keywords)  # frozen: set once, here
        object.__setattr__(self, "_named", named)
        object.__setattr__(self, "_named_vectors", self.questions[named])

    def adapt(self, vector: np.ndarray) -> np.ndarray:
        adapted = vector + vector @ self.matrix
        norm = float(np.linalg.norm(adapted))
        return (adapted / norm if norm else vector).astype(np.float32)

    def without_source(self, source: str) -> QueryAdapter:
        """The adapter without the questions taken from the eval set `source`: asked of that
        set, they would find themselves (evals/runner.py, `without_own_questions`)."""
        return self._keeping(
            [i for i, origin in enumerate(self.question_sources) if origin != source]
        )

    def written_for_training(self) -> QueryAdapter:
        """The adapter with only the questions written for training, none from an eval set
        (`evals/tune_questions.py` replaces those)."""
        return self._keeping([i for i, origin in enumerate(self.question_sources) if not origin])

    def _keeping(self, keep: list[int]) -> QueryAdapter:
        """The adapter with only the questions of rows `keep`; itself when that is all."""
        if len(keep) == len(self.question_sources):
            return self
        rows = np.array(keep, dtype=np.int64)

        def picked(values: tuple) -> tuple:  # texts and answers may be absent: ()
            return tuple(values[i] for i in keep) if values else values

        encoded = self.encoded_questions
        return replace(
            self,
            questions=self.questions[rows],
            question_owners=self.question_owners[rows],
            question_texts=picked(self.question_texts),
            question_answers=picked(self.question_answers),
            encoded_questions=encoded[rows] if len(encoded) else encoded,
            question_sources=picked(self.question_sources),
        )

    def nearest_passages(
        self, vector: np.ndarray, n: int, among: Container[str]
    ) -> tuple[list[str], float]:
        """The `n` passages of `among` whose nearest training question is closest to
        `vector`, best first, and that closest question's cosine (no passages and -1 when
        the file holds no questions for `among`)."""
        if not len(self.questions):
            return [], -1.0
        # `vector` is the query encoder's when there is one: compared with the questions
        # read by the same encoder.
        questions = self.encoded_questions if self.encoder is not None else self.questions
        best = np.full(len(self.question_passages), -np.inf, dtype=np.float32)
        np.maximum.at(best, self.question_owners, questions @ vector)
        order = np.argsort(-best, kind="stable")
        # A passage whose questions were all left out (`without_source`) has none to be near.
        asked = (i for i in order if best[i] > -np.inf)
        kept = list(islice((i for i in asked if self.question_passages[i] in among), n))
        if not kept:
            return [], -1.0
        return [self.question_passages[i] for i in kept], float(best[kept[0]])

    def keyword_passages(self, query: str, n: int, among: Container[str]) -> list[str]:
        """The `n` passages of `among` whose best training question by BM25 best matches
        `query`, best first: the officers' words the questions use, which the documents
        do not (none when the file holds no question texts)."""
        if self._keywords is None:
            return []
        hits = self._keywords.search(query, len(self.question_texts))
        order = (self.question_passages[self.question_owners[int(i)]] for i, _ in hits)
        return _first(dict.fromkeys(order), n, among)

    def suggested_opener(
        self, vector: np.ndarray, threshold: float, among: Container[str]
    ) -> tuple[str, tuple[str, ...]] | None:
        """(passage id, sentences) of the training question nearest to `vector` among those
        that name their answering sentences, when its cosine reaches `threshold` and its
        passage is in `among`; else None. The answer opens with such a sentence."""
        if not len(self._named):
            return None
        similarities = self._named_vectors @ vector
        best = int(np.argmax(similarities))
        if similarities[best] < threshold:
            return None
        row = int(self._named[best])
        passage = self.question_passages[self.question_owners[row]]
        return (passage, self.question_answers[row]) if passage in among else None


def _first(passages: Iterable[str], n: int, among: Container[str]) -> list[str]:
    """The first `n` of `passages` (distinct) that are in `among`."""
    found: list[str] = []
    for passage in passages:
        if passage in among:
            found.append(passage)
            if len(found) == n:
                break
    return found


def save_adapter(
    path: Path,
    matrix: np.ndarray,
    chunk_ids: list[str],
    questions: np.ndarray | None = None,
    question_chunks: list[str] | None = None,
    question_texts: list[str] | None = None,
    question_answers: list[tuple[str, ...]] | None = None,
    encoder: EncoderDeltas | None = None,
    encoded_questions: np.ndarray | None = None,
    question_sources: list[str] | None = None,
) -> None:
    """float16 halves the file; the rounding moves no ranking we measured. `questions` are
    the training questions' vectors, `question_chunks` the passage each was written for,
    `question_texts` their words, `question_answers` the sentences each was written for;
    `encoder` the query encoder (kept in float32: 1 MB) and `encoded_questions` the
    questions' vectors through it; `question_sources` the eval set each was taken from
    ("" for those written for training)."""
    question_chunks = question_chunks or []
    passages = sorted(set(question_chunks))
    position = {chunk_id: i for i, chunk_id in enumerate(passages)}
    if questions is None:
        questions = np.zeros((0, matrix.shape[0]), dtype=np.float32)
    deltas: dict[str, np.ndarray] = {}
    if encoder is not None:
        deltas["encoder_modules"] = np.array(encoder.modules, dtype=str)
        for i, (down, up) in enumerate(zip(encoder.down, encoder.up, strict=True)):
            deltas[f"encoder_down_{i}"] = down.astype(np.float32)
            deltas[f"encoder_up_{i}"] = up.astype(np.float32)
        deltas["encoded_questions"] = np.asarray(encoded_questions, dtype=np.float16)
    with path.open("wb") as handle:
        np.savez_compressed(
            handle,
            matrix=matrix.astype(np.float16),
            chunk_ids=np.array(sorted(chunk_ids)),
            questions=questions.astype(np.float16),
            question_owners=np.array([position[c] for c in question_chunks], dtype=np.int32),
            question_passages=np.array(passages, dtype=str),
            question_texts=np.array(question_texts or [], dtype=str),
            question_answers=np.array(
                [_SENTENCE_SEPARATOR.join(answer) for answer in question_answers or []], dtype=str
            ),
            question_sources=np.array(question_sources or [], dtype=str),
            **deltas,
        )


def load_adapter(path: Path | None, dimension: int) -> QueryAdapter:
    """The adapter at `path`, or the bundled one; checked against the encoder's dimension."""
    origin = str(path) if path else BUNDLED_ADAPTER
    try:
        if path is None:
            with resources.as_file(resources.files("assistant.qa") / BUNDLED_ADAPTER) as bundled:
                return _read(bundled, origin, dimension)
        if path.stat().st_size > _MAX_BYTES:
            raise QueryAdapterError(f"{origin}: larger than {_MAX_BYTES:,} bytes; not an adapter")
        return _read(path, origin, dimension)
    except OSError as err:
        raise QueryAdapterError(
            f"{origin}: cannot be read ({err}); fix retrieval.query_adapter_file or set "
            "retrieval.adapter_weight to 0"
        ) from err


def _read(path: Path, origin: str, dimension: int) -> QueryAdapter:
    try:
        with np.load(path, allow_pickle=False) as data:
            matrix = data["matrix"].astype(np.float32)
            chunk_ids = frozenset(str(i) for i in data["chunk_ids"])

            # A file written before the questions were kept has none: no question list.
            def kept(key: str, empty: tuple[int, ...] = (0,)) -> np.ndarray:
                return data[key] if key in data.files else np.zeros(empty)

            questions = kept("questions", (0, dimension)).astype(np.float32)
            owners = kept("question_owners").astype(np.int64)
            passages = tuple(str(i) for i in kept("question_passages"))
            texts = tuple(str(t) for t in kept("question_texts"))
            answers = tuple(
                tuple(s for s in str(a).split(_SENTENCE_SEPARATOR) if s)
                for a in kept("question_answers")
            )
            sources = tuple(str(source) for source in kept("question_sources"))
            encoder = _read_encoder(data, origin)
            encoded = kept("encoded_questions", (0, dimension)).astype(np.float32)
    except QueryAdapterError:
        raise
    except (KeyError, ValueError, EOFError) as err:
        raise QueryAdapterError(
            f"{origin}: not an adapter file ({err}); rebuild it with "
            "`python -m evals.train_adapter` or set retrieval.adapter_weight to 0"
        ) from err
    if matrix.shape != (dimension, dimension) or not np.isfinite(matrix).all():
        raise QueryAdapterError(
            f"{origin}: a {matrix.shape} matrix does not fit the encoder's {dimension} "
            "dimensions; rebuild it with `python -m evals.train_adapter`"
        )
    fits = (
        questions.ndim == 2
        and questions.shape == (len(owners), dimension)
        and np.isfinite(questions).all()
        and (not len(owners) or (owners.min() >= 0 and owners.max() < len(passages)))
        and len(texts) in (0, len(owners))
        and len(answers) in (0, len(owners))
        and len(sources) in (0, len(owners))
        and (encoder is None or (encoded.shape == questions.shape and np.isfinite(encoded).all()))
    )
    if not fits:
        raise QueryAdapterError(
            f"{origin}: its training questions do not fit their passages or the encoder's "
            f"{dimension} dimensions; rebuild it with `python -m evals.train_adapter`"
        )
    return QueryAdapter(
        matrix,
        chunk_ids,
        questions,
        owners,
        passages,
        texts,
        answers,
        encoder,
        encoded,
        sources or ("",) * len(owners),
    )


def _read_encoder(data, origin: str) -> EncoderDeltas | None:
    """The query encoder in the file, checked against MiniLM-L6's layers; None if none."""
    if "encoder_modules" not in data.files:
        return None
    modules = tuple(str(m) for m in data["encoder_modules"])
    down = tuple(data[f"encoder_down_{i}"].astype(np.float32) for i in range(len(modules)))
    up = tuple(data[f"encoder_up_{i}"].astype(np.float32) for i in range(len(modules)))
    for name, d, u in zip(modules, down, up, strict=True):
        number, _, layer = name.removeprefix("encoder.layer.").partition(".")
        shape = _ENCODER_LAYERS.get(layer)
        fits = (
            name.startswith("encoder.layer.")
            and number.isdigit()
            and int(number) < _ENCODER_DEPTH
            and shape is not None
            and d.ndim == u.ndim == 2
            and d.shape[1] == shape[0]
            and u.shape[0] == shape[1]
            and d.shape[0] == u.shape[1]
            and np.isfinite(d).all()
            and np.isfinite(u).all()
        )
        if not fits:
            raise QueryAdapterError(
                f"{origin}: its query encoder does not fit the encoder's layers ({name}); "
                "rebuild it with `python -m evals.train_adapter`"
            )
    return EncoderDeltas.of(modules, down, up)


@lru_cache(maxsize=2)
def cached_adapter(path: Path | None, dimension: int) -> QueryAdapter:
    """Read once per process and file."""
    return load_adapter(path, dimension)


def query_adapter(settings: RetrievalSettings) -> QueryAdapter | None:
    """The adapter the settings ask for; None when `adapter_weight` is 0."""
    if settings.adapter_weight <= 0:
        return None
    return cached_adapter(settings.query_adapter_file, EMBEDDING_DIM)
