"""Whether an English question is about the corpus's subject at all: AI in policing.

"What's the service interval for our marked patrol vehicles?" and "How often do officers
need to requalify on their firearms training?" find passages as close in cosine (0.26-0.33)
and in shared words as officers' paraphrases of questions the corpus answers, so the other
refusal signals answered them with quotes on AI risk (docs/evals.md). What sets them apart
is their subject, which MiniLM's question vector carries: a logistic regression over it,
trained on 4,109 questions written for the corpus's passages and 600 questions on police
work that has nothing to do with AI (`evals/train_domain.py`, `evals/training/README.md`),
tells the two apart.

The near-domain model is the same regression over the same vector, trained on the same
questions against 600 that sit on the subject but ask what such general guidance never
holds: a figure ("How long can we keep ANPR reads ...?"), a law by name or article, a
vendor's product, or a step of police legal procedure with an AI tool in it ("Do we need a
directed surveillance authorisation before running drone footage through object detection
software?"). Two such questions of the tune splits found passages at cosine 0.31 and 0.33,
as close as officers' paraphrases find theirs, and were answered with them.

Neither floor is chosen on an eval set: each is the score below which 0.5% of the in-domain
training questions fall when each is scored by a model that did not see it (5-fold). Each
check refuses only when the best passage is also not close in meaning
(`answer.domain_dense_ceiling`): a corpus that holds a fleet manual answers a fleet
question, and one that holds a drone policy a drone question, whatever these models think.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.qa.bundled import read_arrays
from ingest.embedding import EMBEDDING_DIM

BUNDLED_DOMAIN = "domain.npz"
BUNDLED_NEAR_DOMAIN = "near_domain.npz"


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


def domain_model() -> DomainModel:
    """The bundled domain model (off the subject), read once per process."""
    return _bundled_model(BUNDLED_DOMAIN)


def near_domain_model() -> DomainModel:
    """The bundled near-domain model (on the subject, past what guidance holds)."""
    return _bundled_model(BUNDLED_NEAR_DOMAIN)


@lru_cache(maxsize=2)
def _bundled_model(name: str) -> DomainModel:
    data = read_arrays(
        name,
        ("weights", "bias", "floor"),
        DomainModelError,
        "rebuild it with `python -m evals.train_domain` or set answer.domain_check to false",
    )
    weights = data["weights"].astype(np.float32)
    bias, floor = float(data["bias"]), float(data["floor"])
    if weights.shape != (EMBEDDING_DIM,) or not np.isfinite([*weights, bias, floor]).all():
        raise DomainModelError(
            f"{name}: its weights do not fit the encoder's {EMBEDDING_DIM} "
            "dimensions; rebuild it with `python -m evals.train_domain`"
        )
    return DomainModel(weights, bias, floor)
