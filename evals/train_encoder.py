"""Train the query encoder of the query adapter: low-rank corrections (LoRA) of MiniLM's
layers, learned from the synthetic officer-style questions (`evals/train_adapter.py` reads
them and writes the file).

The linear adapter turns a question's vector once it is made; these corrections change how
the question is read, layer by layer, which the 384 x 384 matrix cannot. Only questions go
through the corrected encoder: the stored passage vectors are untouched and nothing is
re-embedded. Same loss as the matrix: the cross-entropy of each question's own passage
among every passage of its corpus (temperature 0.05).

Written here rather than with `peft`: what the file needs is the low-rank matrices as
arrays, merged into a copy of the weights at serve time (`ingest.embedding.EncoderDeltas`),
which is a few lines; `peft` would add a dependency and its own file format for them.

The constants were chosen on the `tune` splits (docs/evals.md): rank 8 on the query and
value projections and both feed-forward layers of each of the 6 layers (258,048 numbers),
two epochs (the third lost `pdfs.tune` hit@5).
"""

from __future__ import annotations

import math

import numpy as np

from ingest.embedding import EncoderDeltas, model_copy

RANK = 8
SCALE = 2.0  # LoRA's alpha / rank, alpha 16
EPOCHS = 2
LEARNING_RATE = 3e-3
BATCH = 32
TEMPERATURE = 0.05
SEED = 0
TARGETS = ("attention.self.query", "attention.self.value", "intermediate.dense", "output.dense")


def train_query_encoder(
    problems: list[tuple[list[str], np.ndarray, np.ndarray]], epochs: int = EPOCHS
) -> EncoderDeltas:
    """Deltas for [(question texts, index of each one's passage, passage vectors)], one
    problem per corpus. Fixed seeds: the same data gives the same deltas on one machine."""
    import torch

    torch.manual_seed(SEED)
    model = model_copy()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    names, adapters = _wrap(model, torch)
    optimizer = torch.optim.AdamW(
        [p for a in adapters for p in (a.down, a.up)], lr=LEARNING_RATE, weight_decay=0.0
    )
    passages = [torch.tensor(p) for _, _, p in problems]
    items = [
        (c, q, int(t))
        for c, (qs, ts, _) in enumerate(problems)
        for q, t in zip(qs, ts, strict=True)
    ]
    order = np.random.default_rng(SEED)
    model.train()  # dropout on, as in MiniLM's own training
    for _ in range(epochs):
        by_corpus: dict[int, list[tuple[int, str, int]]] = {}
        for i in order.permutation(len(items)):
            by_corpus.setdefault(items[i][0], []).append(items[i])
        batches = [b[i : i + BATCH] for b in by_corpus.values() for i in range(0, len(b), BATCH)]
        order.shuffle(batches)  # type: ignore[arg-type]
        for batch in batches:
            features = model.preprocess([q for _, q, _ in batch])
            vectors = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=1)
            logits = vectors @ passages[batch[0][0]].T / TEMPERATURE
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([t for *_, t in batch]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    down = tuple(a.down.detach().numpy().astype(np.float32) for a in adapters)
    up = tuple((a.up.detach() * SCALE).numpy().astype(np.float32) for a in adapters)
    return EncoderDeltas.of(tuple(names), down, up)


def _wrap(model, torch) -> tuple[list[str], list]:
    """Each target layer replaced by itself plus a trainable low-rank term (zero at start)."""

    class LowRank(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            scale = 1 / math.sqrt(base.in_features)
            self.down = torch.nn.Parameter(torch.randn(RANK, base.in_features) * scale)
            self.up = torch.nn.Parameter(torch.zeros(base.out_features, RANK))

        def forward(self, x):
            return self.base(x) + (x @ self.down.T @ self.up.T) * SCALE

    bert = model[0].auto_model
    names, adapters = [], []
    for number, layer in enumerate(bert.encoder.layer):
        for target in TARGETS:
            parent_path, _, attribute = target.rpartition(".")
            parent = layer.get_submodule(parent_path)
            adapter = LowRank(getattr(parent, attribute))
            setattr(parent, attribute, adapter)
            names.append(f"encoder.layer.{number}.{target}")
            adapters.append(adapter)
    return names, adapters
