"""One loader per format; `load_document` picks one by the file's content, not its name.

`load_in_worker` is how the pipeline calls it: in a child process, under a time budget
(see ingest/worker.py), so that no document holds up the process that asked for it.
"""

from __future__ import annotations

from pathlib import Path

from ingest.loaders.errors import LoadError
from ingest.models import LoadedDocument, file_sha256
from ingest.worker import Worker, WorkerDiedError, WorkerTimeoutError

SUPPORTED_SUFFIXES = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}

# The default of the setting `ingest.load_seconds`, for callers without settings. A literal:
# the reading child imports this module, and pydantic-settings would add to its start-up.
LOAD_SECONDS = 300.0

__all__ = [
    "LOAD_SECONDS",
    "LoadError",
    "SUPPORTED_SUFFIXES",
    "detect_format",
    "load_document",
    "load_in_worker",
    "run_in_worker",
]


def detect_format(path: Path, head: bytes) -> str:
    """The format by content; a name that disagrees with the content is an error."""
    expected = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if expected is None:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise LoadError(
            f"unsupported file type '{path.suffix or path.name}'; supported: {supported}"
        )
    if not head:
        raise LoadError("empty file (0 bytes)")
    is_pdf = head.lstrip()[:5] == b"%PDF-"
    if expected == "pdf" and not is_pdf:
        raise LoadError(
            "not a PDF: the content does not start with %PDF-; is the file truncated or misnamed?"
        )
    if expected != "pdf" and is_pdf:
        raise LoadError(
            f"the content is a PDF but the name ends in {path.suffix}; rename it to .pdf"
        )
    if expected != "pdf" and b"\x00" in head:
        raise LoadError(f"binary content in a {path.suffix} file; only text is supported")
    return expected


def load_document(path: Path, source: str, max_file_mb: float) -> LoadedDocument:
    """Read, clean and structure one file. Raises LoadError with a one-line reason."""
    size = path.stat().st_size
    if size > max_file_mb * 1024 * 1024:
        raise LoadError(
            f"file is {size / 1048576:.1f} MB, over the {max_file_mb:g} MB limit "
            "(setting ingest.max_file_mb)"
        )
    with path.open("rb") as handle:
        head = handle.read(4096)
    kind = detect_format(path, head)
    sha256 = file_sha256(path)
    if kind == "pdf":
        from ingest.loaders.pdf import load_pdf as loader
    elif kind == "markdown":
        from ingest.loaders.markdown import load_markdown as loader
    elif kind == "html":
        from ingest.loaders.html import load_html as loader
    else:
        from ingest.loaders.text import load_text as loader
    document = loader(path, source=source, sha256=sha256)
    if not any(block.text.strip() for block in document.blocks):
        raise LoadError("no extractable text" + ("; OCR is not supported" if kind == "pdf" else ""))
    return document


def run_in_worker(worker: Worker, seconds: float, function, *args):
    """`function(*args)` in `worker`; a LoadError (one line) when it runs out of time or dies."""
    try:
        return worker.call(seconds, function, *args)
    except WorkerTimeoutError:
        raise LoadError(
            f"reading the file took longer than {seconds:g} s and was stopped; a file that "
            "slow to read is damaged or built to be slow: re-export it (or split it) and add "
            "it again"
        ) from None
    except WorkerDiedError as err:
        raise LoadError(f"reading the file failed ({err}); re-export it and add it again") from None


def load_in_worker(
    worker: Worker, path: Path, source: str, max_file_mb: float, seconds: float = LOAD_SECONDS
) -> LoadedDocument:
    """`load_document` in `worker`'s child process, stopped after `seconds`."""
    return run_in_worker(worker, seconds, load_document, path, source, max_file_mb)
