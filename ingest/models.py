"""Plain dataclasses passed between the ingestion stages (never a Chroma type)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Block:
    """Text under one heading path on one page: the unit the chunker splits."""

    text: str
    page: int | None  # 1-based physical PDF page; None for formats without pages
    section: str  # heading path, e.g. "3 Principles > 3.4 Fairness"


@dataclass
class LoadedDocument:
    """A document read and cleaned by a loader."""

    source: str  # path relative to the ingested root, with forward slashes
    path: Path
    title: str
    format: str  # pdf | markdown | html | text
    sha256: str
    page_count: int | None
    blocks: list[Block]
    version: str = ""
    language: str = ""  # en | fr | es | ar: the manifest's, else detected at ingest


@dataclass(frozen=True)
class Chunk:
    """A passage as stored: `text` is what citations quote, `embed_text` what was embedded."""

    id: str
    doc_id: str
    source: str
    title: str
    page: int | None
    section: str
    text: str
    embed_text: str
    ordinal: int
    language: str = ""  # its document's


@dataclass(frozen=True)
class DocumentRecord:
    """One ingested document version, as `status` lists it."""

    doc_id: str
    source: str
    title: str
    version: str
    format: str
    pages: int | None
    chunks: int
    sha256: str
    ingested_at: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class FailedFile:
    source: str
    error: str


@dataclass
class RefreshReport:
    """What one `ingest` run did; `to_dict` is the `--json` contract."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)
    documents: int = 0
    pages: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    # Source -> (SHA-256 before, after) for each document added, replaced or removed: what the
    # audit trail records. Taken under the refresh lock, so no other refresh can slip between
    # the two. Not part of the `--json` contract.
    sha256_changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    # The multilingual encoder's share (ingest/multilingual.py), for bench/ingest.py; not
    # part of the `--json` contract.
    multilingual_embedded: int = 0
    multilingual_seconds: float = 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("sha256_changes")
        data.pop("multilingual_embedded")
        data.pop("multilingual_seconds")
        data["seconds"] = round(self.seconds, 3)
        return data


def document_id(source: str) -> str:
    """Stable across versions: derived from the source path only."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def chunk_id(source: str, page: int | None, embed_text: str) -> str:
    """Stable and content-addressed: the same text at the same place keeps its id."""
    digest = hashlib.sha256(f"{source}\x00{page}\x00{embed_text}".encode()).hexdigest()
    return digest[:24]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
