"""Admit one uploaded file into the corpus folder, or refuse it with one line.

Every check runs on a private copy before the corpus folder is touched: the size, the type
by content, a safe name, no duplicate, a page limit, and a trial load by the same loader
`ingest` uses (so an encrypted, truncated or image-only file is refused here, with the
reason `ingest` would give). Only then is the file written, under a hidden temporary name
that `ingest` skips, and moved into place in one rename, so the corpus never holds half a
file and a refused upload leaves it exactly as it was.

Decisions:
- The content decides the type; a name whose extension disagrees with it is refused, not
  renamed (a PDF sent as `notes.txt`): `ingest` refuses the same file with the same words,
  and a silent rename would change the name officers see in citations. A name without an
  extension gets the one that matches the content.
- Names are made safe rather than refused where that is harmless (spaces, accents,
  punctuation become `-`), but anything path-like is refused outright: `..`, `/`, `\\`,
  absolute paths and NUL.
- PDFs over `MAX_UPLOAD_PAGES` pages are refused before their text is extracted: a
  2,000-page file would occupy the shared CPU for minutes while officers ask questions.
  Such a document can still be ingested at the shell (`toolkit-assistant ingest`).
- The page count and the trial load run in a child process, stopped after
  `ingest.upload_check_seconds` (see ingest/worker.py): a 10 KB PDF whose 30 pages share one
  2 MB content stream took 169 s in-process, holding the admin tab for everyone.
- Names are compared as people read them: NFKC-normalised and case-insensitively, so
  `Policy.md`, `policy.md` and a full-width `Ｐolicy.md` are one name. An upload whose name
  matches an existing file that way is a new version of that file (under its existing
  name), never a second file beside it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ingest.durable import fsync_folder
from ingest.loaders import SUPPORTED_SUFFIXES, LoadError, load_document, run_in_worker
from ingest.manifest import MANIFEST_NAME
from ingest.models import LoadedDocument, file_sha256
from ingest.worker import Worker

MAX_UPLOAD_PAGES = 1000
# The default of the setting `ingest.upload_check_seconds`, for callers without settings.
UPLOAD_CHECK_SECONDS = 60.0
MAX_STEM_CHARS = 100
SNIFF_BYTES = 8192
# The loaders read three kinds of content; Markdown and plain text are both "text" here.
_CONTENT_OF_FORMAT = {"pdf": "pdf", "html": "html", "markdown": "text", "text": "text"}
_SUFFIX_FOR_CONTENT = {"pdf": ".pdf", "html": ".html", "text": ".txt"}
_CONTENT_NAMES = {"pdf": "a PDF", "html": "an HTML page", "text": "plain text"}
_BINARY_SIGNATURES = [
    (b"PK\x03\x04", "a ZIP archive (a Word, Excel or OpenDocument file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office document (.doc, .xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
]
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
SUPPORTED_TEXT = "PDF, Markdown (.md), HTML (.html) and plain text (.txt)"


class UploadError(ValueError):
    """The upload was refused; the message (one line) says why and what to do."""


@dataclass(frozen=True)
class UploadResult:
    """A file now in the corpus folder, waiting for the next refresh to index it."""

    name: str  # its file name in the corpus: the `source` its citations will show
    path: Path
    format: str  # pdf | markdown | html | text
    sha256: str
    title: str
    pages: int | None
    replaced_sha256: str | None  # the earlier file of that name, when one was replaced


def sniff_content(head: bytes) -> str:
    """ "pdf", "html" or "text" from the first bytes; UploadError for anything else."""
    if not head:
        raise UploadError("empty file (0 bytes); choose the document itself")
    if head.lstrip()[:5] == b"%PDF-":
        return "pdf"
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UploadError(
                f"the content is {what}, not a document the assistant reads; "
                f"supported: {SUPPORTED_TEXT} (save it as PDF first)"
            )
    if b"\x00" in head:
        raise UploadError(f"binary content, not a document the assistant reads; {_supported()}")
    if _HTML_START.search(head[:2048]):
        return "html"
    return "text"


def _supported() -> str:
    return f"supported: {SUPPORTED_TEXT}"


def safe_name(original_name: str, content: str) -> str:
    """The corpus file name for an upload of `content` ("pdf", "html" or "text").

    Path-like names are refused; other characters outside [A-Za-z0-9._-] become `-`; the
    extension must match the content (see the module docstring).
    """
    name = (original_name or "").strip()
    if not name:
        raise UploadError("the file has no name; give it one, such as policy.pdf")
    if "\x00" in name:
        raise UploadError("the file name contains a NUL character; rename the file")
    if name.startswith(("/", "\\")) or _WINDOWS_DRIVE.match(name):
        raise UploadError(f"absolute paths are refused ({name!r}); upload the file by its name")
    if ".." in name:
        raise UploadError(f"'..' is refused in a file name ({name!r}); rename the file")
    if "/" in name or "\\" in name:
        raise UploadError(
            f"folder separators ('/', '\\') are refused in a file name ({name!r}); "
            "upload the file by its name"
        )
    ascii_name = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    )
    stem, dot, suffix = ascii_name.rpartition(".")
    if not dot or not stem.strip(" ._-"):  # "report" or ".bashrc": no extension
        stem, suffix = ascii_name, ""
    stem = _UNSAFE.sub("-", stem)
    stem = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", stem)).strip("._-")[:MAX_STEM_CHARS]
    stem = stem.strip("._-")
    if not stem:
        raise UploadError(
            f"the name {name!r} has no letters or digits to keep; rename the file, "
            "such as policy.pdf"
        )
    if not suffix:
        return stem + _SUFFIX_FOR_CONTENT[content]
    suffix = "." + suffix.lower()
    expected = SUPPORTED_SUFFIXES.get(suffix)
    if expected is None:
        raise UploadError(f"unsupported file type '{suffix}'; {_supported()}")
    named = _CONTENT_OF_FORMAT[expected]
    # Any text is acceptable HTML (the loader keeps the visible text), not the other way.
    if named != content and not (named == "html" and content == "text"):
        if named == "pdf":
            raise UploadError(
                f"the name ends in {suffix} but the content is {_CONTENT_NAMES[content]}, "
                "not a PDF; upload the PDF itself, or a file named for what it holds"
            )
        raise UploadError(
            f"the content is {_CONTENT_NAMES[content]} but the name ends in {suffix}; "
            f"rename it to {_SUFFIX_FOR_CONTENT[content]} and upload it again"
        )
    return stem + suffix


def corpus_files(corpus: Path) -> list[Path]:
    """The documents `ingest` would find in the corpus folder (hidden files and manifest aside)."""
    if not corpus.is_dir():
        return []
    return sorted(
        path
        for path in corpus.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(corpus).parts)
        and path.name != MANIFEST_NAME
    )


def _duplicate_of(copy: Path, sha256: str, corpus: Path) -> str | None:
    size = copy.stat().st_size
    for path in corpus_files(corpus):
        try:
            if path.stat().st_size == size and file_sha256(path) == sha256:
                return path.relative_to(corpus).as_posix()
        except OSError:
            continue
    return None


def _pdf_pages(path: Path) -> int | None:
    """The page count from the page tree alone; None when pypdf cannot tell (the loader will)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            return None
        return len(reader.pages)
    except Exception:  # damaged files: the trial load gives the one-line reason
        return None


def _copy_limited(source: Path, target: Path, max_mb: float) -> None:
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 1 << 20)
        if writer.tell() > max_mb * 1048576:  # the file grew after it was measured
            raise UploadError(_size_message(writer.tell(), max_mb))


def _size_message(size: int, max_mb: float) -> str:
    shown = f"{size / 1048576:,.1f} MB" if size >= 104858 else f"{size:,} bytes"
    return f"the file is {shown}, over the {max_mb:g} MB limit (setting ingest.max_file_mb)"


def check_file(copy: Path, name: str, content: str, max_mb: float, max_pages: int):
    """The page limit and a trial load; runs in the worker. UploadError when refused."""
    if content == "pdf":
        pages = _pdf_pages(copy)
        if pages is not None and pages > max_pages:
            raise UploadError(
                f"the PDF has {pages:,} pages; uploads are limited to {max_pages:,} pages. "
                "Split it, or ingest it at the shell with `toolkit-assistant ingest`"
            )
    try:
        return load_document(copy, name, max_mb)
    except LoadError as err:
        raise UploadError(str(err)) from None
    except Exception as err:  # a loader bug must still read as a refusal, not a traceback
        raise UploadError(
            f"the file cannot be read ({err.__class__.__name__}); re-export it and try again"
        ) from None


def _checked(
    copy: Path, name: str, content: str, max_mb: float, max_pages: int, seconds: float
) -> LoadedDocument:
    with Worker() as worker:
        try:
            return run_in_worker(
                worker, seconds, check_file, copy, name, content, max_mb, max_pages
            )
        except LoadError as err:  # out of time, or the reading process died
            raise UploadError(str(err)) from None


def save_upload(
    data_path: Path,
    original_name: str,
    corpus: Path,
    max_mb: float,
    *,
    replace: bool = False,
    max_pages: int = MAX_UPLOAD_PAGES,
    check_seconds: float = UPLOAD_CHECK_SECONDS,
) -> UploadResult:
    """Check the file at `data_path` and write it into `corpus` as a safe version of its name.

    Raises UploadError (one line) and writes nothing when any check fails. With `replace`,
    a different file of the same name is replaced (a new version); without it, refused.
    """
    try:
        size = Path(data_path).stat().st_size
    except OSError as err:
        raise UploadError(f"the uploaded file cannot be read ({err.strerror})") from None
    if size > max_mb * 1048576:
        raise UploadError(_size_message(size, max_mb))
    with tempfile.TemporaryDirectory(prefix="toolkit-upload-") as staging:
        # Checks and the final write use one private copy, so nothing can swap it between.
        raw = Path(staging) / "upload"
        _copy_limited(Path(data_path), raw, max_mb)
        with raw.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        content = sniff_content(head)
        name = safe_name(original_name, content)
        sha256 = file_sha256(raw)
        root = corpus.resolve()
        duplicate = _duplicate_of(raw, sha256, root)
        if duplicate == name:
            raise UploadError(f"{name} is already in the corpus with exactly this content")
        if duplicate:
            raise UploadError(f"the same file is already in the corpus as {duplicate}")
        name = _same_name_in(root, name, replace)
        target = root / name
        replaced = _existing(target, root, name, replace)
        copy = Path(staging) / name  # the loaders choose by extension, and check it too
        raw.rename(copy)
        document = _checked(copy, name, content, max_mb, max_pages, check_seconds)
        _write_into(copy, target, root, replace)
    return UploadResult(
        name=name,
        path=target,
        format=document.format,
        sha256=sha256,
        title=document.title,
        pages=document.page_count,
        replaced_sha256=replaced,
    )


def name_key(name: str) -> str:
    """What makes two file names the same to a reader: NFKC form, case folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def _same_name_in(root: Path, name: str, replace: bool) -> str:
    """`name`, or the spelling of the corpus file it matches apart from case and width."""
    if not root.is_dir():
        return name
    key = name_key(name)
    for existing in root.iterdir():
        if existing.name != name and name_key(existing.name) == key:
            if not replace:
                raise UploadError(
                    f"a file named {existing.name} is already in the corpus (the names differ "
                    f"only in case or width: {name}); choose 'replace' to upload a new version "
                    "of it, or rename the file"
                )
            return existing.name
    return name


def _existing(target: Path, root: Path, name: str, replace: bool) -> str | None:
    """The SHA-256 of the file `target` would replace; UploadError when it may not."""
    if target.resolve().parent != root:  # a symbolic link in the corpus pointing elsewhere
        raise UploadError(f"{name} in the corpus is a link to somewhere else; remove it first")
    if not target.exists():
        return None
    if not target.is_file():
        raise UploadError(f"{name} in the corpus is a folder; rename the file")
    if not replace:
        raise UploadError(
            f"a different file named {name} is already in the corpus; choose 'replace' to "
            "upload a new version of it, or rename the file"
        )
    return file_sha256(target)


def _write_into(copy: Path, target: Path, root: Path, replace: bool) -> None:
    """Write beside the target under a hidden name (skipped by `ingest`), then rename."""
    root.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=root, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as writer, copy.open("rb") as reader:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
        os.chmod(temporary, 0o644)
        if replace:
            os.replace(temporary, target)
        else:
            _link_new(Path(temporary), target)
    except OSError as err:
        raise UploadError(f"cannot write into the corpus folder ({err.strerror})") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    fsync_folder(root)


def _link_new(temporary: Path, target: Path) -> None:
    """Give the file its name unless the name was taken meanwhile: never overwrite by accident."""
    try:
        os.link(temporary, target)
    except FileExistsError:
        raise UploadError(
            f"a file named {target.name} appeared in the corpus meanwhile; try again"
        ) from None
    except OSError:  # a file system without hard links: check, then rename
        if target.exists():
            raise UploadError(
                f"a file named {target.name} appeared in the corpus meanwhile; try again"
            ) from None
        os.replace(temporary, target)
