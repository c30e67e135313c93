"""Train the opener adapter (`assistant/qa/opener.py`) from the training questions that
name their answering sentences.

    python -m evals.train_opener [--fixtures ../shared/fixtures] [--out FILE]

The questions of `evals/training/synthetic-questions.jsonl` and `encoder-questions.jsonl`
that carry `answer` (the sentences of their passage their writer chose: 2,425 of them
once their passages are found) are each paired with every quotable sentence or list of
their passage, as the answer scores them (`answer.quotable_texts`); the passages come from
the eval stores of the sample corpus and the two shared PDFs, built or refreshed first as
`eval` does. `W` (384 x 384) minimizes the cross-entropy of the named sentences among
their passage's (temperature 0.05) plus `LAMBDA * |W|^2`: full-batch Adam, fixed seed,
so the same data gives the same file. No eval question is among the training questions.

Before the final fit, a fifth of the passages is held out once and the share of its
questions whose named sentence comes first is printed, plain and adapted: the check that
the matrix learned something that carries to passages it did not see. LAMBDA was chosen on
that held-out fifth (0.001: 0.83, 0.01: 0.85, 0.03: 0.84, 0.1: 0.83, 0.3: 0.81; plain
0.79), not on an eval set. About 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from assistant.qa.answer import quotable_texts
from assistant.qa.opener import BUNDLED_OPENER

# The query adapter's recipe (LAMBDA too: 0.01 was also best here, see above).
from evals.train_adapter import (
    ENCODER_ONLY_FILE,
    EPOCHS,
    LAMBDA,
    LEARNING_RATE,
    SEED,
    TEMPERATURE,
    TRAINING_FILE,
    eval_store,
    read_questions,
)

DEFAULT_OUT = Path(__file__).parent.parent / "assistant" / "qa" / BUNDLED_OPENER
HELD_OUT_SHARE = 0.2


def corpus_chunks(corpus: Path) -> dict[str, tuple[str, str]]:
    """chunk id -> (section, text) of `corpus`'s eval store."""
    store, generation = eval_store(corpus)
    return {chunk.id: (chunk.section, chunk.text) for chunk in store.iter_chunks(generation)}


def _answers(group: str, named: tuple[str, ...]) -> bool:
    """The quoted group is (or holds, or lies within) one of the named sentences."""
    return any(sentence in group or group in sentence for sentence in named)


def problems(
    rows: list[tuple[str, str, tuple[str, ...]]], chunks: dict[str, tuple[str, str]]
) -> list[tuple[str, list[str], list[bool], str]]:
    """(question, its passage's encoder texts, which answer it, passage id) for the rows
    that name a sentence found among two or more of their passage's."""
    found = []
    for chunk_id, question, named in rows:
        if not named or chunk_id not in chunks:
            continue
        texts = quotable_texts(*chunks[chunk_id])
        answers = [_answers(quoted, named) for quoted, _ in texts]
        if any(answers) and len(texts) > 1:
            found.append((question, [encoded for _, encoded in texts], answers, chunk_id))
    return found


def tensors(
    found: list[tuple[str, list[str], list[bool], str]], embed
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Question vectors (n, d); candidates (n, m, d), padded; which are real (n, m); which
    answer (n, m)."""
    questions = embed([question for question, *_ in found])
    texts = list(dict.fromkeys(t for _, candidates, _, _ in found for t in candidates))
    vector = dict(zip(texts, embed(texts), strict=True))
    width = max(len(candidates) for _, candidates, _, _ in found)
    candidates = np.zeros((len(found), width, questions.shape[1]), dtype=np.float32)
    real = np.zeros((len(found), width), dtype=bool)
    answers = np.zeros((len(found), width), dtype=bool)
    for i, (_, texts_i, answers_i, _) in enumerate(found):
        for j, (text, answer) in enumerate(zip(texts_i, answers_i, strict=True)):
            candidates[i, j], real[i, j], answers[i, j] = vector[text], True, answer
    return questions, candidates, real, answers


def train(questions, candidates, real, answers, penalty: float = LAMBDA) -> np.ndarray:
    import torch

    torch.manual_seed(SEED)
    q, c = torch.tensor(questions), torch.tensor(candidates)
    real_t, answers_t = torch.tensor(real), torch.tensor(answers)
    weights = torch.zeros(q.shape[1], q.shape[1], requires_grad=True)
    optimizer = torch.optim.Adam([weights], lr=LEARNING_RATE)
    for _ in range(EPOCHS):
        adapted = q + q @ weights
        adapted = adapted / adapted.norm(dim=1, keepdim=True)
        logits = torch.einsum("nd,nmd->nm", adapted, c) / TEMPERATURE
        logits = logits.masked_fill(~real_t, -1e9)
        named = torch.logsumexp(logits.masked_fill(~answers_t, -1e9), dim=1)
        loss = (torch.logsumexp(logits, dim=1) - named).mean() + penalty * (weights**2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return weights.detach().numpy()


def first_is_named(questions, candidates, real, answers, weights=None) -> float:
    """The share of questions whose best-scoring candidate is a named sentence."""
    if weights is not None:
        questions = questions + questions @ weights
        questions = questions / np.linalg.norm(questions, axis=1, keepdims=True)
    scores = np.einsum("nd,nmd->nm", questions, candidates)
    scores[~real] = -np.inf
    return float(answers[np.arange(len(answers)), scores.argmax(axis=1)].mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    from ingest.embedding import Embedder
    from ingest.settings import load_settings

    started = time.perf_counter()
    corpora = {"sample": load_settings().corpus, "fixtures": args.fixtures}
    found = []
    for path in (TRAINING_FILE, ENCODER_ONLY_FILE):
        for name, rows in read_questions(path).items():
            if name not in corpora or not corpora[name].exists():
                raise SystemExit(f"error: {path}: corpus {name!r} is not at hand")
            found += problems(rows, corpus_chunks(corpora[name]))
    data = tensors(found, Embedder().embed_short)
    passages = sorted({chunk_id for *_, chunk_id in found})
    np.random.default_rng(SEED).shuffle(passages)
    kept_out = set(passages[: int(HELD_OUT_SHARE * len(passages))])
    out = np.array([chunk_id in kept_out for *_, chunk_id in found])
    weights = train(*(part[~out] for part in data))
    print(
        f"{len(found)} questions; on the {out.sum()} whose passage was left out, the named "
        f"sentence first: plain {first_is_named(*(p[out] for p in data)):.3f}, adapted "
        f"{first_is_named(*(p[out] for p in data), weights):.3f}"
    )
    weights = train(*data)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as handle:
        np.savez_compressed(handle, matrix=weights.astype(np.float16))
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
