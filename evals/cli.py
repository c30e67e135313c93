"""`toolkit-assistant eval`: the arguments and the command, wired in by `assistant/cli.py`.

The parent parser adds `--store` and `--json`; everything else is here.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from evals.sets_io import EvalSetError

# Only the light modules at import time: building the CLI parser imports this file, and
# `status` must stay fast. The rest is imported inside the command.

EVAL_EXAMPLES = """
eval examples:
  toolkit-assistant eval --set evals/sets/sample.jsonl
  toolkit-assistant eval --set evals/sets/sample.jsonl --baseline --report out/eval
  toolkit-assistant eval --set evals/sets/nist.jsonl --corpus path/to/NIST.AI.100-1.pdf --json
  toolkit-assistant eval --set evals/sets/sample.jsonl --gate sample     # CI: exit 1 on a miss
  toolkit-assistant eval --set evals/sets/sample.jsonl --calibrate       # refusal thresholds
  toolkit-assistant eval --set evals/sets/sample.jsonl --answerer generative --limit 20
"""


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        dest="set_file",
        type=Path,
        required=True,
        metavar="FILE",
        help="eval set, JSONL (evals/sets/sample.jsonl, evals/sets/nist.jsonl)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        metavar="PATH",
        help="folder or file the set's gold refers to, ingested first when changed (default: "
        "corpus/; another corpus gets its own store under .toolkit-assistant/eval-stores/)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write report.md, report.json and PNG plots here, "
        "compared with evals/reports/last.json",
    )
    parser.add_argument(
        "--save-last",
        action="store_true",
        help="record this run's metrics in evals/reports/last.json, the reference that later "
        "reports are compared with (commit it with the change that moved the figures)",
    )
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="also score BM25 alone and the plain LangChain tutorial pipeline (retrieval metrics)",
    )
    parser.add_argument(
        "--gate",
        metavar="NAME",
        help="exit 1 if a metric misses its threshold in the [NAME] table of evals/thresholds.toml",
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="print the refusal thresholds that refuse most out-of-scope questions while "
        "refusing at most 5%% of the in-scope ones, instead of running the eval",
    )
    parser.add_argument(
        "--answerer",
        choices=["extractive", "generative"],
        help="the answerer to evaluate (default: setting generation.answerer); generative "
        "also reports supported_sentence_rate and generated_rate",
    )
    parser.add_argument(
        "--limit",
        type=int,
        metavar="N",
        help="ask only the first N questions of the set (a quick, bounded run)",
    )
    parser.epilog = (parser.epilog or "") + EVAL_EXAMPLES


def run_eval_command(args: argparse.Namespace, overrides: dict | None = None) -> int:
    """Exit status: 0 done, 1 the gate failed, 2 the set or the thresholds are unusable.

    `overrides`: settings over those of the environment (`evals/gates.py`'s English-only
    gates), as `load_settings` takes them."""
    from evals.gate import GateError

    try:
        return _run(args, overrides or {})
    except (EvalSetError, GateError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(
            f"\r  asked {done}/{total}",
            end="\n" if done == total else "",
            file=sys.stderr,
            flush=True,
        )


def _run(args: argparse.Namespace, overrides: dict) -> int:
    from assistant.compose import build_assistant
    from evals.gate import failed_metrics, load_thresholds
    from evals.runner import check_gold_sources, eval_settings, without_own_questions
    from evals.sets_io import read_eval_set
    from ingest.refresh import refresh
    from ingest.settings import load_settings

    eval_set = read_eval_set(args.set_file)
    if args.limit:
        eval_set = replace(eval_set, questions=eval_set.questions[: args.limit])
    # Checked before the run: a typo in --gate should not cost a full eval to find out.
    thresholds = load_thresholds(args.gate) if args.gate else None
    answerer = args.answerer
    base = load_settings(**overrides, generation={"answerer": answerer} if answerer else None)
    corpus = args.corpus or base.corpus
    settings = eval_settings(base, corpus, getattr(args, "store", None))
    _say(f"indexing {corpus} in {settings.chroma_url or settings.store}")
    ingested = refresh([corpus], settings)
    for failure in ingested.failed:
        _say(f"  not ingested: {failure.source}: {failure.error}")
    check_gold_sources(eval_set, ingested, corpus)

    assistant = build_assistant(settings)
    without_own_questions(assistant, eval_set)
    if args.calibrate:
        return _calibrate(eval_set, assistant, settings, args.json)
    result = _evaluate(eval_set, assistant, corpus, args.baseline, settings)
    data = result.to_dict()

    failures = failed_metrics(data["metrics"], thresholds) if thresholds is not None else []
    if thresholds is not None:
        data["gate"] = {"name": args.gate, "failed": failures}
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        from evals.report import format_summary

        print(format_summary(data))
    if args.report:
        from evals.report import read_last_report, write_report

        written = write_report(data, args.report, read_last_report(data["set"]))
        _say("report: " + ", ".join(str(p) for p in written))
    if args.save_last:
        from evals.report import save_last_report

        _say(f"saved as the reference for {data['set']}: {save_last_report(data)}")
    for failure in failures:
        print(f"gate {args.gate}: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _evaluate(eval_set, assistant, corpus: Path, with_baselines: bool, settings):
    from evals.runner import evaluate

    verifier = None
    if settings.generation.answerer == "generative":
        from assistant.llm.verify import Verifier

        verifier = Verifier(assistant.embedder, settings.generation.min_support)

    with ExitStack() as stack:
        baselines = {}
        if with_baselines:
            from evals.baselines import LangChainTutorialBaseline, bm25_retriever
            from ingest.refresh import discover

            _say("building the LangChain tutorial baseline")
            files = [found.path for found in discover([corpus])[0]]
            tutorial = stack.enter_context(LangChainTutorialBaseline(files))
            baselines = {"bm25": bm25_retriever(assistant), "langchain_tutorial": tutorial.retrieve}
        _say(f"asking {len(eval_set.questions)} questions")
        return evaluate(eval_set, assistant, baselines, _progress, verifier)


def _calibrate(eval_set, assistant, settings, as_json: bool) -> int:
    from evals.calibrate import (
        MAX_FALSE_REFUSAL_RATE,
        calibrate,
        collect_features,
        feature_function,
    )

    features = feature_function(assistant)
    if features is None:
        _say("the assistant exposes no refusal features; nothing to calibrate")
        return 0
    rows, out_of_scope = collect_features(eval_set, features)
    calibration = calibrate(rows, out_of_scope)
    if as_json:
        print(json.dumps(calibration.to_dict(), indent=2))
        return 0
    print(
        f"refusal thresholds for {eval_set.name} ({calibration.out_of_scope} out-of-scope, "
        f"{calibration.in_scope} in-scope questions; "
        f"false refusals at most {MAX_FALSE_REFUSAL_RATE:.0%}):"
    )
    for feature, threshold in calibration.thresholds.items():
        setting = f"min_{feature}"
        current = getattr(settings.answer, setting, None)
        now = f"   (now answer.{setting} = {current})" if current is not None else ""
        print(f"  {feature:<16} refuse below {threshold:.4f}{now}")
    print(
        f"  refusal_accuracy {calibration.refusal_accuracy:.3f}, "
        f"false_refusal_rate {calibration.false_refusal_rate:.3f}"
    )
    return 0
