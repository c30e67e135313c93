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
from pathlib import Path

from filelock import FileLock, Timeout

from ingest.language import normalise_language
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.manifest import MANIFEST_NAME, Manifest, corpus_kind, document_group, read_manifest
from ingest.models import DocumentRecord, FailedFile, RefreshReport, file_sha256
from ingest.settings import Settings

# stage, done, total: "load" counts documents, "embed" counts chunks.
ProgressCallback = Callable[[str, int, int], None]

LOCK_NAME = "refresh.lock"
# Bump when loaders or the chunker change what they produce: every document is redone.
PIPELINE_VERSION = "2"
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
    group: str = "agency"  # official | agency | sample (`ingest.manifest.document_group`)
    language: str = ""  # from the manifest; "" to detect


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
            if (
                any(part.startswith(".") for part in relative.parts)
                or relative.name == MANIFEST_NAME
            ):
                continue
            source = relative.as_posix()
            if root.is_dir() and not _inside(path, root):
                failed.append(
                    FailedFile(
                        source,
                        f"a link to {path.resolve()}, outside the corpus folder; links out of "
                        "the folder are not followed: copy the file in instead",
                    )
                )
                continue
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
                failed.append(
                    FailedFile(
                        source,
                        f"unsupported file type '{path.suffix or path.name}'; "
                        f"supported: {supported}",
                    )
                )
                continue
            found.append(_source_file(source, path, manifest))
    duplicates = {f.source for f in found if sum(g.source == f.source for g in found) > 1}
    if duplicates:
        raise UsageError(
            f"the same name under two folders: {', '.join(sorted(duplicates))}; ingest one folder"
        )
    return found, failed


def _inside(path: Path, root: Path) -> bool:
    """Whether `path`, links resolved, is in `root`: `corpus/passwd.txt -> /etc/passwd` is not."""
    return path.resolve().is_relative_to(root.resolve())


def _source_file(source: str, path: Path, manifest: Manifest) -> SourceFile:
    entry = manifest.for_file(source)
    if entry is None:
        return SourceFile(source, path, origin="", title="", version="")
    return SourceFile(
        source,
        path,
        origin=entry.origin,
        title=entry.title,
        version=entry.version,
        group=document_group(entry),
        language=normalise_language(entry.language),
    )


def set_aside_store(settings: Settings) -> Path | None:
    """Move the local store out of the way so that the next refresh builds it afresh.

    For `ingest --rebuild`: a damaged store is renamed, not deleted (nothing stored is
    lost; remove it once the new index works). The refresh lock is held meanwhile, so a
    refresh running elsewhere is never pulled from under. Returns the new name, or None
    when there was no store.
    """
    if settings.chroma_url:
        raise UsageError(
            "--rebuild works on a local store; for a Chroma server, delete its collections "
            "(or start it on an empty folder), then run `toolkit-assistant ingest`"
        )
    store = settings.store
    if not store.exists() or not any(store.iterdir()):
        return None
    lock = refresh_lock(store)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RefreshInProgressError(
            f"a refresh is running on {store}; wait for it to finish, then rebuild"
        ) from None
    try:
        aside = store.with_name(f"{store.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        store.rename(aside)
    finally:
        lock.release()
    return aside


def drop_stale_generations(store, store_path: Path, keep: str) -> None:
    """Drop every generation but `keep`: predecessors and crashed refreshes.

    The keyword folder goes before the collections: a refresh killed between the two
    then leaves collections, which the next run lists and drops, never a keyword folder
    that nothing lists. Folders left that way by an earlier version go too.
    """
    in_store = set(store.generations())
    keyword_root = store_path / KEYWORD_DIR
    on_disk = {p.name for p in keyword_root.iterdir()} if keyword_root.is_dir() else set()
    from ingest.multilingual import drop_vectors, stale_generations

    for stale in (in_store | on_disk | stale_generations(store_path)) - {keep}:
        drop_vectors(store_path, stale)
        shutil.rmtree(keyword_dir(store_path, stale), ignore_errors=True)
        if stale in in_store:
            store.drop_generation(stale)
    store.remove_orphan_folders()


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
        store = Store.open(self.settings)
        current = store.current()
        old = {r.source: r for r in store.documents(current.generation)} if current else {}
        pipeline = self._pipeline_fingerprint()
        rebuild_all = bool(current) and current.pipeline != pipeline
        report = RefreshReport(failed=list(failed))

        to_load: list[tuple[SourceFile, str]] = []
        kept: list[DocumentRecord] = []
        for file in files:
            try:
                sha256 = file_sha256(file.path)
            except OSError as err:
                report.failed.append(
                    FailedFile(file.source, f"cannot read the file ({err.strerror})")
                )
                continue
            previous = old.get(file.source)
            if (
                previous
                and previous.sha256 == sha256
                and _same_labels(previous, file)
                and not rebuild_all
            ):
                kept.append(previous)
                report.unchanged.append(file.source)
            else:
                to_load.append((file, sha256))

        present = {f.source for f in files} | {f.source for f in report.failed}
        report.removed = sorted(source for source in old if source not in present)
        groups = {f.source: f.group for f in files}
        kind = corpus_kind(
            [groups.get(r.source, "agency") for r in kept] + [f.group for f, _ in to_load]
        )

        if (
            not to_load
            and not report.removed
            and current
            and current.corpus_kind == kind
            and not rebuild_all
        ):
            self._repair_keyword_index(store, current.generation)
            self._build_multilingual(store, current.generation, None, report, only_missing=True)
            return self._finish(report, store, current.generation)

        from ingest.build import GenerationBuilder, keyword_text
        from ingest.keyword_index import KeywordIndex

        self._drop_stale_generations(store, current.generation if current else "")

        builder = GenerationBuilder(store, self.settings, self.progress)
        result, keyword = builder.build(
            current.generation if current else None, kept, [f for f, _ in to_load]
        )
        report.failed += result.failed
        report.chunks_embedded = result.chunks_embedded
        for record in result.records:
            (report.updated if record.source in old else report.added).append(record.source)
            previous = old.get(record.source)
            report.sha256_changes[record.source] = (previous and previous.sha256, record.sha256)
        for source in report.removed:
            report.sha256_changes[source] = (old[source].sha256, None)
        # A file that failed to load keeps its previous version: nothing stored is lost.
        failed_before = [old[f.source] for f in result.failed if f.source in old]
        if failed_before:
            store.copy_documents(
                current.generation, result.generation, [r.doc_id for r in failed_before]
            )
            store.put_documents(result.generation, failed_before)
            keyword = KeywordIndex.build(
                (c.id, keyword_text(c.title, c.section, c.text), c.language)
                for c in store.iter_chunks(result.generation)
            )
        nothing_changed = (
            not result.records and not report.removed and current and current.corpus_kind == kind
        )
        if nothing_changed and not rebuild_all:
            store.drop_generation(result.generation)
            self._repair_keyword_index(store, current.generation)
            return self._finish(report, store, current.generation)

        expected = sum(r.chunks for r in store.documents(result.generation))
        if len(keyword) != expected:
            raise RuntimeError(
                f"generation {result.generation} holds {len(keyword)} chunks, expected {expected}"
            )
        folder = keyword_dir(self.settings.store, result.generation)
        keyword.save(folder)
        previous = (
            _loaded_sentences(keyword_dir(self.settings.store, current.generation))
            if current
            else None
        )
        _build_sentences(
            store, result.generation, previous, self.settings, result.sentence_vectors
        ).save(folder)
        self._build_multilingual(
            store, result.generation, current.generation if current else None, report
        )
        # The previous generation stays one more refresh, for readers still mid-question.
        store.publish(result.generation, kind, pipeline)
        return self._finish(report, store, result.generation)

    def _repair_keyword_index(self, store, generation: str) -> None:
        """Rebuild the current keyword index from Chroma's chunks when it is missing or damaged.

        A truncated `chunk_ids.json` used to make every question fail while `ingest` found
        nothing to do; the chunks it indexes are all in Chroma, so nothing is lost.
        """
        from ingest.build import keyword_text
        from ingest.keyword_index import KeywordIndex, KeywordIndexDamagedError

        store.widen_search(generation)  # a store built before SEARCH_EF (ingest/store.py)
        folder = keyword_dir(self.settings.store, generation)
        if self.settings.chroma_url and not folder.exists():
            return  # a server store: readers build their own copy
        try:
            keyword_ok = KeywordIndex.load(folder) is not None
        except KeywordIndexDamagedError:
            keyword_ok = False
        if not keyword_ok:
            KeywordIndex.build(
                (c.id, keyword_text(c.title, c.section, c.text), c.language)
                for c in store.iter_chunks(generation)
            ).save(folder)
        # A store built before sentence vectors existed gets them on its next refresh.
        if _loaded_sentences(folder) is None:
            _build_sentences(store, generation, None, self.settings).save(folder)

    def _build_multilingual(
        self,
        store,
        generation: str,
        previous: str | None,
        report: RefreshReport,
        only_missing: bool = False,
    ) -> None:
        """The multilingual encoder's vectors for `generation` (ingest/multilingual.py).

        Skipped when `retrieval.multilingual` is off or the encoder cannot run here; with
        `only_missing`, when the generation has them already (an unchanged corpus).
        """
        from ingest import multilingual

        if not self.settings.retrieval.multilingual or multilingual.say_unavailable_once():
            return
        folder = multilingual.vectors_dir(self.settings.store, generation)
        if only_missing and multilingual.MultilingualVectors.load(folder) is not None:
            return
        figures = multilingual.build_vectors(
            self.settings.store,
            generation,
            (
                (c.id, multilingual.passage_text(c.title, c.section, c.text))
                for c in store.iter_chunks(generation)
            ),
            previous,
            self.progress,
            self.settings.ingest.vector_cache,
            self.settings.ingest.multilingual_threads,
        )
        report.multilingual_embedded = figures.embedded
        report.multilingual_seconds = figures.seconds

    def _drop_stale_generations(self, store, current: str) -> None:
        drop_stale_generations(store, self.settings.store, keep=current)

    def _pipeline_fingerprint(self) -> str:
        from ingest.embedding import MODEL_NAME

        chunking = self.settings.ingest
        # Sentence vectors pooled in context are another index: switching rebuilds, so no
        # store mixes the two kinds. The default adds nothing, so stores built before match.
        pooled = "/in-context" if chunking.sentence_vectors == "in_context" else ""
        return (
            f"{MODEL_NAME}/{chunking.chunk_tokens}/{chunking.chunk_overlap_tokens}"
            f"/v{PIPELINE_VERSION}{pooled}"
        )

    def _finish(self, report: RefreshReport, store, generation: str) -> RefreshReport:
        records = store.documents(generation)
        report.documents = len(records)
        report.pages = sum(r.pages or 0 for r in records)
        report.chunks_total = sum(r.chunks for r in records)
        for field in (report.added, report.updated, report.unchanged, report.removed):
            field.sort()
        report.failed.sort(key=lambda f: f.source)
        return report


def _loaded_sentences(folder: Path):
    """The sentence index in `folder`; None when missing, outdated or damaged (rebuilt)."""
    from ingest.sentence_index import SentenceIndex, SentenceIndexDamagedError

    try:
        return SentenceIndex.load(folder)
    except SentenceIndexDamagedError:
        return None


def _build_sentences(store, generation: str, previous, settings: Settings, in_context=None):
    """Sentence vectors of a generation's chunks: those the build pooled from the chunks it
    encoded (`in_context`), those `previous` holds for kept chunks, the rest encoded."""
    from ingest.embedding import Embedder
    from ingest.sentence_index import SentenceIndex

    return SentenceIndex.build(
        ((c.id, c.text) for c in store.iter_chunks(generation)),
        Embedder.from_settings(settings.ingest).embed_passages,
        previous,
        in_context,
    )


def _same_labels(record: DocumentRecord, file: SourceFile) -> bool:
    """A manifest edit of title or version is a change even when the bytes are not."""
    return (not file.title or record.title == file.title) and record.version == file.version


def refresh(
    paths: list[Path], settings: Settings, progress: ProgressCallback | None = None
) -> RefreshReport:
    """Refresh the store from `paths`; see the module docstring for the guarantees."""
    return Refresher(settings, progress).run(paths)
