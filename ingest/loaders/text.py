"""Plain text: decoded as UTF-8, numbered headings recognised like in PDFs."""

from __future__ import annotations

from pathlib import Path

from ingest.cleaning import normalize_whitespace
from ingest.loaders.errors import LoadError
from ingest.models import LoadedDocument
from ingest.structure import HeadingMatcher, blocks_from_pages


def read_utf8(path: Path) -> str:
    """The file's text; a clear error instead of a UnicodeDecodeError."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LoadError(
            f"not valid UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start}); "
            "save the file as UTF-8"
        ) from None


def title_from_name(path: Path) -> str:
    return path.stem.replace("_", " ").replace("-", " ").strip().capitalize() or path.name


def load_text(path: Path, source: str, sha256: str) -> LoadedDocument:
    lines = normalize_whitespace(read_utf8(path)).split("\n")
    first = next((line for line in lines if line), "")
    title = first if 0 < len(first) <= 120 else title_from_name(path)
    blocks = blocks_from_pages([(None, lines)], title, HeadingMatcher())
    return LoadedDocument(
        source=source,
        path=path,
        title=title,
        format="text",
        sha256=sha256,
        page_count=None,
        blocks=blocks,
    )
