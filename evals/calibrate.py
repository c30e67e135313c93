"""Refusal thresholds from an eval set: refuse as many out-of-scope questions as possible
while refusing at most 5 % of the in-scope ones.

The assistant refuses when any evidence feature is below its threshold (`is_weak`), so
the thresholds are searched jointly, over the midpoints between observed values.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from evals.sets_io import EvalSet

MAX_FALSE_REFUSAL_RATE = 0.05
_MAX_COMBINATIONS = 200_000  # a Python loop: about a minute at this size

FeatureFunction = Callable[[str, list[str] | None], dict[str, float]]


def feature_function(assistant: object) -> FeatureFunction | None:
    """The assistant's refusal evidence for a question, if it exposes any."""
    if hasattr(assistant, "refusal_features"):
        return assistant.refusal_features
    if hasattr(assistant, "evidence"):
        return lambda question, history: _numeric(assistant.evidence(question, history).to_dict())
    return None


# Not searched: the domain models' floors come with their training, and they refuse only
# together with the dense ceiling (assistant/qa/domain.py), not on their own.
_NOT_THRESHOLDS = frozenset({"domain_score", "near_domain_score"})


def _numeric(features: dict[str, object]) -> dict[str, float]:
    """The features a threshold applies to: `unknown_names` is a list, refused when not empty."""
    return {
        name: float(value)
        for name, value in features.items()
        if isinstance(value, int | float)
        and not isinstance(value, bool)
        and name not in _NOT_THRESHOLDS
    }


@dataclass(frozen=True)
class Calibration:
    thresholds: dict[str, float]  # refuse when a feature is below its threshold
    refusal_accuracy: float
    false_refusal_rate: float
    out_of_scope: int
    in_scope: int

    def to_dict(self) -> dict:
        return {
            "thresholds": {k: round(v, 4) for k, v in self.thresholds.items()},
            "refusal_accuracy": round(self.refusal_accuracy, 4),
            "false_refusal_rate": round(self.false_refusal_rate, 4),
            "out_of_scope": self.out_of_scope,
            "in_scope": self.in_scope,
        }


def collect_features(
    eval_set: EvalSet, features: FeatureFunction
) -> tuple[list[dict[str, float]], list[bool]]:
    rows, out_of_scope = [], []
    for question in eval_set.questions:
        rows.append(features(question.question, list(question.history) or None))
        out_of_scope.append(not question.in_scope)
    return rows, out_of_scope


def calibrate(
    rows: list[dict[str, float]],
    out_of_scope: list[bool],
    max_false_refusal_rate: float = MAX_FALSE_REFUSAL_RATE,
) -> Calibration:
    """Best thresholds; ties go to the lower thresholds (the fewest refusals)."""
    names = sorted(rows[0])
    values = np.array([[row[n] for n in names] for row in rows], dtype=float)
    is_out = np.array(out_of_scope, dtype=bool)
    # Each feature gets an equal share of the search: with three features, 58 candidate
    # thresholds each (quantiles of the observed values when there are more).
    per_feature = max(2, int(_MAX_COMBINATIONS ** (1 / max(1, len(names)))))
    candidates = [_candidates(values[:, i], per_feature) for i in range(len(names))]
    best: tuple[float, float, tuple[float, ...]] | None = None
    for combination in itertools.product(*candidates):
        refused = (values < np.array(combination)).any(axis=1)
        accuracy = refused[is_out].mean() if is_out.any() else 0.0
        false_rate = refused[~is_out].mean() if (~is_out).any() else 0.0
        if false_rate > max_false_refusal_rate:
            continue
        key = (accuracy, -false_rate, tuple(-t for t in combination))
        if best is None or key > (best[0], -best[1], tuple(-t for t in best[2])):
            best = (float(accuracy), float(false_rate), combination)
    assert best is not None  # thresholds at the minima refuse nothing, which always qualifies
    return Calibration(
        dict(zip(names, best[2], strict=True)),
        best[0],
        best[1],
        int(is_out.sum()),
        int((~is_out).sum()),
    )


def _candidates(column: np.ndarray, limit: int) -> list[float]:
    observed = np.unique(column)
    midpoints = (observed[:-1] + observed[1:]) / 2
    if len(midpoints) > limit - 2:
        midpoints = np.unique(np.quantile(midpoints, np.linspace(0, 1, limit - 2)))
    return [float(observed[0]), *map(float, midpoints), float(observed[-1]) + 1e-6]
