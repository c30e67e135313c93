"""The CI gate: compare a run's metrics with the thresholds in `evals/thresholds.toml`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from evals.metrics import (
    ANSWER_METRICS,
    GENERATION_METRICS,
    LOWER_IS_BETTER,
    OUTCOME_METRICS,
    RETRIEVAL_METRICS,
)

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.toml")
KNOWN_METRICS = (
    frozenset(RETRIEVAL_METRICS)
    | frozenset(ANSWER_METRICS)
    | frozenset(OUTCOME_METRICS)
    | frozenset(GENERATION_METRICS)
)


class GateError(ValueError):
    """The thresholds file or the gate name is wrong; the message says which."""


def load_thresholds(name: str, path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """The `[name]` table of the thresholds file, checked against the known metric names."""
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise GateError(f"{path}: cannot read the thresholds ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise GateError(f"{path}: not valid TOML ({err})") from None
    if name not in tables or not isinstance(tables[name], dict):
        names = ", ".join(sorted(k for k, v in tables.items() if isinstance(v, dict)))
        raise GateError(f"{path}: no [{name}] table; gates defined: {names or 'none'}")
    thresholds = tables[name]
    for metric, value in thresholds.items():
        if metric not in KNOWN_METRICS:
            known = ", ".join(sorted(KNOWN_METRICS))
            raise GateError(f"{path}: [{name}] {metric!r} is not a metric; known: {known}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GateError(f"{path}: [{name}] {metric} must be a number")
    return {metric: float(value) for metric, value in thresholds.items()}


def failed_metrics(metrics: dict[str, float | None], thresholds: dict[str, float]) -> list[str]:
    """One line per metric that misses its threshold; empty when the gate passes."""
    failures = []
    for metric, threshold in thresholds.items():
        value = metrics.get(metric)
        if value is None:
            failures.append(f"{metric}: not measured (the set has no question it applies to)")
        elif metric in LOWER_IS_BETTER and value > threshold:
            failures.append(f"{metric}: {value:.4g} is above the threshold {threshold:.4g}")
        elif metric not in LOWER_IS_BETTER and value < threshold:
            failures.append(f"{metric}: {value:.4g} is below the threshold {threshold:.4g}")
    return failures
