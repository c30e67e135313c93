"""Make the store mirror a set of files and folders: add, replace, remove, skip unchanged.

A refresh builds a new generation beside the current one (copying unchanged documents'
chunks with their embeddings), then publishes it in one step. Readers keep serving the
old generation until then; `kill -9` at any moment leaves it intact, and the next run
drops the half-built generation and does the job again. Only changed documents are
embedded, and the model is not loaded at all when nothing changed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document
from ingest.manifest import MANIFEST_NAME, Manifest, corpus_kind, read_manifest
from ingest.models import (
    Chunk, DocumentRecord, FailedFile, LoadedDocument, RefreshReport, document_id, file_sha256,
)
from ingest.settings import Settings

# stage, done, total: "load" counts documents, "embed" counts chunks.
ProgressCallback = Callable[[str, int, int], None]

LOCK_NAME = "refresh.lock"
KEYWORD_DIR = "keyword"


class RefreshInProgressError(RuntimeError):
    """Another refresh holds the lock on this store."""


class UsageError(ValueError):
    """The command was given something it cannot work with (exit status 2)."""


@dataclass(frozen=True)
class SourceFile:
    source: str  # relative to the folder it was found in
    path: Path
    origin: str  # from the manifest: "sample", a URL, or "" when unlisted
    title: str
    version: str


def keyword_dir(store_path: Path, generation: str) -> Path:
    return store_path / KEYWORD_DIR / generation


def refresh_lock(store_path: Path) -> FileLock:
    store_path.mkdir(parents=True, exist_ok=True)
    return FileLock(store_path / LOCK_NAME)


def discover(paths: list[Path]) -> tuple[list[SourceFile], list[FailedFile]]:
    """The documents under `paths`; hidden files and the manifest are not documents."""
    found: list[SourceFile] = []
    failed: list[FailedFile] = []
    for root in paths:
        if not root.exists():
            raise UsageError(f"{root}: no such file or folder")
        folder = root if root.is_dir() else root.parent
        manifest = read_manifest(folder)
        candidates = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in candidates:
            relative = path.relative_to(folder)
            if any(part.startswith(".") for part in relative.parts) or relative.name == MANIFEST_NAME:
                continue
            source = relative.as_posix()
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
                failed.append(FailedFile(source, f"unsupported file type '{path.suffix or path.name}'; supported: {supported}"))
                continue
            found.append(_source_file(source, path, manifest))
    duplicates = {f.source for f in found if sum(g.source == f.source for g in found) > 1}
    if duplicates:
        raise UsageError(f"the same name under two folders: {', '.join(sorted(duplicates))}; ingest one folder")
    return found, failed


def _source_file(source: str, path: Path, manifest: Manifest) -> SourceFile:
    entry = manifest.for_file(source)
    if entry is None:
        return SourceFile(source, path, origin="", title="", version="")
    return SourceFile(source, path, origin=entry.origin, title=entry.title, version=entry.version)


class Refresher:
    """One refresh of one store; `run` does the work and returns the report."""

    def __init__(self, settings: Settings, progress: ProgressCallback | None = None) -> None:
        self.settings = settings
        self.progress = progress or (lambda stage, done, total: None)

    def run(self, paths: list[Path]) -> RefreshReport:
        started = time.perf_counter()
        lock = refresh_lock(self.settings.store)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise RefreshInProgressError(
                f"another refresh is running on {self.settings.store} (lock {lock.lock_file}); "
                "wait for it to finish, then run again"
            ) from None
        try:
            report = self._refresh(paths)
        finally:
            lock.release()
        report.seconds = time.perf_counter() - started
        return report

    def _refresh(self, paths: list[Path]) -> RefreshReport:
        from ingest.store import Store  # chromadb is imported only once a refresh may start

        files, failed = discover(paths)
        store = Store(self.settings.store, self.settings.chroma_url)
        current = store.current()
        old = {r.source: r for r in store.documents(current.generation)} if current else {}
        report = RefreshReport(failed=list(failed))

        to_load: list[tuple[SourceFile, str]] = []
        kept: list[DocumentRecord] = []
        for file in files:
            try:
                sha256 = file_sha256(file.path)
            except OSError as err:
                report.failed.append(FailedFile(file.source, f"cannot read the file ({err.strerror})"))
                continue
            previous = old.get(file.source)
            if previous and previous.sha256 == sha256 and _same_labels(previous, file):
                kept.append(previous)
                report.unchanged.append(file.source)
            else:
                to_load.append((file, sha256))

        present = {f.source for f in files} | {f.source for f in report.failed}
        report.removed = sorted(source for source in old if source not in present)
        origins = {f.source: f.origin or "unlisted" for f in files}
        kind = corpus_kind([origins.get(r.source, "unlisted") for r in kept] + [origins[f.source] for f, _ in to_load])

        if not to_load and not report.removed and current and current.corpus_kind == kind:
            return self._finish(report, store, current.generation)

        loaded = self._load(to_load, report)
        # A file that failed to load keeps its previous version: nothing stored is lost.
        failed_sources = {f.source for f in report.failed}
        kept += [old[s] for s in failed_sources if s in old]
        if not loaded and not report.removed and current and current.corpus_kind == kind:
            return self._finish(report, store, current.generation)

        generation = self._build(
            store, current.generation if current else None, kept, loaded, set(old), report
        )
        # The previous generation stays one more refresh, for readers still mid-question.
        store.publish(generation, kind)
        return self._finish(report, store, generation)

    def _load(self, to_load: list[tuple[SourceFile, str]], report: RefreshReport) -> list[tuple[LoadedDocument, list[Chunk]]]:
        from ingest.chunking import Chunker

        chunker = Chunker(self.settings.ingest.chunk_tokens, self.settings.ingest.chunk_overlap_tokens)
        loaded = []
        for done, (file, _sha) in enumerate(to_load, start=1):
            try:
                document = load_document(file.path, file.source, self.settings.ingest.max_file_mb)
            except LoadError as err:
                report.failed.append(FailedFile(file.source, str(err)))
                continue
            except OSError as err:
                report.failed.append(FailedFile(file.source, f"cannot read the file ({err.strerror})"))
                continue
            finally:
                self.progress("load", done, len(to_load))
            document.title = file.title or document.title
            document.version = file.version
            loaded.append((document, chunker.chunk_document(document)))
        return loaded

    def _build(
        self, store, current: str | None, kept: list[DocumentRecord],
        loaded: list[tuple[LoadedDocument, list[Chunk]]], old_sources: set[str],
        report: RefreshReport,
    ) -> str:
        from ingest.embedding import Embedder
        from ingest.keyword_index import KeywordIndex

        # Anything but the current generation is a predecessor or a crashed refresh.
        for stale in set(store.generations()) - {current}:
            store.drop_generation(stale)
            shutil.rmtree(keyword_dir(self.settings.store, stale), ignore_errors=True)
        generation = store.create_generation()
        if current:
            store.copy_documents(current, generation, [r.doc_id for r in kept])

        embedder = Embedder(self.settings.ingest.embed_batch_size)
        total = sum(len(chunks) for _, chunks in loaded)
        ingested_at = datetime.now(UTC).isoformat(timespec="seconds")
        records = list(kept)
        done = 0
        self.progress("embed", 0, total)
        for document, chunks in loaded:
            record = DocumentRecord(
                doc_id=document_id(document.source), source=document.source, title=document.title,
                version=document.version, format=document.format, pages=document.page_count,
                chunks=len(chunks), sha256=document.sha256, ingested_at=ingested_at,
            )
            for start in range(0, len(chunks), 256):
                batch = chunks[start : start + 256]
                vectors = embedder.embed_passages([c.embed_text for c in batch])
                store.add_chunks(generation, batch, vectors, record)
                done += len(batch)
                self.progress("embed", done, total)
            records.append(record)
            (report.updated if document.source in old_sources else report.added).append(document.source)
        report.chunks_embedded = total
        store.put_documents(generation, records)

        index = KeywordIndex.build(
            (c.id, f"{c.title} {c.section} {c.text}") for c in store.iter_chunks(generation)
        )
        expected = sum(r.chunks for r in records)
        if len(index) != expected:
            raise RuntimeError(f"generation {generation} holds {len(index)} chunks, expected {expected}")
        index.save(keyword_dir(self.settings.store, generation))
        return generation

    def _finish(self, report: RefreshReport, store, generation: str) -> RefreshReport:
        records = store.documents(generation)
        report.documents = len(records)
        report.pages = sum(r.pages or 0 for r in records)
        report.chunks_total = sum(r.chunks for r in records)
        for field in (report.added, report.updated, report.unchanged, report.removed):
            field.sort()
        report.failed.sort(key=lambda f: f.source)
        return report


def _same_labels(record: DocumentRecord, file: SourceFile) -> bool:
    """A manifest edit of title or version is a change even when the bytes are not."""
    return (not file.title or record.title == file.title) and record.version == file.version


def refresh(paths: list[Path], settings: Settings, progress: ProgressCallback | None = None) -> RefreshReport:
    """Refresh the store from `paths`; see the module docstring for the guarantees."""
    return Refresher(settings, progress).run(paths)
