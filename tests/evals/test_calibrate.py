"""Refusal threshold search."""

from __future__ import annotations

import pytest

from evals.calibrate import calibrate, feature_function


def test_thresholds_refuse_out_of_scope_within_the_false_refusal_budget() -> None:
    rows = [
        {"dense_score": 0.2, "term_coverage": 0.9},  # out of scope: low dense score
        {"dense_score": 0.6, "term_coverage": 0.3},  # out of scope: low coverage
        {"dense_score": 0.7, "term_coverage": 0.8},  # out of scope, indistinguishable
    ] + [{"dense_score": 0.5 + i / 100, "term_coverage": 0.7 + i / 100} for i in range(20)]
    out_of_scope = [True, True, True] + [False] * 20
    calibration = calibrate(rows, out_of_scope)
    assert calibration.refusal_accuracy == pytest.approx(2 / 3)
    assert calibration.false_refusal_rate == 0.0
    assert 0.2 < calibration.thresholds["dense_score"] <= 0.5
    assert 0.3 < calibration.thresholds["term_coverage"] <= 0.7


def test_three_features_of_many_values_are_searched_without_error() -> None:
    """A real store gives ~100 distinct values per feature: 100^3 combinations used to be
    refused with a traceback; the search now takes quantiles of each feature instead."""
    rows = [
        {"dense_score": i / 100, "term_coverage": (i * 7 % 100) / 100, "topic_coverage": 1.0}
        for i in range(100)
    ]
    out_of_scope = [i < 10 for i in range(100)]  # the ten lowest dense scores
    calibration = calibrate(rows, out_of_scope)
    assert calibration.refusal_accuracy == 1.0
    assert calibration.false_refusal_rate <= 0.05
    assert set(calibration.thresholds) == {"dense_score", "term_coverage", "topic_coverage"}


def test_only_numeric_evidence_is_calibrated() -> None:
    class Evidence:
        def to_dict(self) -> dict:
            return {"dense_score": 0.4, "unknown_names": ["FBI"], "topic_coverage": 1}

    class Assistant:
        def evidence(self, question: str, history) -> Evidence:
            return Evidence()

    features = feature_function(Assistant())
    assert features("q", None) == {"dense_score": 0.4, "topic_coverage": 1.0}


def test_the_domain_scores_are_not_thresholds_to_search() -> None:
    """Their floors come with the models, and they may be None (a question not judged)."""

    class Evidence:
        def __init__(self, domain_score: float | None) -> None:
            self.domain_score = domain_score

        def to_dict(self) -> dict:
            return {
                "dense_score": 0.4,
                "domain_score": self.domain_score,
                "near_domain_score": self.domain_score,
            }

    class Assistant:
        def evidence(self, question: str, history) -> Evidence:
            return Evidence(-1.5 if "patrol" in question else None)

    features = feature_function(Assistant())
    assert features("When is my patrol car serviced?", None) == {"dense_score": 0.4}
    assert features("What is TEVV?", None) == {"dense_score": 0.4}
