"""Ingestion benchmark: prints figures, asserts nothing.

    python bench/ingest.py [PATH ...]        (default: ../shared/fixtures/NIST.AI.100-1.pdf)

Figures, for the given files:
- the whole pipeline (load, clean, chunk, embed, store, keyword index, publish) into a fresh
  store, in pages/s and chunks/s, with the model already loaded (its one-off load time is
  printed apart, as is the cold run of a whole `toolkit-assistant ingest` process);
- the raw encoders on the very same chunk texts, in the same batches, in chunks/s: MiniLM
  and, when `retrieval.multilingual` is on, multilingual-e5; the pipeline runs both one
  after the other, so its ceiling is their summed time: 1 / (1/MiniLM + 1/e5) chunks/s;
- the ratio of the pipeline to that ceiling, and to the ceiling of all the encoding it does,
  which adds MiniLM on the chunks' sentences (the small-to-big sentence index), unless
  `ingest.sentence_vectors` is in_context (TOOLKIT_ASSISTANT_INGEST__SENTENCE_VECTORS):
  then the sentence vectors are pooled from the chunk pass and the two ratios are one;
- the wall time of an unchanged refresh, process start included.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT = REPO.parent / "shared" / "fixtures" / "NIST.AI.100-1.pdf"


def cli(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        cwd=REPO,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    # Imported here, not at the top: a reader child (ingest/worker.py) is spawned, and a
    # spawned child imports the parent's main module first. At the top, these imports would
    # cost every child ~0.9 s that a `toolkit-assistant ingest` process does not pay (its
    # main module, assistant/cli.py, imports them lazily), and the figures would not be
    # the command's.
    import ingest  # noqa: F401  (first: it turns telemetry off, ingest/privacy.py)
    from ingest.build import ENCODE_BATCH
    from ingest.chunking import Chunker
    from ingest.embedding import Embedder, _model
    from ingest.loaders import load_document
    from ingest.multilingual import (
        MultilingualEncoder,
        passage_text,
        unavailable_reason,
    )
    from ingest.refresh import discover, refresh
    from ingest.sentence_index import indexed_sentences
    from ingest.settings import Settings
    from ingest.store import Store

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs of each measurement; the best is kept"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        started = time.perf_counter()
        _model()
        load_seconds = time.perf_counter() - started

        settings = Settings(store=work / "unused")
        chunker = Chunker(settings.ingest.chunk_tokens, settings.ingest.chunk_overlap_tokens)
        files, _ = discover(args.paths)
        chunks = [
            chunk
            for f in files
            for chunk in chunker.chunk_document(
                load_document(f.path, f.source, settings.ingest.max_file_mb)
            )
        ]
        texts = [chunk.embed_text for chunk in chunks]
        e5_texts: list[str] = []  # in the order the pipeline encodes them: read from its store
        # Each distinct sentence once, as the sentence index encodes them (chunks overlap).
        sentences = list(dict.fromkeys(s for c in chunks for s in indexed_sentences(c.text)))
        multilingual = settings.retrieval.multilingual and unavailable_reason() is None
        e5 = MultilingualEncoder() if multilingual else None
        embedder = Embedder.from_settings(settings.ingest, vector_cache=False)
        # in_context: the sentence vectors are pooled from the chunk pass, no pass of their own.
        in_context = settings.ingest.sentence_vectors == "in_context"

        # Interleaved, best of each: a shared VM's speed drifts over a minute, and a drift
        # between two blocks of runs would show up as a difference between the two.
        pipeline_seconds = encoder_seconds = e5_seconds = float("inf")
        sentence_seconds = 0.0 if in_context else float("inf")
        for attempt in range(args.repeat):
            store = work / f"store-{attempt}"
            started = time.perf_counter()
            report = refresh(args.paths, Settings(store=store))
            pipeline_seconds = min(pipeline_seconds, time.perf_counter() - started)
            if not e5_texts:
                # e5 reads the chunks in the store's order, in batches of 16. Its time depends
                # on which texts share a batch (NIST's 160: 56 s in the store's order, 50 s
                # sorted by length), so its ceiling is measured on the pipeline's batches.
                built = Store(store)
                e5_texts = [
                    passage_text(c.title, c.section, c.text)
                    for c in built.iter_chunks(built.current().generation)
                ]
            started = time.perf_counter()
            for start in range(0, len(texts), ENCODE_BATCH):  # the slices the pipeline encodes
                embedder.embed_passages(texts[start : start + ENCODE_BATCH])
            encoder_seconds = min(encoder_seconds, time.perf_counter() - started)
            if not in_context:
                started = time.perf_counter()
                embedder.embed_passages(sentences)  # one call, as ingest/refresh.py makes it
                sentence_seconds = min(sentence_seconds, time.perf_counter() - started)
            if e5 is not None:
                started = time.perf_counter()
                for start in range(0, len(e5_texts), 16):  # as ingest/multilingual.py does
                    e5.embed_passages(e5_texts[start : start + 16])
                e5_seconds = min(e5_seconds, time.perf_counter() - started)
        pages, chunks_total = report.pages, report.chunks_total

        store = work / "store-cli"
        paths = [str(p) for p in args.paths]
        cold_seconds = cli("ingest", *paths, "--store", str(store))
        unchanged = min(cli("ingest", *paths, "--store", str(store)) for _ in range(3))

        pipeline_rate = chunks_total / pipeline_seconds
        encoder_rate = len(texts) / encoder_seconds
        print(f"files: {', '.join(paths)}")
        print(f"documents {report.documents}, pages {pages}, chunks {chunks_total}")
        print(f"model load (once per process):          {load_seconds:6.2f} s")
        print(
            f"pipeline, warm model:                   {pipeline_seconds:6.2f} s  "
            f"{pages / pipeline_seconds:6.1f} pages/s  {pipeline_rate:6.1f} chunks/s"
        )
        print(
            f"raw encoder, same {len(texts)} chunks:          {encoder_seconds:6.2f} s  "
            f"{'':>14}  {encoder_rate:6.1f} chunks/s"
        )
        ceiling = encoder_rate
        if e5 is not None:
            e5_rate = len(e5_texts) / e5_seconds
            ceiling = 1 / (1 / encoder_rate + 1 / e5_rate)
            print(
                f"raw multilingual-e5, same chunks:       {e5_seconds:6.2f} s  "
                f"{'':>14}  {e5_rate:6.1f} chunks/s"
            )
            print(f"summed ceiling of both encoders:        {'':>23}{ceiling:6.1f} chunks/s")
        else:
            print(f"multilingual side: off ({unavailable_reason() or 'retrieval.multilingual'})")
        print(f"pipeline / encoder ceiling:             {pipeline_rate / ceiling:6.1%}")
        all_encoding = len(texts) / ceiling + sentence_seconds
        if in_context:
            print("sentence vectors: pooled from the chunk pass (ingest.sentence_vectors)")
        else:
            print(
                f"raw MiniLM, the {len(sentences)} indexed sentences:   {sentence_seconds:6.2f} s"
            )
        print(
            f"pipeline / all its encoding:            {all_encoding / pipeline_seconds:6.1%}"
            f"  ({all_encoding:.2f} s of encoding in {pipeline_seconds:.2f} s)"
        )
        print(f"cold `ingest` process (fresh store):    {cold_seconds:6.2f} s wall")
        print(f"unchanged refresh, process included:    {unchanged:6.2f} s wall (best of 3)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
