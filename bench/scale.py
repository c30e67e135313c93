"""Retrieval at scale: prints figures, asserts nothing.

    python bench/scale.py [--sizes 1000 10000 100000] [--set evals/sets/sample.jsonl]

Encoding 100k chunks with the model would take over an hour on a laptop CPU, so the stores
are made by replicating the sample corpus's stored chunks *with their embeddings*: each
replica gets new chunk and document ids, a source under `rNNN/`, a replica token appended
to its text, and its vectors nudged by a little Gaussian noise and re-normalized (exact
copies would make the HNSW graph degenerate). Each store is one generation written through
`ingest.store.Store`, with its BM25 index, published the way a refresh publishes one, so
`HybridRetriever` reads it as it reads any index. Stores are kept under
`.toolkit-assistant/bench-scale/` and reused when already built.

Each size is then measured in a fresh process, so the memory figure is that size's alone:
the time to load the generation (`HybridRetriever.snapshot`), then `retrieve` once for
every question of the set (hybrid, k from the settings), its query encoding timed apart
from the search, and the process's resident memory (VmRSS) and its peak.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from common import REPO, bench_parser, read_questions, rss_mb

from ingest.build import keyword_text
from ingest.keyword_index import KeywordIndex
from ingest.models import Chunk, DocumentRecord
from ingest.refresh import drop_stale_generations, keyword_dir, refresh
from ingest.settings import Settings
from ingest.store import Store

WRITE_BATCH = 5000  # chunks per `add_chunks` call; Store splits it to Chroma's batch size
NOISE = 0.01  # per-component sigma: a replica's vector keeps cosine ~0.98 with the original
PIPELINE = "bench-scale-replica"


def source_generation(store_path: Path, corpus: Path):
    """The sample corpus's chunks, their vectors and document records, from a built store."""
    refresh([corpus], Settings(store=store_path, corpus=corpus))
    store = Store(store_path)
    generation = store.current().generation
    chunks = sorted(store.iter_chunks(generation), key=lambda c: (c.source, c.ordinal))
    vectors = store.embeddings(generation, [c.id for c in chunks])
    matrix = np.stack([vectors[c.id] for c in chunks])
    return chunks, matrix, {r.doc_id: r for r in store.documents(generation)}


def published_size(path: Path) -> int | None:
    if not (path / "chroma.sqlite3").exists():
        return None
    store = Store(path)
    current = store.current()
    if current is None or current.pipeline != PIPELINE:
        return None
    if KeywordIndex.load(keyword_dir(path, current.generation)) is None:
        return None
    return store.count_chunks(current.generation)


def build_replica_store(path: Path, size: int, chunks, matrix, records) -> float:
    """Write `size` replicated chunks as one published generation; returns seconds taken."""
    started = time.perf_counter()
    rng = np.random.default_rng(size)
    store = Store(path)
    drop_stale_generations(store, path, keep="")  # an earlier, interrupted build
    generation = store.create_generation()
    replicas = math.ceil(size / len(chunks))
    keyword_rows: list[tuple[str, str]] = []
    documents: list[DocumentRecord] = []
    pending: list[tuple[Chunk, DocumentRecord]] = []
    pending_vectors: list[np.ndarray] = []

    def flush() -> None:
        store.add_chunks(generation, pending, np.concatenate(pending_vectors))
        pending.clear()
        pending_vectors.clear()

    written = 0
    for replica in range(replicas):
        part = chunks[: min(len(chunks), size - written)]
        tag = f"r{replica:03d}"
        copies = {
            doc_id: replace(
                records[doc_id],
                doc_id=f"{doc_id}-{tag}",
                source=f"{tag}/{records[doc_id].source}",
                chunks=count,
            )
            for doc_id, count in Counter(c.doc_id for c in part).items()
        }
        documents += copies.values()
        noisy = matrix[: len(part)] + rng.normal(0.0, NOISE, size=(len(part), matrix.shape[1]))
        pending_vectors.append(
            (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)
        )
        for stored in part:
            record = copies[stored.doc_id]
            text = f"{stored.text} [replica {replica}]" if replica else stored.text
            chunk = Chunk(
                id=f"{stored.id}-{tag}",
                doc_id=record.doc_id,
                source=record.source,
                title=stored.title,
                page=stored.page,
                section=stored.section,
                text=text,
                embed_text=text,
                ordinal=stored.ordinal,
            )
            pending.append((chunk, record))
            keyword_rows.append((chunk.id, keyword_text(chunk.title, chunk.section, text)))
        written += len(part)
        if len(pending) >= WRITE_BATCH:
            flush()
    if pending:
        flush()
    store.put_documents(generation, documents)
    KeywordIndex.build(keyword_rows).save(keyword_dir(path, generation))
    store.publish(generation, "sample", PIPELINE)
    return time.perf_counter() - started


def measure(store_path: Path, question_set: Path) -> dict:
    """Runs in its own process: load one store, time `retrieve`, read the memory."""
    from assistant.qa.retrieve import HybridRetriever, retrieval_query
    from ingest.embedding import Embedder, set_encoder_threads

    settings = Settings(store=store_path)
    set_encoder_threads(settings.app.encoder_threads)  # as `serve` answers questions
    embedder = Embedder.from_settings(settings.ingest, vector_cache=False)
    embedder.embed_query("warm the model up")  # model load is not retrieval
    baseline, _ = rss_mb()  # interpreter, libraries and model, before any index
    retriever = HybridRetriever(Store(store_path), settings.retrieval, embedder)
    started = time.perf_counter()
    snapshot = retriever.snapshot()
    load_seconds = time.perf_counter() - started
    rows = read_questions(question_set)
    timings: dict[str, list[float]] = {"encode": [], "search": [], "total": []}
    for row in rows:
        question, history = row["question"], row.get("history")
        started = time.perf_counter()
        # The query encoding `retrieve` would do first, timed apart: it is the model's share,
        # and `retrieve` then finds the vector in the embedder's cache.
        embedder.embed_query(retrieval_query(question, history))
        encoded = time.perf_counter()
        retriever.retrieve(question, history)
        finished = time.perf_counter()
        timings["encode"].append((encoded - started) * 1000)
        timings["search"].append((finished - encoded) * 1000)
        timings["total"].append((finished - started) * 1000)
    rss, peak = rss_mb()
    return {
        "chunks": len(snapshot.chunks),
        "load_s": load_seconds,
        "questions": len(rows),
        **{
            f"{label}_{q}": float(np.percentile(values, q))
            for label, values in timings.items()
            for q in (50, 95)
        },
        "max_ms": max(timings["total"]),
        "baseline_mb": baseline,
        "rss_mb": rss,
        "peak_mb": peak,
    }


def main() -> None:
    parser = bench_parser(__doc__, store=False)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--work", type=Path, default=REPO / ".toolkit-assistant" / "bench-scale")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()

    if args.measure:
        print(json.dumps(measure(args.measure, args.set)))
        return

    load_before = os.getloadavg()[0]
    chunks, matrix, records = source_generation(args.work / "source", args.corpus)
    print(f"source: {args.corpus} ({len(records)} documents, {len(chunks)} chunks), replicated")
    results = []
    for size in args.sizes:
        path = args.work / f"{size}"
        built = path / "bench-build.json"  # how long the kept store took to build
        if published_size(path) == size and built.exists():
            build = f"({json.loads(built.read_text())['seconds']:.0f} s)"
        else:
            seconds = build_replica_store(path, size, chunks, matrix, records)
            built.write_text(json.dumps({"seconds": seconds}))
            build = f"{seconds:.0f} s"
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(path), "--set", str(args.set)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        )
        results.append((build, json.loads(child.stdout.strip().splitlines()[-1])))

    print(
        f"retrieve (hybrid, k={Settings().retrieval.k}), each of the {results[0][1]['questions']} "
        f"questions of {args.set.name} once, each size in a fresh process:"
    )
    print(
        f"{'chunks':>8} {'build':>7} {'load':>6} | {'encode p50':>10} {'p95':>6} | "
        f"{'search p50':>10} {'p95':>6} | {'total p50':>9} {'p95':>6} {'max':>6} | "
        f"{'RSS':>7} {'peak':>7} {'index':>7}"
    )
    for build, r in results:
        index_mb = r["rss_mb"] - r["baseline_mb"]
        print(
            f"{r['chunks']:>8,} {build:>7} {r['load_s']:>5.1f}s | "
            f"{r['encode_50']:>8.1f}ms {r['encode_95']:>4.0f}ms | "
            f"{r['search_50']:>8.1f}ms {r['search_95']:>4.0f}ms | "
            f"{r['total_50']:>7.1f}ms {r['total_95']:>4.0f}ms {r['max_ms']:>4.0f}ms | "
            f"{r['rss_mb']:>5.0f}MB {r['peak_mb']:>5.0f}MB {index_mb:>+5.0f}MB"
        )
    notes = [
        "build: writing the replicated store (in brackets: a kept store's build time);",
        "load: reading the generation into memory (HybridRetriever.snapshot, once a generation);",
        "encode: the question's embedding; search: the rest of retrieve (Chroma, BM25, fusion,",
        "caps); total = encode + search. RSS/peak: the measuring process after the run;",
        "index: the RSS that loading and searching the index added (model already loaded).",
        f"Load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
        f"{os.cpu_count()} CPUs: on a busy machine the figures are upper bounds.",
    ]
    print("\n".join(notes))


if __name__ == "__main__":
    main()
