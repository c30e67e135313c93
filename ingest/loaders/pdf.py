"""PDF with pypdf: one record per physical page, cleaned, with headings from the outline."""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PdfStreamError

from ingest.cleaning import join_hyphenated, normalize_whitespace, remove_running_text
from ingest.loaders.errors import LoadError
from ingest.loaders.text import title_from_name
from ingest.models import LoadedDocument
from ingest.structure import HeadingMatcher, blocks_from_pages, first_heading, is_placeholder_title
from ingest.worker import exit_with_parent

# pypdf logs every repairable oddity of real-world files; the user gets one line per file.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _open(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(
                "encrypted PDF; remove the password (save an unprotected copy) and add it again"
            )
        len(reader.pages)  # forces the page tree to be read, where truncation shows
        return reader
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError("encrypted PDF; remove the password and add it again") from None
    except (PdfReadError, PdfStreamError, ValueError, KeyError, TypeError, OSError) as err:
        raise LoadError(
            f"corrupt or truncated PDF ({err.__class__.__name__}); re-export or re-download it"
        ) from None
    except Exception as err:  # pypdf raises assorted errors on damaged files
        raise LoadError(
            f"corrupt or truncated PDF ({err.__class__.__name__}); re-export or re-download it"
        ) from None


def _outline(reader: PdfReader) -> list[tuple[int, str]]:
    entries: list[tuple[int, str]] = []

    def walk(items: list, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            elif getattr(item, "title", None):
                entries.append((level, str(item.title).strip()))

    try:
        walk(reader.outline, 1)
    except Exception:  # a damaged outline only costs us headings
        return []
    return entries


# pypdf's text extraction is pure Python (~18 ms a page). From this many pages on, a second
# process extracts the second half while this one extracts the first: the machine's second
# core would otherwise sit idle until the first chunks reach the encoder. That process is
# spawned, not forked (this one runs threads: a watchdog at least, see ingest/worker.py),
# which costs about half a second of start-up, hence the threshold; and it exits when this
# one does, so a `kill -9` of `ingest` mid-extraction leaves nothing behind.
PARALLEL_FROM_PAGES = 60


def _page_texts(reader: PdfReader, path: Path) -> list[str]:
    count = len(reader.pages)
    if count < PARALLEL_FROM_PAGES or (os.cpu_count() or 1) < 2:
        return _extract_range(reader, 0, count)
    middle = count // 2
    spawn = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(1, mp_context=spawn, initializer=exit_with_parent) as pool:
            second_half = pool.submit(_extract_file_range, str(path), middle, count)
            first_half = _extract_range(reader, 0, middle)
            return first_half + second_half.result()
    except Exception:  # a worker that cannot start or dies: do it all here
        return _extract_range(reader, 0, count)


def _extract_file_range(path: str, start: int, stop: int) -> list[str]:
    reader = PdfReader(path, strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    return _extract_range(reader, start, stop)


def _extract_range(reader: PdfReader, start: int, stop: int) -> list[str]:
    texts = []
    for index in range(start, stop):
        try:
            texts.append(reader.pages[index].extract_text() or "")
        except Exception:  # one unreadable page should not cost the document
            texts.append("")
    return texts


def _metadata_title(reader: PdfReader, file_name: str) -> str:
    try:
        title = (reader.metadata or {}).get("/Title")
    except Exception:
        return ""
    title = " ".join(str(title or "").split())[:200]
    # Producers often leave "Untitled", "about:blank" (a page printed from a browser) or a
    # file name in /Title: the first heading names the document better.
    return "" if is_placeholder_title(title, file_name) else title


def load_pdf(path: Path, source: str, sha256: str) -> LoadedDocument:
    reader = _open(path)
    pages = join_hyphenated([normalize_whitespace(text) for text in _page_texts(reader, path)])
    if not any(text.strip() for text in pages):
        raise LoadError("no extractable text; OCR is not supported (scanned or image-only PDF)")
    pages = remove_running_text(pages)
    matcher = HeadingMatcher(_outline(reader))
    lines = [line for text in pages[:3] for line in text.split("\n") if line]
    first_line = lines[0] if lines else ""
    title = (
        _metadata_title(reader, source)
        # An outline's first heading is the document's title more often than not; numbered
        # headings found by pattern ("1 Introduction") are not, and the first line is.
        or (first_heading(lines, matcher)[:120] if matcher.uses_outline else "")
        or first_line[:120]
        or title_from_name(path)
    )
    blocks = blocks_from_pages(
        [(number, text.split("\n")) for number, text in enumerate(pages, start=1)], title, matcher
    )
    return LoadedDocument(
        source=source,
        path=path,
        title=title,
        format="pdf",
        sha256=sha256,
        page_count=len(pages),
        blocks=blocks,
    )
