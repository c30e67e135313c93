"""End to end: `toolkit-assistant eval` with the real model, real Chroma and the sample corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from evals.sets_io import KINDS

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"
SAMPLE = ROOT / "evals" / "sets" / "sample.jsonl"

pytestmark = [pytest.mark.integration, pytest.mark.eval]


@pytest.fixture
def one_question_per_kind(tmp_path: Path) -> Path:
    """A small set keeps the test minutes short; named `sample` so the sample gate applies."""
    if not SAMPLE.exists():
        pytest.skip("evals/sets/sample.jsonl not written yet")
    rows: dict[str, str] = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.setdefault(json.loads(line)["kind"], line)
    path = tmp_path / "sets" / "sample.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(rows.values()) + "\n", encoding="utf-8")
    return path


def test_eval_with_baselines_report_and_gate(
    one_question_per_kind: Path, sample_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    report_dir = tmp_path / "report"
    status = main(
        [
            "eval",
            "--set",
            str(one_question_per_kind),
            "--corpus",
            str(CORPUS),
            "--store",
            str(sample_store),
            "--baseline",
            "--report",
            str(report_dir),
            "--gate",
            "sample",
            "--json",
        ]
    )
    data = json.loads(capsys.readouterr().out)
    assert data["set"] == "sample" and data["n"] == 8
    assert set(data["baselines"]) == {"bm25", "langchain_tutorial"}
    # Eight questions are not the set the thresholds were measured on: the gate may fail,
    # but its verdict and the exit status must agree.
    assert data["gate"]["name"] == "sample"
    assert status == (1 if data["gate"]["failed"] else 0)
    # the kinds of these eight questions (the sample set has no yes-no or count ones)
    assert set(data["by_kind"]) == set(KINDS) - {"yes-no", "count"}
    for system in (data["metrics"], *(b["metrics"] for b in data["baselines"].values())):
        assert 0 < system["hit@5"] <= 1 and 0 < system["mrr@10"] <= 1
    assert data["metrics"]["latency_p50_ms"] > 0
    written = sorted(p.name for p in report_dir.iterdir())
    assert written == ["by_kind.png", "latency.png", "report.json", "report.md"]


def test_a_malformed_set_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "q", "kind": "factoid"\n', encoding="utf-8")
    assert main(["eval", "--set", str(bad), "--corpus", str(CORPUS)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"error: {bad}:1: not valid JSON") and "\n" not in error
