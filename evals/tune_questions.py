"""Add the `tune` splits' questions to the query adapter's question list.

    python -m evals.tune_questions [--fixtures ../shared/fixtures] [--adapter FILE]

The blind eval sets' `tune` splits are questions officers and managers would ask, each with
its gold pages and key facts (evals/sets/README.md). A question of an officer's is more
often near one of those than near a question the training helpers wrote for a passage they
were reading, so they join the list that ranks passages by their nearest question
(`QueryAdapter.nearest_passages`), each for the passage of its gold pages that holds a key
fact, with the sentences holding one as its answer (the suggested opener). They train
nothing else: not the matrix, not the query encoder.

Each row keeps the name of its set ("pdfs.tune"), and `eval` leaves a set's own rows out
when it asks that set (`evals.runner.without_own_questions`): a `tune` split is scored as
if the other rounds' questions were all the list knew, which is how an unseen question
meets it. `heldout` splits never join. Run it after `evals.train_adapter`, and again when a
`tune` split changes; it replaces the rows it added before (`make adapter` runs both).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.qa.query_adapter import QueryAdapter, load_adapter, save_adapter
from evals.metrics import normalize_text
from evals.sets_io import EvalSet, read_eval_set
from evals.train_adapter import DEFAULT_OUT, eval_store
from ingest.embedding import EMBEDDING_DIM
from ingest.sentences import split_units
from ingest.store import StoredChunk

SETS_DIR = Path(__file__).parent / "sets"
TUNE_SUFFIX = ".tune"


@dataclass(frozen=True)
class TuneRow:
    chunk_id: str  # the gold page's passage that holds a key fact
    question: str
    answer: tuple[str, ...]  # that passage's sentences holding a key fact (maybe none)
    source: str  # the eval set's name, "pdfs.tune"


def tune_rows(eval_set: EvalSet, chunks: list[StoredChunk]) -> list[TuneRow]:
    """The rows `eval_set` adds over `chunks`: one for each in-scope question that stands
    alone (a follow-up means nothing without its history) and each passage of its gold
    pages or sections holding one of its key facts. None for a set that is not a `tune`
    split."""
    if not eval_set.name.endswith(TUNE_SUFFIX):
        return []
    rows = []
    for question in eval_set.questions:
        if not question.in_scope or question.history or not question.key_facts:
            continue
        facts = [normalize_text(fact) for fact in question.key_facts]
        for chunk in chunks:
            if not any(
                ref.matching_unit(chunk.source, chunk.page, chunk.section) for ref in question.gold
            ):
                continue
            if not any(fact in normalize_text(chunk.text) for fact in facts):
                continue
            # None when each fact runs over two sentences: the row still ranks the passage.
            answer = tuple(
                unit.text
                for unit in split_units(chunk.text)
                if any(fact in normalize_text(unit.text) for fact in facts)
            )
            rows.append(TuneRow(chunk.id, question.question, answer, eval_set.name))
    return rows


def with_rows(adapter: QueryAdapter, rows: list[TuneRow], embedder) -> dict:
    """`save_adapter`'s arguments for `adapter` with its earlier tune rows replaced by
    `rows`, their vectors read by MiniLM and by the adapter's query encoder."""
    written = adapter.written_for_training()
    texts = [row.question for row in rows]
    raw = embedder.embed_short(texts) if rows else np.zeros((0, EMBEDDING_DIM), np.float32)
    # A file may name no answers at all (the first round's questions alone).
    answers = written.question_answers or ((),) * len(written.question_texts)
    arguments = {
        "matrix": written.matrix,
        "chunk_ids": sorted(written.chunk_ids),
        "questions": np.concatenate([written.questions, raw]),
        "question_chunks": [written.question_passages[i] for i in written.question_owners]
        + [row.chunk_id for row in rows],
        "question_texts": [*written.question_texts, *texts],
        "question_answers": [*answers, *(row.answer for row in rows)],
        "question_sources": [*written.question_sources, *(row.source for row in rows)],
        "encoder": written.encoder,
        "encoded_questions": None,
    }
    if written.encoder is not None:
        encoded = embedder.embed_adapted(texts, written.encoder) if rows else raw
        arguments["encoded_questions"] = np.concatenate([written.encoded_questions, encoded])
    return arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=Path("../shared/fixtures"))
    parser.add_argument("--adapter", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--sets", type=Path, default=SETS_DIR)
    args = parser.parse_args(argv)

    from ingest.embedding import Embedder
    from ingest.settings import load_settings

    started = time.perf_counter()
    sets = [read_eval_set(path) for path in sorted(args.sets.glob(f"*{TUNE_SUFFIX}.jsonl"))]
    rows: list[TuneRow] = []
    for corpus in (load_settings().corpus, args.fixtures):
        if not corpus.exists():
            raise SystemExit(f"error: {corpus} is missing; the tune questions over it need it")
        store, generation = eval_store(corpus)
        chunks = list(store.iter_chunks(generation))
        for eval_set in sets:
            found = tune_rows(eval_set, chunks)
            if found:
                asked = len({row.question for row in found})
                print(f"{eval_set.name}: {asked} questions, {len(found)} rows over {corpus}")
            rows.extend(found)
    adapter = load_adapter(args.adapter, EMBEDDING_DIM)
    if len(adapter.questions) and not adapter.question_texts:
        raise SystemExit(
            f"error: {args.adapter} keeps no question texts; rebuild it with "
            "`python -m evals.train_adapter` first"
        )
    save_adapter(args.adapter, **with_rows(adapter, rows, Embedder()))
    print(f"wrote {args.adapter} ({len(rows)} tune rows) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
