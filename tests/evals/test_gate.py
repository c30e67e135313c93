"""The CI gate and its thresholds file."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.gate import THRESHOLDS_FILE, GateError, failed_metrics, load_thresholds


def test_the_committed_thresholds_have_both_gates() -> None:
    for name in ("sample", "nist"):
        assert load_thresholds(name, THRESHOLDS_FILE)


def test_failures_are_one_line_per_metric() -> None:
    thresholds = {"hit@5": 0.8, "false_refusal_rate": 0.05, "refusal_accuracy": 0.9, "mrr@10": 0.5}
    metrics = {"hit@5": 0.75, "false_refusal_rate": 0.1, "refusal_accuracy": None, "mrr@10": 0.5}
    assert failed_metrics(metrics, thresholds) == [
        "hit@5: 0.75 is below the threshold 0.8",
        "false_refusal_rate: 0.1 is above the threshold 0.05",
        "refusal_accuracy: not measured (the set has no question it applies to)",
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[other]\n'hit@5' = 0.1\n", r"no \[sample\] table; gates defined: other"),
        ("[sample]\n'hit@50' = 0.1\n", "'hit@50' is not a metric"),
        ("[sample]\n'hit@5' = 'high'\n", "must be a number"),
        ("[sample\n", "not valid TOML"),
    ],
)
def test_a_bad_thresholds_file_is_one_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GateError, match=problem):
        load_thresholds("sample", path)


def test_every_make_test_gate_has_its_set_and_its_thresholds() -> None:
    from evals.gates import GATES, REPO

    for gate in GATES:
        assert (REPO / "evals" / "sets" / gate.set_file).is_file(), gate
        assert load_thresholds(gate.name), gate  # raises GateError on a missing table


def test_pdf_gates_are_skipped_when_the_pdfs_are_absent(tmp_path, capsys) -> None:
    from evals.gates import main as run_gates

    assert run_gates(["--only", "nist", "pdfs-heldout", "--fixtures", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "gate nist skipped" in out and "gate pdfs-heldout skipped" in out
    rows = [line.split()[:2] for line in out.splitlines()[-2:]]
    assert rows == [["nist", "skipped"], ["pdfs-heldout", "skipped"]]
