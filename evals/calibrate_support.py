"""Calibrate `generation.min_support`, the score at which verification accepts a sentence.

    python -m evals.calibrate_support [--set evals/sets/sample.jsonl] [--max-false 0.02] [--json]

Labelled pairs come from the eval set's own retrieval, no model needed:
- supported: a sentence of a retrieved passage, shortened the way a model rewrites
  (its first 70% of words), paired with that passage;
- unsupported: the same shortened sentence paired with another passage retrieved for the
  same question from another document: on topic, so a hard negative, but not the source;
  and, paired with the passage itself, the start of one of its sentences spliced onto the
  end of the next: the source's own words, a claim it does not make (what a small model
  writes most often).
The threshold printed is the middle of the gap between the lowest score that accepts at
most `--max-false` of the unsupported pairs and the score that accepts all but
`--max-false` of the supported ones; the share of each it accepts is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import ingest  # noqa: F401  (offline environment first)
from assistant.llm.verify import Verifier, claim_parts
from ingest.sentences import split_units

_KEEP = 0.7
_MIN_WORDS = 8
_PER_PASSAGE = 2


@dataclass(frozen=True)
class Calibration:
    threshold: float
    false_accept_rate: float
    true_accept_rate: float
    supported_pairs: int
    unsupported_pairs: int

    def to_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def shortened(sentence: str) -> str:
    """The first 70% of the words: what a model keeps when it compresses a sentence."""
    words = sentence.split()
    keep = max(_MIN_WORDS // 2, round(len(words) * _KEEP))
    return " ".join(words[:keep])


def labelled_pairs(questions: list[str], retrieve) -> list[tuple[str, str, bool]]:
    """(sentence, passage text, supported) for every usable sentence of the top passages."""
    pairs = []
    for question in questions:
        passages = retrieve(question)
        for passage in passages:
            others = [p for p in passages if p.doc_id != passage.doc_id]
            units = [u.text for u in split_units(passage.text) if len(u.text.split()) >= _MIN_WORDS]
            for unit in units[:_PER_PASSAGE]:
                claim = shortened(unit)
                pairs.append((claim, passage.text, True))
                for other in others[:1]:
                    if claim not in other.text:
                        pairs.append((claim, other.text, False))
            for first, second in list(zip(units, units[1:], strict=False))[:_PER_PASSAGE]:
                claim = spliced(first, second)
                if len(claim_parts(claim)) == 1:  # "X, and Y" of two true parts is true
                    pairs.append((claim, passage.text, False))
    return pairs


def spliced(first: str, second: str) -> str:
    """The first half of one sentence ending with the second half of another."""
    head, tail = first.split(), second.split()
    return " ".join(head[: len(head) // 2] + tail[len(tail) // 2 :])


def calibrate(scores: np.ndarray, labels: np.ndarray, max_false: float) -> Calibration:
    """The middle of the gap between what the unsupported and the supported pairs score.

    Low edge: the smallest score above all but `max_false` of the unsupported pairs. High
    edge: the score that all but `max_false` of the supported pairs that pass the rules
    reach (a pair a rule rejects scores 0 whatever the threshold). The middle keeps a margin
    on both sides; if the edges cross, the low edge wins (wrong claims first).
    """
    negatives, positives = np.sort(scores[~labels]), np.sort(scores[labels])
    positives = positives[positives > 0]
    allowed = int(np.floor(max_false * len(negatives)))
    low = float(negatives[len(negatives) - allowed - 1]) + 1e-4 if len(negatives) else 0.0
    high = float(positives[int(np.floor(max_false * len(positives)))]) if len(positives) else 1.0
    threshold = (low + high) / 2 if low < high else low
    return Calibration(
        threshold=threshold,
        false_accept_rate=float(np.mean(scores[~labels] >= threshold)),
        true_accept_rate=float(np.mean(scores[labels] >= threshold)),
        supported_pairs=int(labels.sum()),
        unsupported_pairs=int((~labels).sum()),
    )


def main(argv: list[str] | None = None) -> int:
    from assistant.compose import build_assistant
    from evals.runner import eval_settings
    from evals.sets_io import read_eval_set
    from ingest.refresh import refresh
    from ingest.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=Path("evals/sets/sample.jsonl"))
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--max-false", type=float, default=0.02)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    eval_set = read_eval_set(args.set)
    base = load_settings()
    corpus = args.corpus or base.corpus
    settings = eval_settings(base, corpus, None)
    refresh([corpus], settings)
    assistant = build_assistant(settings)
    questions = [q.question for q in eval_set.questions if q.in_scope]
    pairs = labelled_pairs(questions, lambda q: assistant.retrieve(q, k=5))
    verifier = Verifier(assistant.embedder, min_support=0.0)
    scores = np.array([verifier.support(c, 1, text).score for c, text, _ in pairs])
    labels = np.array([label for _, _, label in pairs])
    result = calibrate(scores, labels, args.max_false)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    print(
        f"min_support for {eval_set.name}: {result.threshold:.3f} "
        f"(now generation.min_support = {settings.generation.min_support})\n"
        f"  accepts {result.true_accept_rate:.1%} of {result.supported_pairs} supported pairs, "
        f"{result.false_accept_rate:.1%} of {result.unsupported_pairs} unsupported ones"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
