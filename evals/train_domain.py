"""Train the domain models (`assistant/qa/domain.py`): is a question about AI in policing,
and if so, does it ask what general guidance holds?

    python -m evals.train_domain [--out FILE] [--near-out FILE]

On the domain: the questions of `evals/training/synthetic-questions.jsonl` and
`encoder-questions.jsonl`, written blind for the passages of the sample corpus and the two
shared PDFs, and `ai-at-work-questions.jsonl`, 300 questions on using an AI tool in the
middle of a police task ("Can the custody sergeant override the automated risk score at
booking-in?"), without which police words weighed against the subject. Off it:
`off-domain-questions.jsonl`, 600 questions on police work that is not about AI
(firearms, fleet, custody, pay, ...). Near it, for the near-domain model:
`near-domain-questions.jsonl`, 600 questions on AI in policing that ask what such guidance
never holds (a figure, a law, a vendor, a step of police legal procedure). All written
blind by helpers from the briefs beside them (evals/training/README.md): no eval question
is among them or was seen by a writer.

Each model is a logistic regression over the questions' MiniLM vectors, fit by Newton's
method with an L2 penalty, each class weighing as much as the other: the same data gives
the same file. Its floor is the score below which `FLOOR_SHARE` of the on-domain questions
fall, each scored by a fit that did not see it (5 folds, fixed seed): not chosen on an eval
set. About 40 s on a 2-core machine, most of it encoding the questions.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant.qa.domain import BUNDLED_DOMAIN, BUNDLED_NEAR_DOMAIN
from evals.train_adapter import ENCODER_ONLY_FILE, TRAINING_DIR, TRAINING_FILE

AI_AT_WORK_FILE = TRAINING_DIR / "ai-at-work-questions.jsonl"
OFF_DOMAIN_FILE = TRAINING_DIR / "off-domain-questions.jsonl"
NEAR_DOMAIN_FILE = TRAINING_DIR / "near-domain-questions.jsonl"
BUNDLED_DIR = Path(__file__).parent.parent / "assistant" / "qa"
DEFAULT_OUT = BUNDLED_DIR / BUNDLED_DOMAIN
DEFAULT_NEAR_OUT = BUNDLED_DIR / BUNDLED_NEAR_DOMAIN
FOLDS = 5
FLOOR_SHARE = 0.005
SEED = 0
# L2, on the class-weighted log-loss summed over the questions. Chosen by the 5-fold
# log-loss of the training questions themselves, never an eval set; the same for both
# models. Domain: 0.03: 0.115, 0.1: 0.090, 0.3: 0.084, 1: 0.094, 3: 0.120, 10: 0.172.
# Near-domain: 0.03: 0.207, 0.1: 0.172, 0.3: 0.165, 1: 0.179, 3: 0.212.
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


def train(on: np.ndarray, off: np.ndarray, out: Path, kind: str) -> None:
    """Fit the model telling `on` from `off` (their vectors), set its floor, write it."""
    vectors = np.vstack([on, off])
    labels = np.r_[np.ones(len(on)), np.zeros(len(off))]
    scores = held_out_scores(vectors, labels)
    floor = float(np.quantile(scores[labels == 1], FLOOR_SHARE))
    off_below = float(np.mean(scores[labels == 0] < floor))
    weights, bias = fit(vectors, labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        np.savez(handle, weights=weights.astype(np.float32), bias=bias, floor=floor)
    print(
        f"{out.name}: {len(on)} questions on the domain, {len(off)} {kind}; floor {floor:.3f}: "
        f"below it, {FLOOR_SHARE:.1%} of the on-domain questions and {off_below:.1%} of the "
        f"others, each scored by a fit that did not see it ({FOLDS} folds)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--near-out", type=Path, default=DEFAULT_NEAR_OUT)
    args = parser.parse_args(argv)

    from ingest.embedding import Embedder

    started = time.perf_counter()
    embedder = Embedder()

    def vectors(*paths: Path) -> np.ndarray:
        questions = [q for path in paths for q in read_questions(path)]
        return embedder.embed_short(questions).astype(np.float64)

    on = vectors(TRAINING_FILE, ENCODER_ONLY_FILE, AI_AT_WORK_FILE)
    train(on, vectors(OFF_DOMAIN_FILE), args.out, "off it")
    train(on, vectors(NEAR_DOMAIN_FILE), args.near_out, "near it")
    print(f"wrote {args.out} and {args.near_out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
