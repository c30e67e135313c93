"""The only module that imports chromadb.

An index is a *generation*: a chunk collection and a document collection built side by
side. A small registry collection names the current generation, and a refresh switches
it with one metadata update, so a reader sees the old corpus or the new one, never a
mix, and a refresh killed half-way leaves the current generation untouched. The same
code runs embedded (`PersistentClient`) or against a `chroma run` server (`HttpClient`).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import chromadb
import chromadb.errors
import httpx  # chromadb's HTTP transport: its errors mean "the server cannot be reached"
import numpy as np
from chromadb.config import Settings as ChromaSettings

from ingest.models import Chunk, DocumentRecord
from ingest.settings import DEFAULT_CHROMA_TIMEOUT_SECONDS, Settings

REGISTRY = "toolkit-registry"
_CHUNKS = "chunks-"
_DOCS = "docs-"
# Candidates the HNSW search keeps (Chroma's default is 100). `python bench/search_ef.py`,
# top 30 of clustered 384-d vectors: with 100, recall 0.990 (1,000 chunks) and 0.947
# (3,000) against an exact search, and four builds of the same vectors in the same order
# answered differently, so an eval's answers changed from one `make test` to the next; with
# 500, recall 1.000 and identical builds at 1,000 chunks (the two PDFs are 928), 0.9997 at
# 3,000, for 0.3 ms more a query.
SEARCH_EF = 500
_PLACEHOLDER_VECTOR = [1.0]  # document records need a vector; they are never searched
# Client/server mode: opening a connection to a live server takes milliseconds; waiting for
# its answer is bounded by the `chroma_timeout_seconds` setting.
SERVER_CONNECT_SECONDS = 5.0


class StoreError(RuntimeError):
    """The store cannot be used; the message says why and what to do."""


REBUILD_COMMAND = "toolkit-assistant ingest --rebuild"


class StoreDamagedError(StoreError):
    """The local index cannot be read (a truncated or overwritten chroma.sqlite3, say)."""


def damaged(path: Path, err: BaseException) -> StoreDamagedError:
    reason = " ".join(str(err).split())[:160] or err.__class__.__name__
    return StoreDamagedError(
        f"the index in {path} is damaged ({reason}); rebuild it from the corpus folder with "
        f"`{REBUILD_COMMAND}`"
    )


class StoreUnreachableError(StoreError):
    """The Chroma server at `url` did not answer; nothing is wrong with the index itself."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(message)
        self.url = url


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back for retrieval: no embedding, plain metadata."""

    id: str
    doc_id: str
    source: str
    title: str
    page: int | None
    section: str
    text: str
    ordinal: int
    language: str = ""  # its document's (en, fr, es, ar); "" in stores built before it


@dataclass(frozen=True)
class Publication:
    generation: str
    corpus_kind: str
    published_at: str
    pipeline: str  # fingerprint of model and chunking settings that built it


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _unreachable(chroma_url: str, err: BaseException) -> StoreUnreachableError:
    return StoreUnreachableError(
        f"cannot reach the Chroma server at {chroma_url} ({err.__class__.__name__}); "
        "start it (`chroma run --path DIR --port N`) or unset TOOLKIT_ASSISTANT_CHROMA_URL",
        chroma_url,
    )


def _forget_failed_client(path: Path) -> None:
    """Drop chromadb's cached client for `path` after it failed to start.

    chromadb caches one system per folder even when starting it failed, and every later
    open of that folder in this process then fails with an unrelated error (a missing
    attribute, an unknown tenant), even once the folder was rebuilt. Private attribute,
    checked: a chromadb that renames it only loses this clean-up.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    if isinstance(systems, dict):
        systems.pop(str(path), None)


def _bound_requests(client: chromadb.api.ClientAPI, timeout_seconds: float) -> None:
    """Put timeouts on the client's HTTP session.

    chromadb 1.5 builds its httpx session with timeout=None and has no setting for it, so a
    server that accepts the connection and then never answers (stopped with SIGSTOP, wedged,
    a dropped route) would hang a question forever.
    """
    # Private attributes: checked, so a chromadb that renames them only loses the bound.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        connect = min(SERVER_CONNECT_SECONDS, timeout_seconds)
        session.timeout = httpx.Timeout(timeout_seconds, connect=connect)


def connect(
    path: Path,
    chroma_url: str | None = None,
    timeout_seconds: float = DEFAULT_CHROMA_TIMEOUT_SECONDS,
) -> chromadb.api.ClientAPI:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not chroma_url:
        path.mkdir(parents=True, exist_ok=True)
        try:
            return chromadb.PersistentClient(path=str(path), settings=settings)
        except Exception as err:  # embedded: whatever stops it opening is in the files
            _forget_failed_client(path)
            raise damaged(path, err) from None
    url = urlparse(chroma_url)
    if url.scheme not in {"http", "https"} or not url.hostname:
        raise StoreError(
            f"TOOLKIT_ASSISTANT_CHROMA_URL={chroma_url!r} is not an http://host:port URL"
        )
    try:
        client = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )
        _bound_requests(client, timeout_seconds)
        client.heartbeat()
    except Exception as err:
        raise _unreachable(chroma_url, err) from None
    return client


class Store:
    """Generations of chunks and documents in Chroma, and the pointer to the current one."""

    def __init__(
        self,
        path: Path,
        chroma_url: str | None = None,
        timeout_seconds: float = DEFAULT_CHROMA_TIMEOUT_SECONDS,
    ) -> None:
        self.path = path
        self.chroma_url = chroma_url
        # A damaged local store is an error on each use, not here: the app then starts and
        # says what is wrong (and how to fix it) instead of ending in a traceback.
        self._damage: StoreDamagedError | None = None
        self._connected: chromadb.api.ClientAPI | None = None
        try:
            self._connected = connect(path, chroma_url, timeout_seconds)
        except StoreDamagedError as err:
            self._damage = err
        self._batch = (
            max(1, min(self._connected.get_max_batch_size(), 2000)) if self._connected else 1
        )

    @property
    def _client(self) -> chromadb.api.ClientAPI:
        if self._connected is None:
            raise self._damage or StoreError("the store is not open")
        return self._connected

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """The store the settings name: embedded, or the server with its request timeout."""
        return cls(settings.store, settings.chroma_url, settings.chroma_timeout_seconds)

    @contextlib.contextmanager
    def _reaching_server(self) -> Iterator[None]:
        """A server that went away after `connect` gives the same one-line StoreError.

        Only the reads a question makes are wrapped: without this, a question asked while
        the server is down surfaced as a raw httpx.ConnectError (a traceback in the app).
        No state is kept, so the next call after the server returns simply works.
        """
        try:
            yield
        except httpx.TransportError as err:  # refused, reset, timed out, cut mid-response
            raise _unreachable(self.chroma_url or "", err) from None
        except (chromadb.errors.InternalError, sqlite3.DatabaseError) as err:
            if self.chroma_url:
                raise
            raise damaged(self.path, err) from None

    # -- the pointer --------------------------------------------------------------
    def _registry(self):
        return self._client.get_or_create_collection(
            REGISTRY, metadata={"created_at": _now()}, embedding_function=None
        )

    def current(self) -> Publication | None:
        try:
            meta = self._registry().metadata or {}
        except httpx.TransportError as err:  # the server, not the store, is the problem
            raise _unreachable(self.chroma_url or "", err) from None
        except StoreError:
            raise
        except Exception as err:
            if self.chroma_url:
                raise StoreError(
                    f"cannot read the index registry ({err}); is the store intact?"
                ) from None
            raise damaged(self.path, err) from None
        if not meta.get("current"):
            return None
        return Publication(
            meta["current"],
            meta.get("corpus_kind", "unknown"),
            meta.get("published_at", ""),
            meta.get("pipeline", ""),
        )

    def publish(self, generation: str, corpus_kind: str, pipeline: str) -> None:
        """The atomic switch: one metadata update of the registry."""
        registry = self._registry()
        meta = dict(registry.metadata or {})
        meta.update(
            current=generation, corpus_kind=corpus_kind, published_at=_now(), pipeline=pipeline
        )
        registry.modify(metadata=meta)

    # -- generations ------------------------------------------------------------------
    def generations(self) -> list[str]:
        names = [c.name if hasattr(c, "name") else str(c) for c in self._client.list_collections()]
        return sorted(n[len(_CHUNKS) :] for n in names if n.startswith(_CHUNKS))

    def create_generation(self) -> str:
        generation = "g" + datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
        self._chunks(generation, create=True)
        self._docs(generation, create=True)
        return generation

    def drop_generation(self, generation: str) -> None:
        for prefix in (_CHUNKS, _DOCS):
            # Already gone is fine: dropping is idempotent.
            with contextlib.suppress(Exception):
                self._client.delete_collection(prefix + generation)

    def remove_orphan_folders(self) -> list[str]:
        """Delete the on-disk folders of dropped collections; the names removed.

        Chroma keeps a collection's vector index in a folder named by its segment id and
        leaves it behind when the collection is deleted: every refresh left one more. Only
        for a local store; call it under the refresh lock (no collection is being made).
        """
        if self.chroma_url or self._connected is None:
            return []
        database = self.path / "chroma.sqlite3"
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
            ) as connection:
                live = {str(row[0]) for row in connection.execute("SELECT id FROM segments")}
        except sqlite3.Error:
            return []  # cannot tell what is live: remove nothing
        removed = []
        for folder in self.path.iterdir():
            if folder.is_dir() and _is_uuid(folder.name) and folder.name not in live:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed

    def _chunks(self, generation: str, create: bool = False):
        if create:
            return self._client.create_collection(
                _CHUNKS + generation,
                configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
                embedding_function=None,
            )
        return self._client.get_collection(_CHUNKS + generation, embedding_function=None)

    def _docs(self, generation: str, create: bool = False):
        if create:
            return self._client.create_collection(_DOCS + generation, embedding_function=None)
        return self._client.get_collection(_DOCS + generation, embedding_function=None)

    # -- documents ----------------------------------------------------------------------
    def documents(self, generation: str) -> list[DocumentRecord]:
        with self._reaching_server():
            got = self._docs(generation).get(include=["metadatas"])
        records = [
            DocumentRecord(
                doc_id=doc_id,
                source=m["source"],
                title=m["title"],
                version=m.get("version", ""),
                format=m["format"],
                pages=m.get("pages"),
                chunks=m["chunks"],
                sha256=m["sha256"],
                ingested_at=m["ingested_at"],
            )
            for doc_id, m in zip(got["ids"], got["metadatas"], strict=True)
        ]
        return sorted(records, key=lambda r: r.source)

    def put_documents(self, generation: str, records: Sequence[DocumentRecord]) -> None:
        if not records:
            return
        metadatas = []
        for record in records:
            meta = {k: v for k, v in record.to_dict().items() if v is not None and k != "doc_id"}
            metadatas.append(meta)
        self._docs(generation).upsert(
            ids=[r.doc_id for r in records],
            metadatas=metadatas,
            embeddings=[_PLACEHOLDER_VECTOR] * len(records),
        )

    # -- chunks ---------------------------------------------------------------------
    def add_chunks(
        self, generation: str, chunks: Sequence[tuple[Chunk, DocumentRecord]], vectors: np.ndarray
    ) -> None:
        """Add (chunk, its document's record) pairs with their embeddings."""
        collection = self._chunks(generation)
        for start in range(0, len(chunks), self._batch):
            batch = chunks[start : start + self._batch]
            collection.upsert(
                ids=[c.id for c, _ in batch],
                embeddings=vectors[start : start + self._batch],
                documents=[c.text for c, _ in batch],
                metadatas=[_chunk_metadata(c, record) for c, record in batch],
            )

    def copy_documents(
        self, source_generation: str, target_generation: str, doc_ids: list[str]
    ) -> list[tuple[str, str, str]]:
        """Carry unchanged documents' chunks over with their embeddings: no re-embedding.

        Returns (chunk id, title section text, language) rows for the keyword index.
        """
        source = self._chunks(source_generation)
        target = self._chunks(target_generation)
        rows: list[tuple[str, str, str]] = []
        for start in range(0, len(doc_ids), 50):
            where = {"doc_id": {"$in": doc_ids[start : start + 50]}}
            got = source.get(where=where, include=["embeddings", "documents", "metadatas"])
            for offset in range(0, len(got["ids"]), self._batch):
                end = offset + self._batch
                target.upsert(
                    ids=got["ids"][offset:end],
                    embeddings=got["embeddings"][offset:end],
                    documents=got["documents"][offset:end],
                    metadatas=got["metadatas"][offset:end],
                )
            rows += [
                (i, f"{m['title']} {m['section']} {text}", m.get("language", ""))
                for i, text, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
            ]
        return rows

    def count_chunks(self, generation: str) -> int:
        return self._chunks(generation).count()

    def iter_chunks(self, generation: str, page_size: int = 5000) -> Iterator[StoredChunk]:
        with self._reaching_server():
            collection = self._chunks(generation)
        offset = 0
        while True:
            with self._reaching_server():
                got = collection.get(
                    include=["documents", "metadatas"], limit=page_size, offset=offset
                )
            if not got["ids"]:
                return
            for chunk_id, text, meta in zip(
                got["ids"], got["documents"], got["metadatas"], strict=True
            ):
                yield _stored_chunk(chunk_id, text, meta)
            offset += len(got["ids"])

    def query(self, generation: str, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """Nearest chunks as (id, cosine similarity), best first."""
        with self._reaching_server():
            collection = self._chunks(generation)
            result = collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(result["ids"][0], result["distances"][0], strict=True)]

    def widen_search(self, generation: str) -> None:
        """Give a generation built before SEARCH_EF existed its wider search (a setting of
        the collection, which Chroma lets change in place; its vectors are untouched)."""
        with self._reaching_server():
            collection = self._chunks(generation)
            hnsw = (collection.configuration or {}).get("hnsw") or {}
            if hnsw.get("ef_search", 0) < SEARCH_EF:
                collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})

    def embeddings(self, generation: str, ids: list[str]) -> dict[str, np.ndarray]:
        with self._reaching_server():
            got = self._chunks(generation).get(ids=ids, include=["embeddings"])
        return {
            i: np.asarray(v, dtype=np.float32)
            for i, v in zip(got["ids"], got["embeddings"], strict=True)
        }

    def wait_until_readable(self, generation: str, attempts: int = 50) -> None:
        """Block until a generation's collections answer; a server may lag a moment."""
        for _ in range(attempts):
            try:
                self._chunks(generation).count()
                return
            except Exception:
                time.sleep(0.1)
        raise StoreError(f"generation {generation} did not become readable")


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def _chunk_metadata(chunk: Chunk, document: DocumentRecord) -> dict:
    meta = {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "title": chunk.title,
        "section": chunk.section,
        "ordinal": chunk.ordinal,
        "sha256": document.sha256,
        "ingested_at": document.ingested_at,
    }
    if chunk.page is not None:  # Chroma metadata cannot hold None
        meta["page"] = chunk.page
    if chunk.language:
        meta["language"] = chunk.language
    return meta


def _stored_chunk(chunk_id: str, text: str, meta: dict) -> StoredChunk:
    return StoredChunk(
        id=chunk_id,
        doc_id=meta["doc_id"],
        source=meta["source"],
        title=meta["title"],
        page=meta.get("page"),
        section=meta["section"],
        text=text,
        ordinal=meta["ordinal"],
        language=meta.get("language", ""),
    )
