"""Refusal threshold search."""

from __future__ import annotations

import pytest

from evals.calibrate import calibrate


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
