"""Present an eval result: the terminal table, `report.md`, `report.json` and PNG plots.

Everything here works on the JSON form of a result (`EvalResult.to_dict()`), so a report
can be rebuilt from any saved `report.json`, and the committed `evals/reports/last.json`
is compared in the same shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evals.metrics import (
    ANSWER_METRICS,
    GENERATION_METRICS,
    LOWER_IS_BETTER,
    OUTCOME_METRICS,
    RETRIEVAL_METRICS,
)

LAST_REPORT = Path(__file__).with_name("reports") / "last.json"
REGRESSION_TOLERANCE = 0.01
# Latency depends on the machine that ran the eval: listed, never called a regression.
_NOT_COMPARED = frozenset({"latency_p50_ms", "latency_p95_ms"})
SYSTEM_LABELS = {
    "hybrid": "hybrid (ours)",
    "bm25": "BM25 alone",
    "langchain_tutorial": "LangChain tutorial",
}
PLOTTED_METRICS = ("hit@5", "mrr@10")


def _format(value: float | None, metric: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if metric.endswith("_ms") else f"{value:.3f}"


def _systems(result: dict) -> dict[str, dict]:
    """hybrid first, then each baseline: {"metrics": ..., "by_kind": ...}."""
    systems = {"hybrid": {"metrics": result["metrics"], "by_kind": result["by_kind"]}}
    systems.update(result.get("baselines", {}))
    return systems


# -- terminal -------------------------------------------------------------------------------
def format_summary(result: dict) -> str:
    """The plain-text table `eval` prints: every metric, baselines side by side."""
    systems = _systems(result)
    names = list(systems)
    width = max(len(SYSTEM_LABELS.get(n, n)) for n in names) + 2
    lines = [f"eval set {result['set']}: {result['n']} questions", ""]
    lines.append(f"{'metric':<22}" + "".join(f"{SYSTEM_LABELS.get(n, n):>{width}}" for n in names))
    generation = [m for m in GENERATION_METRICS if m in result["metrics"]]
    for metric in (*RETRIEVAL_METRICS, *ANSWER_METRICS, *OUTCOME_METRICS, *generation):
        cells = [_format(systems[n]["metrics"].get(metric), metric) for n in names]
        lines.append(f"{metric:<22}" + "".join(f"{c:>{width}}" for c in cells))
    lines += ["", _by_kind_table(result)]
    return "\n".join(lines)


def _by_kind_table(result: dict) -> str:
    columns = ("n", "hit@5", "mrr@10", "key_fact_recall", "refusal_accuracy", "false_refusal_rate")
    lines = [f"{'by kind':<14}" + "".join(f"{c:>20}" for c in columns)]
    for kind, metrics in result["by_kind"].items():
        cells = [str(metrics["n"])] + [_format(metrics.get(c)) for c in columns[1:]]
        lines.append(f"{kind:<14}" + "".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


# -- comparison with the last committed report ----------------------------------------------
@dataclass(frozen=True)
class MetricChange:
    metric: str
    previous: float | None
    current: float | None
    delta: float | None
    regression: bool


def compare(previous: dict, current: dict) -> list[MetricChange]:
    """Each metric's change; a regression is worse by more than REGRESSION_TOLERANCE."""
    changes = []
    for metric in (*RETRIEVAL_METRICS, *ANSWER_METRICS):
        before = previous.get("metrics", {}).get(metric)
        after = current["metrics"].get(metric)
        delta = None if before is None or after is None else after - before
        worse_by = None if delta is None else (delta if metric in LOWER_IS_BETTER else -delta)
        regression = (
            metric not in _NOT_COMPARED and worse_by is not None and worse_by > REGRESSION_TOLERANCE
        )
        changes.append(MetricChange(metric, before, after, delta, regression))
    return changes


def _comparison_section(previous: dict | None, current: dict) -> list[str]:
    lines = ["## Compared with the last committed report", ""]
    if previous is None or previous.get("set") != current["set"]:
        return lines + [
            f"`evals/reports/last.json` has no entry for the set `{current['set']}` yet: "
            "nothing to compare with.",
            "",
        ]
    lines += ["| metric | previous | new | delta | |", "|---|---:|---:|---:|---|"]
    for change in compare(previous, current):
        delta = "-" if change.delta is None else f"{change.delta:+.3f}"
        mark = "**regression**" if change.regression else ""
        lines.append(
            f"| {change.metric} | {_format(change.previous, change.metric)} | "
            f"{_format(change.current, change.metric)} | {delta} | {mark} |"
        )
    return lines + [""]


def read_last_report(set_name: str, path: Path = LAST_REPORT) -> dict | None:
    """The committed summary for one set: `last.json` maps set name -> summary."""
    if not path.is_file():
        return None
    entry = json.loads(path.read_text(encoding="utf-8")).get(set_name)
    return entry if isinstance(entry, dict) else None


def save_last_report(result: dict, path: Path = LAST_REPORT) -> Path:
    """Record this run as the set's reference: metrics and by-kind figures, no answers."""
    saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    saved[result["set"]] = {key: value for key, value in result.items() if key != "per_question"}
    for baseline in saved[result["set"]].get("baselines", {}).values():
        baseline.pop("per_question", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


# -- files ----------------------------------------------------------------------------------
def write_report(result: dict, out_dir: Path, previous: dict | None = None) -> list[Path]:
    """Write report.md, report.json and the plots into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    by_kind_png = plot_by_kind(result, out_dir / "by_kind.png")
    latency_png = plot_latency(result, out_dir / "latency.png")
    markdown_path = out_dir / "report.md"
    markdown_path.write_text(
        _markdown(result, previous, by_kind_png, latency_png), encoding="utf-8"
    )
    return [markdown_path, json_path, by_kind_png, latency_png]


def _markdown(result: dict, previous: dict | None, by_kind_png: Path, latency_png: Path) -> str:
    systems = _systems(result)
    lines = [f"# Eval report: {result['set']}", "", f"{result['n']} questions.", ""]
    header = "| metric | " + " | ".join(SYSTEM_LABELS.get(n, n) for n in systems) + " |"
    lines += [header, "|---|" + "---:|" * len(systems)]
    generation = [m for m in GENERATION_METRICS if m in result["metrics"]]
    for metric in (*RETRIEVAL_METRICS, *ANSWER_METRICS, *OUTCOME_METRICS, *generation):
        cells = " | ".join(_format(s["metrics"].get(metric), metric) for s in systems.values())
        lines.append(f"| {metric} | {cells} |")
    lines += [
        "",
        "Retrieval metrics are at page level (a section for documents without pages), over the "
        "in-scope questions; baselines are scored on retrieval only.",
        "",
        f"![hit@5 and MRR@10 by question kind]({by_kind_png.name})",
        "",
        "## By question kind",
        "",
        "```",
        _by_kind_table(result),
        "```",
        "",
        *_comparison_section(previous, result),
        *_misses_section(result),
        "## Latency",
        "",
        f"![latency histogram]({latency_png.name})",
        "",
    ]
    return "\n".join(lines)


def _misses_section(result: dict) -> list[str]:
    """The questions to look at first: wrong refusals, gold missing from the top 5, lost facts."""
    lines = ["## Questions to look at", ""]
    for q in result["per_question"]:
        problems = []
        out_of_scope = q["kind"] == "out_of_scope"
        if out_of_scope and not q["refused"]:
            problems.append("answered an out-of-scope question")
        if not out_of_scope and q["refused"]:
            problems.append("refused")
        if not out_of_scope and q["retrieval"].get("hit@5") == 0:
            problems.append("no gold unit in the top 5")
        if q["missing_facts"] and not q["refused"]:
            problems.append("missing: " + "; ".join(f"\u201c{f}\u201d" for f in q["missing_facts"]))
        if problems:
            lines.append(
                f"- `{q['id']}` ({q['kind']}) {q['question']} \u2014 {', '.join(problems)}"
            )
    if len(lines) == 2:
        lines.append("None.")
    return lines + [""]


# -- plots ----------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11})
    return plt


def plot_by_kind(result: dict, path: Path) -> Path:
    """hit@5 and MRR@10 per question kind (and overall), one bar per system."""
    plt = _pyplot()
    systems = _systems(result)
    kinds = ["overall"] + [k for k in result["by_kind"] if k != "out_of_scope"]
    figure, axes = plt.subplots(1, len(PLOTTED_METRICS), figsize=(14, 5.2), sharey=True)
    bar_width = 0.8 / len(systems)
    for axis, metric in zip(axes, PLOTTED_METRICS, strict=True):
        for index, (name, scores) in enumerate(systems.items()):
            values = [
                (scores["metrics"] if kind == "overall" else scores["by_kind"].get(kind, {})).get(
                    metric
                )
                for kind in kinds
            ]
            positions = [
                i + (index - (len(systems) - 1) / 2) * bar_width for i in range(len(kinds))
            ]
            axis.bar(
                positions,
                [v or 0.0 for v in values],
                bar_width,
                label=SYSTEM_LABELS.get(name, name),
            )
        axis.set_title(f"{metric} by question kind")
        axis.set_xticks(range(len(kinds)), kinds, rotation=30, ha="right")
        axis.set_xlabel("question kind")
        axis.set_ylim(0, 1.05)
        axis.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (0 to 1, higher is better)")
    # Above the plots, not inside: any corner of an axis hides some kind's bars.
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(
        handles, labels, loc="upper center", ncol=len(systems), bbox_to_anchor=(0.5, 0.945)
    )
    figure.suptitle(f"Retrieval at page level: {result['set']} ({result['n']} questions)")
    figure.tight_layout(rect=(0, 0, 1, 0.9))
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_latency(result: dict, path: Path) -> Path:
    """Histogram of `ask` latency per question, with p50 and p95 marked."""
    plt = _pyplot()
    latencies = [q["latency_ms"] for q in result["per_question"]]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.hist(latencies, bins=min(30, max(5, len(latencies) // 3)), color="tab:blue", alpha=0.8)
    for metric, style in (("latency_p50_ms", "--"), ("latency_p95_ms", ":")):
        value = result["metrics"].get(metric)
        if value is not None:
            label = f"{metric.split('_')[1]} = {value:.0f} ms"
            axis.axvline(value, color="black", linestyle=style, linewidth=1.5, label=label)
    axis.set_title(f"Answer latency: {result['set']} ({len(latencies)} questions)")
    axis.set_xlabel("time to answer one question (ms)")
    axis.set_ylabel("questions")
    axis.legend()
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
