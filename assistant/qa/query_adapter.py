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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ingest.embedding import EMBEDDING_DIM
from ingest.settings import RetrievalSettings

BUNDLED_ADAPTER = "query_adapter.npz"
# The file holds a 384 x 384 matrix and some thousands of ids; far larger is not one.
_MAX_BYTES = 50_000_000


class QueryAdapterError(ValueError):
    """The adapter file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class QueryAdapter:
    """`v -> normalize(v + v @ matrix)`, for the passages listed in `chunk_ids`."""

    matrix: np.ndarray  # float32, dimension x dimension
    chunk_ids: frozenset[str]

    def adapt(self, vector: np.ndarray) -> np.ndarray:
        adapted = vector + vector @ self.matrix
        norm = float(np.linalg.norm(adapted))
        return (adapted / norm if norm else vector).astype(np.float32)


def save_adapter(path: Path, matrix: np.ndarray, chunk_ids: list[str]) -> None:
    """float16 halves the file; the rounding moves no ranking we measured."""
    with path.open("wb") as handle:
        np.savez_compressed(
            handle, matrix=matrix.astype(np.float16), chunk_ids=np.array(sorted(chunk_ids))
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
    return QueryAdapter(matrix, chunk_ids)


@lru_cache(maxsize=2)
def cached_adapter(path: Path | None, dimension: int) -> QueryAdapter:
    """Read once per process and file."""
    return load_adapter(path, dimension)


def query_adapter(settings: RetrievalSettings) -> QueryAdapter | None:
    """The adapter the settings ask for; None when `adapter_weight` is 0."""
    if settings.adapter_weight <= 0:
        return None
    return cached_adapter(settings.query_adapter_file, EMBEDDING_DIM)
