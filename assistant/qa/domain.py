"""Whether an English question is about the corpus's subject at all: AI in policing.

"What's the service interval for our marked patrol vehicles?" and "How often do officers
need to requalify on their firearms training?" find passages as close in cosine (0.26-0.33)
and in shared words as officers' paraphrases of questions the corpus answers, so the other
refusal signals answered them with quotes on AI risk (docs/evals.md). What sets them apart
is their subject, which MiniLM's question vector carries: a logistic regression over it,
trained on 4,109 questions written for the corpus's passages and 600 questions on police
work that has nothing to do with AI (`evals/train_domain.py`, `evals/training/README.md`),
tells the two apart.

Its floor is not chosen on an eval set: it is the score below which 0.5% of the in-domain
training questions fall when each is scored by a model that did not see it (5-fold). The
check refuses only when the best passage is also not close in meaning
(`answer.domain_dense_ceiling`): a corpus that holds a fleet manual answers a fleet
question, whatever this model thinks of its subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.qa.bundled import read_arrays
from ingest.embedding import EMBEDDING_DIM

BUNDLED_DOMAIN = "domain.npz"


class DomainModelError(ValueError):
    """The bundled domain model cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class DomainModel:
    weights: np.ndarray  # (384,), over the question's normalized MiniLM vector
    bias: float
    floor: float  # the log-odds below which a question is off the domain

    def score(self, vector: np.ndarray) -> float:
        """The question's log-odds of being on the domain, less the floor: below 0 is off."""
        return float(vector @ self.weights) + self.bias - self.floor


@lru_cache(maxsize=1)
def domain_model() -> DomainModel:
    """The bundled model, read once per process."""
    data = read_arrays(
        BUNDLED_DOMAIN,
        ("weights", "bias", "floor"),
        DomainModelError,
        "rebuild it with `python -m evals.train_domain` or set answer.domain_check to false",
    )
    weights = data["weights"].astype(np.float32)
    bias, floor = float(data["bias"]), float(data["floor"])
    if weights.shape != (EMBEDDING_DIM,) or not np.isfinite([*weights, bias, floor]).all():
        raise DomainModelError(
            f"{BUNDLED_DOMAIN}: its weights do not fit the encoder's {EMBEDDING_DIM} "
            "dimensions; rebuild it with `python -m evals.train_domain`"
        )
    return DomainModel(weights, bias, floor)
