"""`/corpus/<source>`: the cited file, as it was indexed, shown and never run.

Only a document of the generation questions are answered from is served, and only while
the file still has the content it was indexed with (an upload waiting for the next refresh
is not served, nor is any other file of the folder). The file is opened once, hashed and
streamed from that one handle, so a rename between the check and the read changes nothing.

Every document carries a Content-Security-Policy that lets it fetch nothing (no outside
stylesheet, image, font or frame, no script) and runs HTML in a sandbox with an opaque
origin; PDFs go to the browser's viewer, which the `sandbox` directive would block.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ingest.loaders import SUPPORTED_SUFFIXES

CHUNK_BYTES = 64 * 1024
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
PDF_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_MEDIA = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html"}
_hashes: dict[tuple, str] = {}  # (path, inode, mtime_ns, size) -> SHA-256: hash a file once
_hashes_lock = threading.Lock()
MAX_CACHED_HASHES = 4096

Lookup = Callable[[str], "tuple[Path, str] | None"]


def document_route(path_prefix: str, lookup: Lookup) -> Route:
    """The route; `lookup(source)` gives the indexed file and its SHA-256, or None."""

    async def document(request: Request) -> Response:
        source = request.path_params["source"]
        opened = await anyio.to_thread.run_sync(open_indexed, source, lookup)
        if opened is None:
            return PlainTextResponse(
                "Not a document of the index.",
                status_code=404,
                headers={"X-Content-Type-Options": "nosniff"},
            )
        handle, suffix, size = opened
        media = _MEDIA.get(suffix, "text/plain")
        headers = {
            "Content-Length": str(size),
            "Content-Security-Policy": PDF_CSP if suffix == ".pdf" else DOCUMENT_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        }
        if media != "application/pdf":
            media += "; charset=utf-8"
        if request.method == "HEAD":
            handle.close()
            return Response(b"", media_type=media, headers=headers)
        return StreamingResponse(_chunks(handle), media_type=media, headers=headers)

    return Route(f"/{path_prefix}/{{source:path}}", document, methods=["GET", "HEAD"])


def open_indexed(source: str, lookup: Lookup):
    """(open file, suffix, size) when `source` is served as it was indexed, else None."""
    try:
        found = lookup(source)
    except (OSError, ValueError):
        return None
    if found is None:
        return None
    path, sha256 = found
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return None
    try:
        handle = open(path, "rb", buffering=0)  # noqa: SIM115 - streamed, closed by _chunks
    except OSError:
        return None
    try:
        info = os.fstat(handle.fileno())
        if _sha256(handle, (str(path), info.st_ino, info.st_mtime_ns, info.st_size)) != sha256:
            handle.close()
            return None
        handle.seek(0)
    except OSError:
        handle.close()
        return None
    return handle, suffix, info.st_size


def _sha256(handle, key: tuple) -> str:
    with _hashes_lock:
        if key in _hashes:
            return _hashes[key]
    digest = hashlib.sha256()
    while block := handle.read(1024 * 1024):
        digest.update(block)
    hexdigest = digest.hexdigest()
    with _hashes_lock:
        if len(_hashes) >= MAX_CACHED_HASHES:
            _hashes.clear()
        _hashes[key] = hexdigest
    return hexdigest


def _chunks(handle) -> Iterator[bytes]:
    # A plain iterator: Starlette reads it in a worker thread, so the loop never blocks.
    try:
        while block := handle.read(CHUNK_BYTES):
            yield block
    finally:
        handle.close()
