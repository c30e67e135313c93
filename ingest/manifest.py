"""`corpus/manifest.toml`: titles, versions and origins of the corpus documents.

The manifest is optional; when a folder has one, ingest takes titles and versions from it,
and the corpus kind from what is loaded: official documents (origin: the official URL),
the agency's own (`kind = "agency"`, which uploads through the admin tab get, or no entry
at all) and the project's samples (origin "sample"), alone or together.

Staff edit titles and versions from the admin tab (`set_entry`): the file is rewritten with
tomlkit, so its comments and layout stay, in one atomic rename.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomlkit

from ingest.durable import fsync_folder

MANIFEST_NAME = "manifest.toml"
AGENCY = "agency"
# The groups a corpus is made of, in the order the banner names them.
GROUPS = ("official", AGENCY, "sample")
MAX_TITLE_CHARS = 200
MAX_VERSION_CHARS = 60
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ManifestError(ValueError):
    """The manifest cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class ManifestEntry:
    title: str
    file: str | None = None
    version: str = ""
    date: str = ""
    kind: str = ""  # toolkit | policy | agency (a document of the agency's own)
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


def document_group(entry: ManifestEntry | None) -> str:
    """official, agency or sample: what a document is, for the corpus banner.

    A file the manifest does not list was added locally, so it counts as the agency's own:
    calling it official would claim more than anyone checked.
    """
    if entry is None or entry.kind == AGENCY or entry.origin == AGENCY:
        return AGENCY
    return "sample" if entry.origin == "sample" else "official"


def corpus_kind(groups: list[str]) -> str:
    """The groups present, joined by "+" in `GROUPS` order: "official+sample", "agency"..."""
    if not groups:
        return "empty"
    present = set(groups)
    return "+".join(g for g in GROUPS if g in present) or "unknown"


def clean_label(value: str, limit: int, what: str) -> str:
    """A title or version as typed by staff: one line, no control characters, bounded."""
    text = " ".join(_CONTROL.sub(" ", (value or "")[: limit * 4]).split())
    if len(text) > limit:
        raise ManifestError(f"the {what} is {len(text):,} characters; at most {limit} please")
    return text


def set_entry(folder: Path, file: str, **fields: str) -> None:
    """Create or update the `[[documents]]` entry of `file`, keeping the rest of the file.

    Written beside the manifest and renamed over it: a crash leaves the old or the new one.
    """
    path = folder / MANIFEST_NAME
    read_manifest(folder)  # refuse to rewrite a file that does not parse
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as err:
        raise ManifestError(f"{path}: {err}; fix the file or remove it") from None
    if document is None:
        document = tomlkit.document()
        document.add(tomlkit.comment("The corpus manifest: one [[documents]] entry per document."))
    documents = document.get("documents")
    if documents is None:
        documents = tomlkit.aot()
        document["documents"] = documents
    entry = next((e for e in documents if e.get("file") == file), None)
    if entry is None:
        entry = tomlkit.table()
        entry["file"] = file
        documents.append(entry)
        entry = documents[-1]
    for key, value in fields.items():
        if key not in ManifestEntry.__dataclass_fields__ or key == "file":
            raise ValueError(f"not a manifest key: {key}")
        entry[key] = value
    _write_atomically(path, tomlkit.dumps(document))


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as err:
        raise ManifestError(f"cannot write {path} ({err.strerror})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    fsync_folder(path.parent)
