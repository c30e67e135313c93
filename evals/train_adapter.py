"""Train the query adapter (`assistant/qa/query_adapter.py`) from synthetic questions.

    python -m evals.train_adapter [--fixtures ../shared/fixtures] [--out FILE]

`evals/training/synthetic-questions.jsonl` holds officer-style questions written blind for
the passages of the sample corpus and of the two shared PDFs, each with the id of the
passage it was written for (`evals/training/README.md` says how they were written; no
eval question is among them or was seen by their writers). The passages' vectors are read
from the eval stores of those corpora, built or refreshed first as `eval` does.

The adapter is `v -> normalize(v + v @ W)`, with `W` (384 x 384) learned by minimizing the
cross-entropy of each question's own passage among every passage of its corpus
(temperature 0.05), plus `LAMBDA * |W|^2`, which keeps it near the identity. Full-batch
Adam, fixed seed: the same data gives the same file. The constants were chosen on
`evals/sets/pdfs.tune.jsonl` (docs/evals.md).

Then the query encoder (`evals/train_encoder.py`): low-rank corrections of MiniLM's layers
trained on the same questions and on `evals/training/encoder-questions.jsonl` (more
questions for the same passages: they did not help the matrix or the question lists, and
do help the encoder, docs/evals.md), two epochs over them; then the file's questions
encoded with it for the nearest-question list. About 7 minutes on a 2-core machine without
native bfloat16 (the matrix alone: 10 s to a minute); `--encoder-epochs 0` leaves the encoder
out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from assistant.qa.query_adapter import BUNDLED_ADAPTER, save_adapter
from evals.train_encoder import EPOCHS as ENCODER_EPOCHS
from evals.train_encoder import train_query_encoder

TRAINING_DIR = Path(__file__).parent / "training"
TRAINING_FILE = TRAINING_DIR / "synthetic-questions.jsonl"
ENCODER_ONLY_FILE = TRAINING_DIR / "encoder-questions.jsonl"
DEFAULT_OUT = Path(__file__).parent.parent / "assistant" / "qa" / BUNDLED_ADAPTER
LAMBDA = 0.01
EPOCHS = 200
LEARNING_RATE = 0.01
TEMPERATURE = 0.05
SEED = 0
# A question whose passage is no longer in the index (its text changed) is dropped; past
# this share the questions no longer describe the corpus and must be written again.
_MAX_MISSING_SHARE = 0.05


def read_questions(path: Path) -> dict[str, list[tuple[str, str, tuple[str, ...]]]]:
    """corpus name -> [(chunk id, question, the passage's sentences that answer it)].

    `answer` is optional: the second round's questions name the sentences they were
    written for (evals/training/README.md); the first round's name none.
    """
    by_corpus: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                answer = tuple(str(sentence) for sentence in row.get("answer", ()))
                by_corpus.setdefault(row["corpus"], []).append(
                    (row["chunk"], row["question"], answer)
                )
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
                raise SystemExit(f"error: {path}:{number}: not a training row ({err})") from None
    return by_corpus


def _kept(
    name: str, rows: list[tuple[str, str, tuple[str, ...]]], position: dict[str, int]
) -> list[tuple[int, str, tuple[str, ...]]]:
    """(passage index, question, answer) of the rows whose passage is still in the index; too
    many gone is an error."""
    kept = [(position[c], q, a) for c, q, a in rows if c in position]
    missing = len(rows) - len(kept)
    if missing > _MAX_MISSING_SHARE * len(rows):
        raise SystemExit(
            f"error: {missing} of {len(rows)} {name} questions name passages no longer in "
            "the index (the documents or the chunking changed); write them again "
            "(evals/training/README.md)"
        )
    return kept


def eval_store(corpus: Path):
    """`corpus`'s eval store, built or refreshed first as `eval` does, and its current
    generation: what the training questions' passage ids name."""
    from evals.runner import eval_settings
    from ingest.refresh import refresh
    from ingest.settings import load_settings
    from ingest.store import Store

    settings = eval_settings(load_settings(), corpus, None)
    refresh([corpus], settings)
    store = Store.open(settings)
    return store, store.current().generation


def corpus_vectors(corpus: Path) -> tuple[list[str], np.ndarray]:
    """Every passage id of `corpus`'s eval store and its stored vector."""
    store, generation = eval_store(corpus)
    ids = [chunk.id for chunk in store.iter_chunks(generation)]
    stored = store.embeddings(generation, ids)
    return ids, np.stack([stored[i] for i in ids]).astype(np.float32)


def train(
    problems: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    epochs: int = EPOCHS,
    penalty: float = LAMBDA,
) -> np.ndarray:
    """W for [(question vectors, index of each one's passage, passage vectors)]."""
    import torch

    torch.manual_seed(SEED)
    dimension = problems[0][0].shape[1]
    weights = torch.zeros(dimension, dimension, requires_grad=True)
    optimizer = torch.optim.Adam([weights], lr=LEARNING_RATE)
    tensors = [(torch.tensor(q), torch.tensor(t), torch.tensor(p)) for q, t, p in problems]
    for _ in range(epochs):
        loss = torch.zeros(())
        for questions, targets, passages in tensors:
            adapted = questions + questions @ weights
            adapted = adapted / adapted.norm(dim=1, keepdim=True)
            logits = adapted @ passages.T / TEMPERATURE
            loss = loss + torch.nn.functional.cross_entropy(logits, targets)
        loss = loss / len(tensors) + penalty * (weights**2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return weights.detach().numpy()


def mean_rank(questions: np.ndarray, targets: np.ndarray, passages: np.ndarray) -> float:
    """The mean rank (1 = first) of each question's passage by cosine."""
    scores = questions @ passages.T
    own = scores[np.arange(len(targets)), targets][:, None]
    return float((scores > own).sum(axis=1).mean() + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    parser.add_argument("--questions", type=Path, default=TRAINING_FILE)
    parser.add_argument(
        "--encoder-questions",
        type=Path,
        default=ENCODER_ONLY_FILE,
        help="more questions for the query encoder only (not the matrix or the lists)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--encoder-epochs",
        type=int,
        default=ENCODER_EPOCHS,
        help=f"epochs of the query encoder's training (default {ENCODER_EPOCHS}; 0: no encoder)",
    )
    args = parser.parse_args(argv)

    from ingest.embedding import Embedder
    from ingest.settings import load_settings

    started = time.perf_counter()
    corpora = {"sample": load_settings().corpus, "fixtures": args.fixtures}
    by_corpus = read_questions(args.questions)
    encoder_only = read_questions(args.encoder_questions) if args.encoder_epochs > 0 else {}
    for path, rows in ((args.questions, by_corpus), (args.encoder_questions, encoder_only)):
        unknown = sorted(set(rows) - set(corpora))
        if unknown:
            raise SystemExit(f"error: {path}: unknown corpus {unknown}; use {list(corpora)}")
    embedder = Embedder()
    problems, known, encoder_problems = [], [], []
    written: list[tuple[str, str, tuple[str, ...]]] = []  # (chunk id, question, answer) kept
    for name, rows in by_corpus.items():
        if not corpora[name].exists():
            raise SystemExit(f"error: {corpora[name]} is missing; the {name} questions need it")
        ids, passages = corpus_vectors(corpora[name])
        position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        kept = _kept(name, rows, position)
        extra = _kept(name, encoder_only.get(name, []), position)
        print(
            f"{name}: {len(kept)} questions (and {len(extra)} for the encoder only) over "
            f"{len(ids)} passages"
        )
        questions = embedder.embed_short([q for _, q, _ in kept])
        targets = np.array([t for t, _, _ in kept])
        problems.append((questions, targets, passages))
        both = kept + extra
        encoder_problems.append(
            ([q for _, q, _ in both], np.array([t for t, _, _ in both]), passages)
        )
        known.extend(ids)
        written.extend((ids[t], q, a) for t, q, a in kept)
    weights = train(problems)
    for (questions, targets, passages), name in zip(problems, by_corpus, strict=True):
        adapted = questions + questions @ weights
        adapted /= np.linalg.norm(adapted, axis=1, keepdims=True)
        before = mean_rank(questions, targets, passages)
        after = mean_rank(adapted, targets, passages)
        print(f"{name}: mean rank of the question's passage {before:.1f} -> {after:.1f}")
    # The questions go in the file too: the retriever ranks passages by the question
    # nearest to the officer's, by meaning and by words (the adapter's last two lists).
    chunks, texts, answers = zip(*written, strict=True)
    vectors = np.concatenate([questions for questions, _, _ in problems])
    encoder = encoded = None
    if args.encoder_epochs > 0:
        encoder = train_query_encoder(encoder_problems, epochs=args.encoder_epochs)
        encoded = embedder.embed_adapted(list(texts), encoder)
        start = 0
        for (_, targets, passages), name in zip(problems, by_corpus, strict=True):
            own = encoded[start : start + len(targets)]
            start += len(targets)
            rank = mean_rank(own, targets, passages)
            print(f"{name}: with the query encoder, mean rank {rank:.1f}")
    save_adapter(
        args.out,
        weights,
        known,
        vectors,
        list(chunks),
        list(texts),
        list(answers),
        encoder=encoder,
        encoded_questions=encoded,
    )
    print(f"wrote {args.out} ({len(known)} passages) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
