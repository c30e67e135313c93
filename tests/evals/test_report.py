"""The report writer: files, the comparison with the last committed report, the table."""

from __future__ import annotations

import copy
from pathlib import Path

from evals.report import (
    compare,
    format_summary,
    read_last_report,
    save_last_report,
    write_report,
)

RESULT = {
    "set": "mini",
    "n": 3,
    "metrics": {
        "hit@1": 0.5,
        "hit@5": 1.0,
        "mrr@10": 0.75,
        "ndcg@10": 0.8,
        "key_fact_recall": 0.5,
        "citation_precision": 0.5,
        "refusal_accuracy": 1.0,
        "false_refusal_rate": 0.0,
        "latency_p50_ms": 40.0,
        "latency_p95_ms": 90.0,
    },
    "by_kind": {
        "factoid": {
            "n": 2,
            "hit@1": 0.5,
            "hit@5": 1.0,
            "mrr@10": 0.75,
            "ndcg@10": 0.8,
            "key_fact_recall": 0.5,
            "citation_precision": 0.5,
            "refusal_accuracy": None,
            "false_refusal_rate": 0.0,
            "latency_p50_ms": 40.0,
            "latency_p95_ms": 50.0,
        },
        "out_of_scope": {
            "n": 1,
            "hit@1": None,
            "hit@5": None,
            "mrr@10": None,
            "ndcg@10": None,
            "key_fact_recall": None,
            "citation_precision": None,
            "refusal_accuracy": 1.0,
            "false_refusal_rate": None,
            "latency_p50_ms": 90.0,
            "latency_p95_ms": 90.0,
        },
    },
    "per_question": [
        {
            "id": "f1",
            "kind": "factoid",
            "question": "Who?",
            "refused": False,
            "answer": "UNICRI",
            "latency_ms": 30.0,
            "ranked_units": ["a.pdf#p1"],
            "relevant_units": ["a.pdf#p1"],
            "retrieval": {"hit@5": 1.0},
            "key_fact_recall": 1.0,
            "missing_facts": [],
            "citation_precision": 1.0,
            "cited_units": ["a.pdf#p1"],
        },
        {
            "id": "f2",
            "kind": "factoid",
            "question": "When?",
            "refused": False,
            "answer": "soon",
            "latency_ms": 50.0,
            "ranked_units": ["b.pdf#p9"],
            "relevant_units": ["a.pdf#p2"],
            "retrieval": {"hit@5": 0.0},
            "key_fact_recall": 0.0,
            "missing_facts": ["2028"],
            "citation_precision": 0.0,
            "cited_units": ["b.pdf#p9"],
        },
        {
            "id": "o1",
            "kind": "out_of_scope",
            "question": "GPU?",
            "refused": True,
            "answer": "-",
            "latency_ms": 90.0,
            "ranked_units": [],
            "relevant_units": [],
            "retrieval": {},
            "key_fact_recall": None,
            "missing_facts": [],
            "citation_precision": None,
            "cited_units": [],
        },
    ],
    "baselines": {
        "bm25": {
            "metrics": {"hit@1": 0.0, "hit@5": 0.5, "mrr@10": 0.2, "ndcg@10": 0.3},
            "by_kind": {"factoid": {"hit@1": 0.0, "hit@5": 0.5, "mrr@10": 0.2, "ndcg@10": 0.3}},
        },
        "langchain_tutorial": {
            "metrics": {"hit@1": 0.5, "hit@5": 0.5, "mrr@10": 0.5, "ndcg@10": 0.5},
            "by_kind": {"factoid": {"hit@1": 0.5, "hit@5": 0.5, "mrr@10": 0.5, "ndcg@10": 0.5}},
        },
    },
}


def test_writes_markdown_json_and_plots(tmp_path: Path) -> None:
    previous = copy.deepcopy(RESULT)
    previous["metrics"]["hit@5"] = 0.9  # improved since
    previous["metrics"]["mrr@10"] = 0.9  # regressed by 0.15
    previous["metrics"]["false_refusal_rate"] = 0.005  # unchanged within the tolerance
    written = write_report(RESULT, tmp_path / "out", previous)
    assert [p.name for p in written] == ["report.md", "report.json", "by_kind.png", "latency.png"]
    for png in written[2:]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    markdown = written[0].read_text(encoding="utf-8")
    assert "| mrr@10 | 0.900 | 0.750 | -0.150 | **regression** |" in markdown
    assert "| hit@5 | 0.900 | 1.000 | +0.100 |  |" in markdown
    assert "| false_refusal_rate | 0.005 | 0.000 | -0.005 |  |" in markdown
    assert (
        "`f2` (factoid) When? \u2014 no gold unit in the top 5, missing: \u201c2028\u201d"
        in markdown
    )
    assert "![hit@5 and MRR@10 by question kind](by_kind.png)" in markdown


def test_no_comparison_across_sets(tmp_path: Path) -> None:
    written = write_report(RESULT, tmp_path, {**RESULT, "set": "nist"})
    assert "has no entry for the set `mini` yet" in written[0].read_text(encoding="utf-8")


def test_last_report_keeps_one_reference_per_set(tmp_path: Path) -> None:
    last = tmp_path / "last.json"
    save_last_report({**RESULT, "set": "nist"}, last)
    save_last_report(RESULT, last)
    saved = read_last_report("mini", last)
    assert saved is not None and saved["metrics"] == RESULT["metrics"]
    assert "per_question" not in saved
    assert read_last_report("nist", last)["set"] == "nist"
    assert read_last_report("other", last) is None


def test_regressions_respect_direction_and_skip_latency() -> None:
    after = copy.deepcopy(RESULT)
    after["metrics"].update(false_refusal_rate=0.1, latency_p95_ms=900.0)
    marked = {c.metric for c in compare(RESULT, after) if c.regression}
    assert marked == {"false_refusal_rate"}


def test_summary_table_puts_baselines_side_by_side() -> None:
    table = format_summary(RESULT)
    header = next(line for line in table.splitlines() if line.startswith("metric"))
    assert header.split()[1:] == ["hybrid", "(ours)", "BM25", "alone", "LangChain", "tutorial"]
    hit5 = next(line for line in table.splitlines() if line.startswith("hit@5"))
    assert hit5.split() == ["hit@5", "1.000", "0.500", "0.500"]
    recall = next(line for line in table.splitlines() if line.startswith("key_fact_recall"))
    assert recall.split() == ["key_fact_recall", "0.500", "-", "-"]
