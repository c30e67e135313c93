"""`corpus/manifest.toml`: titles, versions and origins of the corpus documents.

The manifest is optional; when a folder has one, ingest takes titles and versions from it,
and the corpus kind (sample, official or mixed) from the origins of what is loaded.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_NAME = "manifest.toml"


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class ManifestEntry:
    title: str
    file: str | None = None
    version: str = ""
    date: str = ""
    kind: str = ""  # toolkit | policy
    origin: str = "sample"  # "sample", or the official URL
    licence: str = ""
    bundled: bool = True
    language: str = ""  # en | fr | es | ar; detected from the text when not given


@dataclass
class Manifest:
    entries: list[ManifestEntry] = field(default_factory=list)

    def for_file(self, name: str) -> ManifestEntry | None:
        return next((e for e in self.entries if e.file == name), None)

    @property
    def bundled(self) -> list[ManifestEntry]:
        return [e for e in self.entries if e.bundled and e.file]


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return Manifest()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = [ManifestEntry(**raw) for raw in data.get("documents", [])]
    except (tomllib.TOMLDecodeError, TypeError, UnicodeDecodeError) as err:
        raise ManifestError(f"{path}: {err}; fix the file or remove it") from None
    return Manifest(entries)


def corpus_kind(origins: list[str]) -> str:
    """sample when every document is a sample, official when none is, else mixed."""
    if not origins:
        return "empty"
    samples = sum(1 for origin in origins if origin == "sample")
    if samples == len(origins):
        return "sample"
    return "official" if samples == 0 else "mixed"
