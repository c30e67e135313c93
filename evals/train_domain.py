"""Train the domain model (`assistant/qa/domain.py`): is a question about AI in policing?

    python -m evals.train_domain [--out FILE]

On the domain: the questions of `evals/training/synthetic-questions.jsonl` and
`encoder-questions.jsonl`, written blind for the passages of the sample corpus and the two
shared PDFs, and `ai-at-work-questions.jsonl`, 300 questions on using an AI tool in the
middle of a police task ("Can the custody sergeant override the automated risk score at
booking-in?"), without which police words weighed against the subject. Off it:
`off-domain-questions.jsonl`, 600 questions on police work that is not about AI
(firearms, fleet, custody, pay, ...). All written blind by helpers from the briefs beside
them (evals/training/README.md): no eval question is among them or was seen by a writer.

A logistic regression over each question's MiniLM vector, fit by Newton's method with an
L2 penalty, each class weighing as much as the other: the same data gives the same file.
Its floor is the score below which `FLOOR_SHARE` of the on-domain questions fall, each
scored by a fit that did not see it (5 folds, fixed seed): not chosen on an eval set.
About 15 s on a 2-core machine, most of it encoding the questions.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant.qa.domain import BUNDLED_DOMAIN
from evals.train_adapter import ENCODER_ONLY_FILE, TRAINING_DIR, TRAINING_FILE

AI_AT_WORK_FILE = TRAINING_DIR / "ai-at-work-questions.jsonl"
OFF_DOMAIN_FILE = TRAINING_DIR / "off-domain-questions.jsonl"
DEFAULT_OUT = Path(__file__).parent.parent / "assistant" / "qa" / BUNDLED_DOMAIN
FOLDS = 5
FLOOR_SHARE = 0.005
SEED = 0
# L2, on the class-weighted log-loss summed over the questions. Chosen by the 5-fold
# log-loss of the training questions themselves, never an eval set: 0.03: 0.115, 0.1:
# 0.090, 0.3: 0.084, 1: 0.094, 3: 0.120, 10: 0.172.
PENALTY = 0.3
NEWTON_STEPS = 25  # converged well before: the penalized log-loss is smooth and convex


def read_questions(path: Path) -> list[str]:
    questions = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                questions.append(str(json.loads(line)["question"]))
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise SystemExit(f"error: {path}:{number}: not a question row ({err})") from None
    return questions


def fit(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """(weights, bias) of the class-balanced, L2-penalized logistic regression."""
    features = np.hstack([vectors, np.ones((len(vectors), 1))]).astype(np.float64)
    positives = labels.sum()
    weight = np.where(labels == 1, 1.0, positives / max(len(labels) - positives, 1))
    penalty = np.full(features.shape[1], PENALTY)
    penalty[-1] = 0.0  # the bias is not penalized
    theta = np.zeros(features.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(features @ theta)))
        gradient = features.T @ (weight * (p - labels)) + penalty * theta
        hessian = (features * (weight * p * (1 - p))[:, None]).T @ features + np.diag(penalty)
        theta -= np.linalg.solve(hessian, gradient)
    return theta[:-1], float(theta[-1])


def held_out_scores(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each question's score by a fit on the other folds."""
    order = np.random.default_rng(SEED).permutation(len(labels))
    scores = np.zeros(len(labels))
    for fold in np.array_split(order, FOLDS):
        rest = np.setdiff1d(order, fold)
        weights, bias = fit(vectors[rest], labels[rest])
        scores[fold] = vectors[fold] @ weights + bias
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    from ingest.embedding import Embedder

    started = time.perf_counter()
    on = [
        *read_questions(TRAINING_FILE),
        *read_questions(ENCODER_ONLY_FILE),
        *read_questions(AI_AT_WORK_FILE),
    ]
    off = read_questions(OFF_DOMAIN_FILE)
    embedder = Embedder()
    vectors = np.vstack([embedder.embed_short(on), embedder.embed_short(off)]).astype(np.float64)
    labels = np.r_[np.ones(len(on)), np.zeros(len(off))]
    scores = held_out_scores(vectors, labels)
    floor = float(np.quantile(scores[labels == 1], FLOOR_SHARE))
    off_below = float(np.mean(scores[labels == 0] < floor))
    weights, bias = fit(vectors, labels)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as handle:
        np.savez(handle, weights=weights.astype(np.float32), bias=bias, floor=floor)
    print(
        f"{len(on)} questions on the domain, {len(off)} off it; floor {floor:.3f}: below it, "
        f"{FLOOR_SHARE:.1%} of the on-domain questions and {off_below:.1%} of the off-domain "
        f"ones, each scored by a fit that did not see it ({FOLDS} folds)"
    )
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
