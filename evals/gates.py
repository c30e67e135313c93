"""`python -m evals.gates`: every eval gate of `make test`, one after another, in one process.

Each gate is what `toolkit-assistant eval --set <set> [--corpus <corpus>] --gate <name>`
runs, with the same output. One process instead of one per gate: each process imported
torch and Chroma and loaded the encoders again (some 10-15 s on two cores), and the
encoder's cache of answer sentences, filled by the first gate over the sample corpus,
serves the French, Spanish, Arabic and blind sets over the same corpus.

Exit status: 0 every gate held, 1 a gate failed (every gate still runs, so one run shows
every miss), 2 a set or the thresholds are unusable.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The two public-domain PDFs beside the checkout (in CI too); their gates are skipped
# when they are absent.
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures"
NIST_NAME = "NIST.AI.100-1.pdf"


@dataclass(frozen=True)
class Gate:
    name: str  # the [table] of evals/thresholds.toml
    set_file: str  # under evals/sets/
    corpus: str | None = None  # None: the app's corpus; "nist" or "fixtures": the PDFs
    # English-only sets over the PDFs: the multilingual encoder answers only French,
    # Spanish and Arabic questions, so its vectors (minutes of CPU for the PDFs) are skipped.
    english_only: bool = False


GATES = (
    Gate("sample", "sample.jsonl"),
    # The four languages (docs/languages.md): the translated sets.
    Gate("sample-fr", "sample.fr.jsonl"),
    Gate("sample-es", "sample.es.jsonl"),
    Gate("sample-ar", "sample.ar.jsonl"),
    # The blind sets (evals/sets/README.md): heldout is gated and reported, never tuned on.
    Gate("sample-blind-heldout", "sample-blind.heldout.jsonl"),
    Gate("nist", "nist.jsonl", corpus="nist", english_only=True),
    Gate("pdfs-heldout", "pdfs.heldout.jsonl", corpus="fixtures", english_only=True),
    Gate("pdfs2-heldout", "pdfs2.heldout.jsonl", corpus="fixtures", english_only=True),
    Gate("pdfs3-heldout", "pdfs3.heldout.jsonl", corpus="fixtures", english_only=True),
    Gate("pdfs4-heldout", "pdfs4.heldout.jsonl", corpus="fixtures", english_only=True),
    Gate("pdfs5-heldout", "pdfs5.heldout.jsonl", corpus="fixtures", english_only=True),
    Gate("pdfs6-heldout", "pdfs6.heldout.jsonl", corpus="fixtures", english_only=True),
)


def _corpus(gate: Gate, fixtures: Path) -> Path | None:
    if gate.corpus == "nist":
        return fixtures / NIST_NAME
    if gate.corpus == "fixtures":
        return fixtures
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.gates", description=__doc__)
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=DEFAULT_FIXTURES,
        metavar="DIR",
        help=f"folder with {NIST_NAME} and the AI RMF Playbook (default: ../shared/fixtures)",
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these gates")
    args = parser.parse_args(argv)

    from evals.cli import run_eval_command

    results: list[tuple[str, str, float]] = []
    for gate in GATES:
        if args.only and gate.name not in args.only:
            continue
        corpus = _corpus(gate, args.fixtures)
        if gate.corpus and not (args.fixtures / NIST_NAME).is_file():
            print(f"note: {args.fixtures / NIST_NAME} absent: gate {gate.name} skipped")
            results.append((gate.name, "skipped", 0.0))
            continue
        print(f"== gate {gate.name}: evals/sets/{gate.set_file}", flush=True)
        eval_args = argparse.Namespace(
            set_file=REPO / "evals" / "sets" / gate.set_file,
            corpus=corpus,
            store=None,
            json=False,
            report=None,
            save_last=False,
            baseline=False,
            gate=gate.name,
            calibrate=False,
            answerer=None,
            limit=None,
        )
        overrides = {"retrieval": {"multilingual": False}} if gate.english_only else None
        started = time.perf_counter()
        status = run_eval_command(eval_args, overrides)
        seconds = time.perf_counter() - started
        results.append((gate.name, {0: "held", 1: "FAILED"}.get(status, "unusable"), seconds))
        if status == 2:
            break  # a broken set or thresholds file: fix it first

    print("\ngate                    result      seconds")
    for name, result, seconds in results:
        print(f"{name:<23} {result:<10} {seconds:8.1f}")
    outcomes = {result for _, result, _ in results}
    return 2 if "unusable" in outcomes else 1 if "FAILED" in outcomes else 0


if __name__ == "__main__":
    sys.exit(main())
