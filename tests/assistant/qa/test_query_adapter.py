"""The query adapter: its file, its arithmetic, and how its lists join the fusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.qa.query_adapter import (
    QueryAdapter,
    QueryAdapterError,
    load_adapter,
    query_adapter,
    save_adapter,
)
from assistant.qa.retrieve import HybridRetriever
from evals.tune_questions import SETS_DIR, TUNE_SUFFIX
from ingest.embedding import EMBEDDING_DIM, EncoderDeltas
from ingest.settings import RetrievalSettings
from tests.assistant.qa.test_fusion import FILLER, FixedEmbedder, ScriptedStore, chunk

# The adapter below turns the question's vector e0 into e1.
_TURN = np.zeros((4, 4), dtype=np.float32)
_TURN[0, 0], _TURN[0, 1] = -1.0, 5.0


class VectorStore(ScriptedStore):
    """Ranks `adapted_dense` for a vector along e1 (the adapted question), else `dense`."""

    def __init__(self, path: Path, chunks, dense: list[str], adapted_dense: list[str]) -> None:
        super().__init__(path, chunks, dense)
        self._adapted_dense = adapted_dense

    def query(self, generation: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        ranking = self._adapted_dense if vector[1] > 0.5 else self._dense
        return [(i, 0.9 - 0.01 * rank) for rank, i in enumerate(ranking[:n])]


CHUNKS = [
    chunk("plain", "Procurement officers review every contract for payment terms."),
    chunk("paraphrased", "Executive leadership takes responsibility for decisions on risk."),
    *FILLER,
]
QUESTION = "Who is on the hook for payment decisions?"


def retriever(tmp_path: Path, adapter: QueryAdapter | None, **settings) -> HybridRetriever:
    store = VectorStore(
        tmp_path / "store",
        CHUNKS,
        dense=["plain", "f0", "f1", "f2", "f3", "f4", "f5"],
        adapted_dense=["paraphrased", "plain", "f0"],
    )
    return HybridRetriever(store, RetrievalSettings(**settings), FixedEmbedder(), adapter)


def test_adapting_turns_the_vector_and_keeps_it_unit_length() -> None:
    adapter = QueryAdapter(_TURN, frozenset())
    adapted = adapter.adapt(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32))
    assert np.allclose(adapted, [0.0, 1.0, 0.0, 0.0])
    assert adapted.dtype == np.float32
    unchanged = QueryAdapter(np.zeros((4, 4), np.float32), frozenset())
    vector = np.array([0.6, 0.8, 0.0, 0.0], dtype=np.float32)
    assert np.allclose(unchanged.adapt(vector), vector)


def test_the_adapted_lists_bring_in_a_passage_the_plain_lists_miss(tmp_path: Path) -> None:
    without = retriever(tmp_path / "a", None)
    assert "paraphrased" not in [p.chunk_id for p in without.retrieve(QUESTION, k=3)]

    adapter = QueryAdapter(_TURN, frozenset(c.id for c in CHUNKS))
    passages, evidence = retriever(tmp_path / "b", adapter).retrieve_with_evidence(
        QUESTION, None, 3, None
    )
    assert "paraphrased" in [p.chunk_id for p in passages]
    # The refusal reads the plain lists' passages, on which its thresholds were set.
    assert [p.chunk_id for p in evidence] == [p.chunk_id for p in without.retrieve(QUESTION, k=3)]


class EncoderEmbedder(FixedEmbedder):
    """Reads a question along e1 through any query encoder (the adapted direction)."""

    def __init__(self) -> None:
        self.adapted: list[str] = []

    def embed_adapted(self, texts: list[str], deltas: EncoderDeltas) -> np.ndarray:
        self.adapted.extend(texts)
        return np.stack([_unit(0, 1, 0, 0) for _ in texts])


def _deltas(depth: int = 1) -> EncoderDeltas:
    rank = 2
    down = tuple(np.full((rank, EMBEDDING_DIM), 0.01 * (i + 1), np.float32) for i in range(depth))
    up = tuple(np.full((EMBEDDING_DIM, rank), 0.02, np.float32) for _ in range(depth))
    names = tuple(f"encoder.layer.{i}.attention.self.query" for i in range(depth))
    return EncoderDeltas.of(names, down, up)


def test_with_a_query_encoder_the_adapted_lists_read_the_question_through_it(
    tmp_path: Path,
) -> None:
    # The matrix leaves the vector alone; the encoder alone turns the question toward e1.
    encoder = _deltas()
    adapter = QueryAdapter(
        np.zeros((4, 4), np.float32), frozenset(c.id for c in CHUNKS), encoder=encoder
    )
    store = VectorStore(
        tmp_path / "store",
        CHUNKS,
        dense=["plain", "f0", "f1", "f2", "f3", "f4", "f5"],
        adapted_dense=["paraphrased", "plain", "f0"],
    )
    embedder = EncoderEmbedder()
    found = HybridRetriever(store, RetrievalSettings(), embedder, adapter)
    passages, _ = found.retrieve_with_evidence(QUESTION, None, 3, None)
    assert "paraphrased" in [p.chunk_id for p in passages]
    assert embedder.adapted == [QUESTION]
    without = HybridRetriever(store, RetrievalSettings(), embedder, replace_encoder(adapter))
    assert "paraphrased" not in [
        p.chunk_id for p in without.retrieve_with_evidence(QUESTION, None, 3, None)[0]
    ]


def replace_encoder(adapter: QueryAdapter) -> QueryAdapter:
    return QueryAdapter(adapter.matrix, adapter.chunk_ids)


def test_with_a_query_encoder_the_nearest_question_is_found_among_the_encoded_ones() -> None:
    # Read plainly, the officer's question is nearest the question for "a"; read by the
    # encoder (as the stored encoded questions are), nearest the one for "b".
    adapter = QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset({"a", "b"}),
        questions=np.stack([_unit(1, 0, 0, 0), _unit(0, 0, 1, 0)]),
        question_owners=np.array([0, 1]),
        question_passages=("a", "b"),
        encoder=_deltas(),
        encoded_questions=np.stack([_unit(0, 0, 1, 0), _unit(1, 0, 0, 0)]),
    )
    assert adapter.nearest_passages(_unit(1, 0, 0, 0), 1, among={"a", "b"})[0] == ["b"]


def test_a_saved_query_encoder_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "adapter.npz"
    matrix = np.zeros((EMBEDDING_DIM, EMBEDDING_DIM), np.float32)
    questions = np.eye(2, EMBEDDING_DIM, dtype=np.float32)
    encoded = np.eye(2, EMBEDDING_DIM, k=3, dtype=np.float32)
    encoder = _deltas(depth=2)
    save_adapter(path, matrix, ["a"], questions, ["a", "a"], ["q1", "q2"], None, encoder, encoded)
    adapter = load_adapter(path, EMBEDDING_DIM)
    assert adapter.encoder is not None
    assert adapter.encoder.modules == encoder.modules
    assert adapter.encoder.key == encoder.key
    assert all(
        np.array_equal(a, b) for a, b in zip(adapter.encoder.down, encoder.down, strict=True)
    )
    assert np.allclose(adapter.encoded_questions, encoded)
    plain = tmp_path / "plain.npz"
    save_adapter(plain, matrix, ["a"], questions, ["a", "a"], ["q1", "q2"])
    assert load_adapter(plain, EMBEDDING_DIM).encoder is None


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("encoder.layer.0.attention.self.query", 7),  # 7 inputs, not 384
        ("encoder.layer.9.attention.self.query", EMBEDDING_DIM),  # MiniLM-L6 has 6 layers
        ("pooler.dense", EMBEDDING_DIM),
    ],
)
def test_a_query_encoder_that_does_not_fit_minilm_is_one_clear_error(
    tmp_path: Path, name: str, rows: int
) -> None:
    path = tmp_path / "adapter.npz"
    encoder = EncoderDeltas.of(
        (name,), (np.ones((2, rows), np.float32),), (np.ones((EMBEDDING_DIM, 2), np.float32),)
    )
    matrix = np.zeros((EMBEDDING_DIM, EMBEDDING_DIM), np.float32)
    questions = np.eye(1, EMBEDDING_DIM, dtype=np.float32)
    save_adapter(path, matrix, ["a"], questions, ["a"], ["q"], None, encoder, questions)
    with pytest.raises(QueryAdapterError, match="query encoder does not fit") as raised:
        load_adapter(path, EMBEDDING_DIM)
    assert str(path) in str(raised.value)


def test_the_adapter_ranks_only_the_passages_it_was_trained_on(tmp_path: Path) -> None:
    # A passage added or changed after training has an id the adapter does not list.
    adapter = QueryAdapter(_TURN, frozenset(c.id for c in CHUNKS if c.id != "paraphrased"))
    ids = [p.chunk_id for p in retriever(tmp_path, adapter).retrieve(QUESTION, k=3)]
    assert "paraphrased" not in ids


def test_a_corpus_the_adapter_never_saw_ranks_as_without_it(tmp_path: Path) -> None:
    stranger = QueryAdapter(_TURN, frozenset({"some-other-corpus"}))
    with_it = retriever(tmp_path / "a", stranger).retrieve(QUESTION, k=5)
    without = retriever(tmp_path / "b", None).retrieve(QUESTION, k=5)
    assert [p.chunk_id for p in with_it] == [p.chunk_id for p in without]


def test_a_new_passage_first_in_every_plain_list_stays_first(tmp_path: Path) -> None:
    # Left at its plain score, a new document's passage would lose to known passages that
    # the adapted lists add to (a new note quoted word for word fell out of the top 5).
    chunks = [
        chunk("new", "The chief is on the hook for payment decisions and answers for them."),
        *CHUNKS,
    ]
    store = VectorStore(
        tmp_path / "store",
        chunks,
        dense=["new", "plain", "paraphrased", "f0", "f1"],
        adapted_dense=["plain", "paraphrased", "f0", "new"],
    )
    adapter = QueryAdapter(_TURN, frozenset(c.id for c in CHUNKS))  # not "new"
    hybrid = HybridRetriever(store, RetrievalSettings(), FixedEmbedder(), adapter)
    assert hybrid.retrieve(QUESTION, k=3)[0].chunk_id == "new"


def test_weight_zero_turns_the_adapter_off(tmp_path: Path) -> None:
    adapter = QueryAdapter(_TURN, frozenset(c.id for c in CHUNKS))
    off = retriever(tmp_path, adapter, adapter_weight=0.0)
    assert off.adapter is None
    assert "paraphrased" not in [p.chunk_id for p in off.retrieve(QUESTION, k=3)]
    assert query_adapter(RetrievalSettings(adapter_weight=0.0)) is None


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def _asked_for_paraphrased(question: np.ndarray) -> QueryAdapter:
    """An adapter whose matrix leaves the vector alone, with one training question, written
    for the passage "paraphrased"."""
    return QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset(c.id for c in CHUNKS),
        questions=np.stack([question]),
        question_owners=np.array([0]),
        question_passages=("paraphrased",),
    )


def test_the_nearest_training_question_brings_in_its_passage(tmp_path: Path) -> None:
    # The matrix leaves the vector alone, so no other list finds "paraphrased"; a training
    # question written for it lies along the officer's question.
    adapter = _asked_for_paraphrased(_unit(1, 0, 0, 0))
    on = retriever(tmp_path / "a", adapter, question_weight=2.0).retrieve(QUESTION, k=3)
    assert on[0].chunk_id == "paraphrased"
    off = retriever(tmp_path / "b", adapter, question_weight=0.0).retrieve(QUESTION, k=3)
    assert "paraphrased" not in [p.chunk_id for p in off]


def test_a_distant_training_question_weighs_less(tmp_path: Path) -> None:
    # The training question is at cosine 0.71 from the officer's: near from 0.65, far from
    # 0.75, and a far list weighted 0 is no list at all.
    adapter = _asked_for_paraphrased(_unit(1, 1, 0, 0))
    weights = {"question_weight": 2.0, "question_weight_far": 0.0}
    near = retriever(tmp_path / "a", adapter, question_near_cosine=0.65, **weights)
    assert near.retrieve(QUESTION, k=3)[0].chunk_id == "paraphrased"
    far = retriever(tmp_path / "b", adapter, question_near_cosine=0.75, **weights)
    assert "paraphrased" not in [p.chunk_id for p in far.retrieve(QUESTION, k=3)]


def test_nearest_passages_ranks_by_each_passage_closest_question() -> None:
    adapter = QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset({"a", "b", "c"}),
        # "b" has one far question and one near one: its nearest decides.
        questions=np.stack(
            [_unit(1, 1, 0, 0), _unit(0, 0, 0, 1), _unit(1, 0.1, 0, 0), _unit(0, 1, 0, 0)]
        ),
        question_owners=np.array([0, 1, 1, 2]),
        question_passages=("a", "b", "c"),
    )
    officer = _unit(1, 0, 0, 0)
    passages, cosine = adapter.nearest_passages(officer, 3, among={"a", "b", "c"})
    assert passages == ["b", "a", "c"]
    assert cosine == pytest.approx(1 / np.sqrt(1.01), abs=1e-5)  # "b"'s near question
    passages, cosine = adapter.nearest_passages(officer, 1, among={"a", "c"})  # another corpus's
    assert passages == ["a"]
    assert cosine == pytest.approx(1 / np.sqrt(2), abs=1e-5)  # "b"'s question is not counted
    assert adapter.nearest_passages(officer, 3, among=set()) == ([], -1.0)
    assert QueryAdapter(_TURN, frozenset({"a"})).nearest_passages(officer, 3, {"a"}) == ([], -1.0)


def test_keyword_passages_match_the_officers_words_in_the_training_questions() -> None:
    adapter = QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset({"a", "b", "c"}),
        questions=np.zeros((4, 4), np.float32),
        question_owners=np.array([0, 1, 1, 2]),
        question_passages=("a", "b", "c"),
        question_texts=(
            "Who signs off on buying a new camera system?",
            "Who is on the hook when the software gets it wrong?",
            "Can the vendor keep our footage?",
            "Which unit answers for bodycam storage costs?",
        ),
    )
    # "hook" and "wrong" are in one of "b"'s questions only; the documents say
    # "accountability".
    everything = {"a", "b", "c"}
    assert adapter.keyword_passages("who is on the hook if it goes wrong", 3, everything)[0] == "b"
    assert adapter.keyword_passages("on the hook", 3, among={"a", "c"}) == []
    assert adapter.keyword_passages("quantum teleportation", 3, {"a", "b", "c"}) == []
    without_texts = QueryAdapter(_TURN, frozenset({"a"}))
    assert without_texts.keyword_passages("on the hook", 3, {"a"}) == []


def _named_adapter() -> QueryAdapter:
    """Two questions for "paraphrased": one names its answering sentence, one does not."""
    return QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset(c.id for c in CHUNKS),
        questions=np.stack([_unit(1, 0, 0, 0), _unit(1, 1, 0, 0)]),
        question_owners=np.array([0, 0]),
        question_passages=("paraphrased",),
        question_texts=("Who is on the hook?", "Who answers for it?"),
        question_answers=(
            (),
            ("Executive leadership takes responsibility for decisions on risk.",),
        ),
    )


def test_a_close_question_that_names_its_sentence_suggests_the_opener() -> None:
    adapter = _named_adapter()
    # The nearest question (cosine 1) names no sentence; the named one is at cosine 0.71.
    officer = _unit(1, 0, 0, 0)
    assert adapter.suggested_opener(officer, 0.7, among={"paraphrased"}) == (
        "paraphrased",
        ("Executive leadership takes responsibility for decisions on risk.",),
    )
    assert adapter.suggested_opener(officer, 0.8, among={"paraphrased"}) is None  # too far
    assert adapter.suggested_opener(officer, 0.7, among={"plain"}) is None  # not read
    assert QueryAdapter(_TURN, frozenset()).suggested_opener(officer, 0.1, {"a"}) is None


def test_the_retriever_marks_the_suggested_passage_for_a_question_that_stands_alone(
    tmp_path: Path,
) -> None:
    hybrid = retriever(tmp_path, _named_adapter(), suggested_opener_similarity=0.7)
    context = hybrid.retrieve(QUESTION, k=5)
    assert "paraphrased" in [p.chunk_id for p in context]  # found by the question lists
    marked = {p.chunk_id: p.suggested for p in hybrid.suggest_openers(QUESTION, None, context)}
    assert marked.pop("paraphrased") == (
        "Executive leadership takes responsibility for decisions on risk.",
    )
    assert not any(marked.values())
    # Not for a follow-up, nor with the setting off.
    assert not any(p.suggested for p in hybrid.suggest_openers(QUESTION, ["Earlier?"], context))
    off = retriever(tmp_path / "c", _named_adapter(), suggested_openers=False)
    assert not any(p.suggested for p in off.suggest_openers(QUESTION, None, context))


def test_a_saved_adapter_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "adapter.npz"
    questions = np.stack([_unit(1, 0, 0, 0), _unit(0, 1, 0, 0), _unit(0, 0, 1, 0)])
    texts = ["Who pays?", "Who signs?", "Who keeps the footage?"]
    answers = [("The agency pays.",), (), ("Footage is kept 30 days.", "Then deleted.")]
    save_adapter(path, _TURN, ["b", "a"], questions, ["b", "a", "b"], texts, answers)
    adapter = load_adapter(path, 4)
    assert adapter.question_texts == tuple(texts)
    assert adapter.question_answers == tuple(answers)
    assert np.allclose(adapter.matrix, _TURN)
    assert adapter.chunk_ids == {"a", "b"}
    assert np.allclose(adapter.questions, questions)
    owners = [adapter.question_passages[i] for i in adapter.question_owners]
    assert owners == ["b", "a", "b"]
    assert adapter.question_sources == ("", "", "")  # written before sources were kept
    sources = ["", "pdfs.tune", "pdfs2.tune"]
    save_adapter(
        path, _TURN, ["b"], questions, ["b", "a", "b"], texts, answers, None, None, sources
    )
    assert load_adapter(path, 4).question_sources == tuple(sources)


def test_a_sets_own_questions_are_left_out_when_that_set_is_asked() -> None:
    adapter = QueryAdapter(
        np.zeros((4, 4), np.float32),
        frozenset({"a", "b"}),
        questions=np.stack([_unit(0, 1, 0, 0), _unit(1, 0, 0, 0), _unit(1, 0.2, 0, 0)]),
        question_owners=np.array([0, 1, 1]),
        question_passages=("a", "b"),
        question_texts=("Who signs?", "Who pays?", "Who pays for it?"),
        question_answers=((), ("The agency pays.",), ()),
        encoded_questions=np.stack([_unit(0, 1, 0, 0), _unit(1, 0, 0, 0), _unit(1, 0.2, 0, 0)]),
        question_sources=("", "pdfs.tune", "pdfs2.tune"),
    )
    officer = _unit(1, 0, 0, 0)
    assert adapter.nearest_passages(officer, 2, {"a", "b"})[0] == ["b", "a"]
    assert adapter.suggested_opener(officer, 0.9, {"a", "b"}) == ("b", ("The agency pays.",))
    asked = adapter.without_source("pdfs.tune")
    assert asked.question_texts == ("Who signs?", "Who pays for it?")
    assert asked.question_sources == ("", "pdfs2.tune")
    assert asked.encoded_questions.shape == (2, 4)
    assert asked.nearest_passages(officer, 2, {"a", "b"})[0] == ["b", "a"]  # by pdfs2's
    assert asked.suggested_opener(officer, 0.9, {"a", "b"}) is None  # pdfs's named it
    # Without any question left for it, a passage is not near the officer's at all.
    alone = asked.without_source("pdfs2.tune")
    assert alone.nearest_passages(officer, 2, {"a", "b"}) == (["a"], 0.0)
    assert alone.without_source("pdfs3.tune") is alone  # nothing of it: the same adapter


def test_an_adapter_file_without_questions_has_no_question_list(tmp_path: Path) -> None:
    # As written before the questions were kept (2026-12-05).
    path = tmp_path / "adapter.npz"
    with path.open("wb") as handle:
        np.savez_compressed(handle, matrix=_TURN.astype(np.float16), chunk_ids=np.array(["a"]))
    adapter = load_adapter(path, 4)
    assert adapter.chunk_ids == {"a"}
    assert adapter.nearest_passages(_unit(1, 0, 0, 0), 5, among={"a"}) == ([], -1.0)


def test_the_bundled_adapter_fits_the_encoder() -> None:
    adapter = load_adapter(None, EMBEDDING_DIM)
    assert adapter.matrix.shape == (EMBEDDING_DIM, EMBEDDING_DIM)
    assert len(adapter.chunk_ids) > 1000  # the sample corpus and the two shared PDFs
    # Every committed training question, each for a passage the adapter knows.
    training = [i for i, source in enumerate(adapter.question_sources) if not source]
    assert len(training) == 3225
    owners = adapter.question_owners[training]
    assert {adapter.question_passages[i] for i in owners} <= adapter.chunk_ids
    # And the questions of every tune split (evals/tune_questions.py), of no held-out one.
    tune_sets = {
        path.name.removesuffix(".jsonl") for path in SETS_DIR.glob(f"*{TUNE_SUFFIX}.jsonl")
    }
    assert set(adapter.question_sources) - {""} == tune_sets
    assert len(adapter.question_texts) == len(adapter.question_sources) == len(adapter.questions)
    # The query encoder, and every training question read by it.
    assert adapter.encoder is not None
    assert len(adapter.encoder.modules) == 24  # 4 layers in each of MiniLM's 6
    assert adapter.encoded_questions.shape == adapter.questions.shape


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot be read"),
        (b"not a numpy archive", "not an adapter file"),
        ("wrong-shape", "does not fit"),
        ("stray-owner", "training questions do not fit"),
    ],
)
def test_an_unusable_adapter_file_is_one_clear_error(
    tmp_path: Path, content: bytes | str | None, expected: str
) -> None:
    path = tmp_path / "adapter.npz"
    if content == "wrong-shape":
        save_adapter(path, np.zeros((3, 3), np.float32), ["a"])
    elif content == "stray-owner":  # a question owned by a passage the file does not list
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                matrix=_TURN,
                chunk_ids=np.array(["a"]),
                questions=np.ones((1, 4), np.float16),
                question_owners=np.array([3]),
                question_passages=np.array(["a"]),
            )
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(QueryAdapterError, match=expected) as raised:
        load_adapter(path, 4)
    assert str(path) in str(raised.value)


def test_an_unknown_retrieval_mode_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown retrieval mode 'hybird'"):
        retriever(tmp_path, None).retrieve(QUESTION, k=3, mode="hybird")
