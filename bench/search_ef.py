"""Chroma's HNSW search width: recall and repeatability. Prints figures, asserts nothing.

    python bench/search_ef.py [--chunks 1000 3000] [--ef 100 500]

For each corpus size: clustered 384-d unit vectors (40 topics, like a corpus's passages)
are added to a fresh Chroma collection four times, in the same order, in batches of 64 as
`ingest` writes them; 200 nearby queries ask for their top 30. Printed per `ef_search`:
recall@30 against an exact search, whether the four builds answered identically, and the
mean query time. ingest/store.py's SEARCH_EF comes from these figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ingest  # noqa: E402,F401  (telemetry off before chromadb loads)

BUILDS, QUERIES, TOP = 4, 200, 30


def main() -> None:
    import chromadb

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--ef", type=int, nargs="+", default=[100, 500])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for n in args.chunks:
        centers = rng.normal(size=(40, 384))
        vectors = centers[rng.integers(0, 40, n)] + 0.8 * rng.normal(size=(n, 384))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        queries = vectors[:QUERIES] + 0.3 * rng.normal(size=(QUERIES, 384)).astype(np.float32)
        exact = [set(np.argsort(-(vectors @ q))[:TOP].astype(str)) for q in queries]
        for ef in args.ef:
            answers, seconds = [], 0.0
            for _ in range(BUILDS):
                client = chromadb.PersistentClient(
                    path=tempfile.mkdtemp(), settings=chromadb.Settings(anonymized_telemetry=False)
                )
                collection = client.create_collection(
                    "bench",
                    configuration={"hnsw": {"space": "cosine", "ef_search": ef}},
                    embedding_function=None,
                )
                for start in range(0, n, 64):
                    stop = min(n, start + 64)
                    collection.add(
                        ids=[str(i) for i in range(start, stop)], embeddings=vectors[start:stop]
                    )
                started = time.perf_counter()
                got = [
                    collection.query(query_embeddings=[q], n_results=TOP)["ids"][0] for q in queries
                ]
                seconds += time.perf_counter() - started
                answers.append(got)
            recall = np.mean(
                [len(set(a) & e) / TOP for a, e in zip(answers[0], exact, strict=True)]
            )
            same = all(a == answers[0] for a in answers)
            print(
                f"{n:5d} chunks  ef_search {ef:4d}: recall@{TOP} {recall:.4f}, "
                f"{BUILDS} builds identical: {'yes' if same else 'no'}, "
                f"{1000 * seconds / (BUILDS * QUERIES):.2f} ms a query"
            )


if __name__ == "__main__":
    main()
