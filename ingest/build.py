"""Build a new index generation as a three-stage pipeline.

The encoder is the bottleneck (about 20 chunks/s on two CPU cores), so it must never
wait: one thread loads and chunks documents ahead of it, the main thread encodes, and a
third thread writes finished batches to Chroma. Unchanged documents are copied over
with their embeddings, never re-encoded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from ingest.chunking import Chunker
from ingest.embedding import Embedder
from ingest.keyword_index import KeywordIndex
from ingest.language import detect_language
from ingest.loaders import LoadError, load_in_worker
from ingest.models import Chunk, DocumentRecord, FailedFile, LoadedDocument, document_id
from ingest.sentence_index import indexed_spans
from ingest.settings import Settings
from ingest.store import Store
from ingest.worker import Worker

ProgressCallback = Callable[[str, int, int], None]
ENCODE_BATCH = 128  # chunks per encoder call: large enough to batch well, small for progress
_DONE = object()


@dataclass
class BuildResult:
    generation: str
    records: list[DocumentRecord] = field(default_factory=list)  # the documents (re)loaded
    failed: list[FailedFile] = field(default_factory=list)
    chunks_embedded: int = 0
    # With `ingest.sentence_vectors` in_context: chunk id -> its indexed sentences' vectors,
    # pooled from the chunk's own encoding (float16, as the sentence index keeps them).
    sentence_vectors: dict[str, np.ndarray] = field(default_factory=dict)


def keyword_text(title: str, section: str, text: str) -> str:
    """What BM25 indexes: headings are strong keyword evidence."""
    return f"{title} {section} {text}"


class GenerationBuilder:
    """Builds one generation: copy what is kept, load-encode-write what changed."""

    def __init__(self, store: Store, settings: Settings, progress: ProgressCallback) -> None:
        self.store = store
        self.settings = settings
        self.progress = progress

    def build(
        self, current: str | None, kept: list[DocumentRecord], to_load: list
    ) -> tuple[BuildResult, KeywordIndex]:
        # Documents are read in a child process (ingest/worker.py). It is started first, so
        # that its interpreter boots on the other core while the kept documents are copied.
        with Worker() as reader:
            if to_load:
                reader.start()
            return self._build(current, kept, to_load, reader)

    def _build(
        self, current: str | None, kept: list[DocumentRecord], to_load: list, reader: Worker
    ) -> tuple[BuildResult, KeywordIndex]:
        generation = self.store.create_generation()
        result = BuildResult(generation)
        keyword_rows = (
            self.store.copy_documents(current, generation, [r.doc_id for r in kept])
            if current
            else []
        )
        writer = _StoreWriter(self.store, generation)
        embedder = Embedder.from_settings(self.settings.ingest)
        ingested_at = datetime.now(UTC).isoformat(timespec="seconds")
        pending: list[tuple[Chunk, DocumentRecord]] = []
        known_chunks = 0

        in_context = self.settings.ingest.sentence_vectors == "in_context"

        def flush() -> None:
            texts = [chunk.embed_text for chunk, _ in pending]
            if in_context:
                vectors, pooled = embedder.embed_in_context(
                    texts, [_sentence_spans(chunk) for chunk, _ in pending]
                )
                for (chunk, _), rows in zip(pending, pooled, strict=True):
                    result.sentence_vectors[chunk.id] = rows.astype(np.float16)
            else:
                vectors = embedder.embed_passages(texts)
            writer.put(list(pending), vectors)
            result.chunks_embedded += len(pending)
            keyword_rows.extend(
                (c.id, keyword_text(c.title, c.section, c.text), c.language) for c, _ in pending
            )
            pending.clear()
            self.progress("embed", result.chunks_embedded, known_chunks)

        try:
            for item in self._loaded(to_load, reader):
                if isinstance(item, FailedFile):
                    result.failed.append(item)
                    continue
                document, chunks = item
                record = _record(document, chunks, ingested_at)
                result.records.append(record)
                known_chunks += len(chunks)
                pending.extend((chunk, record) for chunk in chunks)
                while len(pending) >= ENCODE_BATCH:
                    rest = pending[ENCODE_BATCH:]
                    del pending[ENCODE_BATCH:]
                    flush()
                    pending.extend(rest)
            if pending:
                flush()
        finally:
            writer.close()
        self.store.put_documents(generation, kept + result.records)
        return result, KeywordIndex.build(keyword_rows)

    def _loaded(
        self, to_load: list, reader: Worker
    ) -> Iterator[tuple[LoadedDocument, list[Chunk]] | FailedFile]:
        """Load and chunk on a producer thread, a few documents ahead of the encoder."""
        ready: queue.Queue = queue.Queue(maxsize=4)
        chunker = Chunker(
            self.settings.ingest.chunk_tokens, self.settings.ingest.chunk_overlap_tokens
        )

        def produce() -> None:
            try:
                for done, file in enumerate(to_load, start=1):
                    ready.put(self._load_one(file, chunker, reader))
                    self.progress("load", done, len(to_load))
                ready.put(_DONE)
            except BaseException as err:  # surfaced on the consumer's thread
                ready.put(err)

        thread = threading.Thread(target=produce, name="load-and-chunk", daemon=True)
        thread.start()
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
        thread.join()

    def _load_one(
        self, file, chunker: Chunker, reader: Worker
    ) -> tuple[LoadedDocument, list[Chunk]] | FailedFile:
        try:
            document = load_in_worker(
                reader,
                file.path,
                file.source,
                self.settings.ingest.max_file_mb,
                seconds=self.settings.ingest.load_seconds,
            )
        except LoadError as err:
            return FailedFile(file.source, str(err))
        except OSError as err:
            return FailedFile(file.source, f"cannot read the file ({err.strerror or err})")
        document.title = file.title or document.title
        document.version = file.version
        document.language = file.language or detect_language(
            " ".join(block.text for block in document.blocks[:20])
        )
        return document, chunker.chunk_document(document)


def _sentence_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """Where the chunk's indexed sentences are in what is embedded (its text comes last)."""
    body = len(chunk.embed_text) - len(chunk.text)
    return [(body + start, body + end) for start, end in indexed_spans(chunk.text)]


def _record(document: LoadedDocument, chunks: list[Chunk], ingested_at: str) -> DocumentRecord:
    return DocumentRecord(
        doc_id=document_id(document.source),
        source=document.source,
        title=document.title,
        version=document.version,
        format=document.format,
        pages=document.page_count,
        chunks=len(chunks),
        sha256=document.sha256,
        ingested_at=ingested_at,
    )


class _StoreWriter:
    """Writes encoded batches to Chroma on its own thread, in order."""

    def __init__(self, store: Store, generation: str) -> None:
        self._store = store
        self._generation = generation
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not _DONE:
            if self._error is None:
                try:
                    pairs, vectors = item
                    self._store.add_chunks(self._generation, pairs, vectors)
                except BaseException as err:  # re-raised by close() on the builder's thread
                    self._error = err

    def put(self, pairs: list[tuple[Chunk, DocumentRecord]], vectors) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((pairs, vectors))

    def close(self) -> None:
        self._queue.put(_DONE)
        self._thread.join()
        if self._error is not None:
            raise self._error
