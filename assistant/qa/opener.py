"""A learned correction of an English question's vector for choosing the answer's opener.

The first sentence should be the one that answers. Within a retrieved passage, MiniLM often
prefers a sentence that shares the question's topic over the one that answers it. The
writers of the training questions named, for 2,425 of their questions, the sentences of
the passage that answer them (`evals/training/README.md`). A 384 x 384 matrix `W`, trained
by `evals/train_opener.py` so that `normalize(q + q @ W)` is closest to those sentences
among all of their passage's quotable units, moves the question toward the answering
sentence: on passages left out of its training, it picks the named sentence first 85% of
the time against 79% for the plain vector.

It only chooses the opener (`ExtractiveAnswerer._score`): which sentences are shown, and
in what order after the first, stay the plain scoring's. Letting it score every sentence
changed which facts were shown, and cost key facts (docs/evals.md). Not for a follow-up:
the training questions stand alone.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from assistant.qa.bundled import read_arrays
from assistant.qa.query_adapter import QueryAdapter
from ingest.embedding import EMBEDDING_DIM

BUNDLED_OPENER = "opener_adapter.npz"


class OpenerAdapterError(ValueError):
    """The bundled opener adapter cannot be used; the message says why and what to do."""


@lru_cache(maxsize=1)
def opener_adapter() -> QueryAdapter:
    """The bundled adapter, read once per process: a matrix alone, used as the query
    adapter's is (`QueryAdapter.adapt`), with no passages or questions of its own."""
    matrix = read_arrays(
        BUNDLED_OPENER,
        ("matrix",),
        OpenerAdapterError,
        "rebuild it with `python -m evals.train_opener` or set answer.opener_weight to 0",
    )["matrix"].astype(np.float32)
    if matrix.shape != (EMBEDDING_DIM, EMBEDDING_DIM) or not np.isfinite(matrix).all():
        raise OpenerAdapterError(
            f"{BUNDLED_OPENER}: a {matrix.shape} matrix does not fit the encoder's "
            f"{EMBEDDING_DIM} dimensions; rebuild it with `python -m evals.train_opener`"
        )
    return QueryAdapter(matrix, frozenset())
