"""The admin tab as a Python API: corpus status, upload, remove and refresh, staff only.

The app only wires these methods to its widgets. Every method that changes the corpus
checks the role itself (the Gradio API can call a handler without the page, so the page
hiding a button proves nothing) and records the change in the audit trail.

Uploads and removals change the corpus folder; the index follows at the next refresh, which
publishes a new generation in one step while the chat keeps answering from the current one.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from assistant.access.audit import AuditLog, stored_hashes
from assistant.access.auth import User, UserStore
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.manifest import (
    AGENCY,
    MANIFEST_NAME,
    MAX_TITLE_CHARS,
    MAX_VERSION_CHARS,
    ManifestError,
    clean_label,
    read_manifest,
    set_entry,
)
from ingest.models import RefreshReport, file_sha256
from ingest.refresh import RefreshInProgressError, UsageError, refresh
from ingest.settings import Settings
from ingest.store import Store
from ingest.upload import UploadResult, corpus_files, save_upload

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
STATUS_COLUMNS = ("document", "title", "version", "pages", "chunks", "ingested_at")


class AdminError(ValueError):
    """An admin action was refused; the message (one line) says why and what to do."""


class WrongPasswordError(PermissionError):
    """The name and password match no account: a guess the login throttle counts."""


class Admin:
    """Corpus administration for staff; see the module docstring."""

    def __init__(self, settings: Settings, audit: AuditLog, users: UserStore | None = None):
        self.settings = settings
        self.audit = audit
        self.users = users or UserStore(settings.auth.users_file)
        self._refreshing = threading.Lock()  # one refresh at a time in this app
        self._writing = threading.Lock()  # uploads, removals and a refresh's start, in turn

    # -- who ------------------------------------------------------------------------------------
    def user(self, name: str | None) -> User | None:
        """The account called `name` as the users file says now (role changes count at once)."""
        if not name:
            return None
        return next((u for u in self.users.users() if u.name == name), None)

    def require_staff(self, user: User | None) -> User:
        """`user`, if the users file still lists them as staff; PermissionError otherwise."""
        if user is None:
            raise PermissionError("sign in with a staff account to use the admin tab")
        current = self.user(user.name)
        if current is None:
            raise PermissionError(f"the account {user.name} no longer exists; sign in again")
        if not current.is_staff:
            raise PermissionError(
                f"{current.name} is an {current.role} account; the admin tab needs a staff account"
            )
        return current

    def sign_in(self, name: str, password: str) -> User:
        """The staff user whose password this is; PermissionError (one line) otherwise."""
        if not self.users.has_users():
            raise PermissionError(
                "no accounts exist yet; create a staff account at the shell with "
                "`toolkit-assistant user add NAME --role staff`"
            )
        # No sleep on a wrong password: the caller's throttle (assistant.access.throttle)
        # refuses repeated guesses without a bcrypt check, which a sleep cannot do.
        user = self.users.verify((name or "").strip(), password or "")
        if user is None:
            raise WrongPasswordError("wrong user name or password")
        return self.require_staff(user)

    # -- status ----------------------------------------------------------------------------------
    def documents(self) -> list[dict]:
        """One row per indexed document, keyed by `STATUS_COLUMNS`, sorted by document."""
        store = Store.open(self.settings)
        current = store.current()
        if current is None:
            return []
        return [
            {
                "document": r.source,
                "title": r.title,
                "version": r.version,
                "pages": r.pages,
                "chunks": r.chunks,
                "ingested_at": r.ingested_at,
            }
            for r in store.documents(current.generation)
        ]

    def corpus_files(self) -> list[str]:
        """The documents in the corpus folder, as `source` names (what remove takes)."""
        root = self.settings.corpus
        return [p.relative_to(root).as_posix() for p in corpus_files(root)]

    def pending(self) -> list[tuple[str, str]]:
        """(source, "new" | "changed" | "deleted" | "unsupported"): the folder against the index."""
        indexed = stored_hashes(self.settings)
        changes = []
        on_disk = set()
        for source in self.corpus_files():
            on_disk.add(source)
            if Path(source).suffix.lower() not in SUPPORTED_SUFFIXES:
                changes.append((source, "unsupported"))
            elif source not in indexed:
                changes.append((source, "new"))
            elif _sha256_or_none(self.settings.corpus / source) != indexed[source]:
                changes.append((source, "changed"))
        changes += [(source, "deleted") for source in indexed if source not in on_disk]
        return sorted(changes)

    # -- changes -------------------------------------------------------------------------------
    def upload(
        self,
        user: User | None,
        path: Path,
        name: str,
        replace: bool = False,
        title: str = "",
        version: str = "",
    ) -> str:
        """Check and save one file into the corpus folder; the message for the page.

        The manifest gets its entry: `kind = "agency"`, and the title typed (else the one
        found in the file) and the version. The uploaded file (the web server's temporary
        copy) is removed whatever the outcome: a saved one has its copy in the corpus, and a
        refused one (wrong role, bad content) must not pile up on the server's disk; the page
        empties its upload box for a retry.
        """
        try:
            user = self.require_staff(user)
            title, version = _labels(title, version)
            self._readable_manifest()  # refuse before the file lands, not after

            def save() -> UploadResult:
                result = save_upload(
                    Path(path),
                    name,
                    self.settings.corpus,
                    self.settings.ingest.max_file_mb,
                    replace=replace,
                    check_seconds=self.settings.ingest.upload_check_seconds,
                )
                labels = {"title": title or result.title, "version": version}
                set_entry(self.settings.corpus, result.name, **labels, kind=AGENCY, origin=AGENCY)
                return result

            try:
                result = self._while_not_refreshing(save)
            except ManifestError as err:
                raise AdminError(f"the document was saved but its title was not ({err})") from None
        finally:
            _discard_upload(Path(path))
        self.audit.corpus_change(
            user.name, "upload", result.name, result.replaced_sha256, result.sha256
        )
        return _saved_message(result, name, title)

    def labels(self, source: str) -> tuple[str, str]:
        """(title, version) of a corpus document as the manifest has them ("" if unlisted)."""
        self._corpus_path(source)
        entry = self._readable_manifest().for_file(source.strip())
        return (entry.title, entry.version) if entry else ("", "")

    def set_labels(self, user: User | None, source: str, title: str, version: str) -> str:
        """Write a document's title and version to the manifest; the message for the page.

        Officers see them in citations after the next refresh (a changed label re-indexes
        the document). A document the manifest did not list gets an entry of kind agency.
        """
        user = self.require_staff(user)
        path = self._corpus_path(source)
        source = path.relative_to(self.settings.corpus.resolve()).as_posix()
        title, version = _labels(title, version)
        if not title:
            raise AdminError("type a title: officers see it in every citation of the document")
        if not path.is_file():
            raise AdminError(f"there is no document {source} in the corpus folder")
        listed = self._readable_manifest().for_file(source)
        extra = {} if listed else {"kind": AGENCY, "origin": AGENCY}
        try:
            self._while_not_refreshing(
                lambda: set_entry(
                    self.settings.corpus, source, title=title, version=version, **extra
                )
            )
        except ManifestError as err:
            raise AdminError(str(err)) from None
        sha256 = _sha256_or_none(path)
        self.audit.corpus_change(user.name, "label", source, sha256, sha256)
        shown = f"\u201c{title}\u201d" + (f", version {version}" if version else "")
        return f"Saved {source} as {shown}. Refresh the index to show it in citations."

    def _readable_manifest(self):
        try:
            return read_manifest(self.settings.corpus)
        except ManifestError as err:
            raise AdminError(str(err)) from None

    def remove(self, user: User | None, source: str) -> str:
        """Delete one document from the corpus folder; the message for the page."""
        user = self.require_staff(user)
        path = self._corpus_path(source)
        sha256 = self._while_not_refreshing(lambda: _delete(path))
        if sha256 is None:
            if source in stored_hashes(self.settings):
                return (
                    f"{source} is no longer in the corpus folder; "
                    "Refresh the index to drop it from the answers."
                )
            raise AdminError(f"there is no document {source} in the corpus folder")
        self.audit.corpus_change(user.name, "remove", source, sha256, None)
        return (
            f"Removed {source} from the corpus folder. Officers still get answers from it "
            "until you Refresh the index."
        )

    def refresh(self, user: User | None, progress: ProgressCallback | None = None) -> RefreshReport:
        """Bring the index in line with the corpus folder; one audit event per document changed."""
        user = self.require_staff(user)
        if not self._refreshing.acquire(blocking=False):
            raise AdminError("a refresh is already running; its report appears when it finishes")
        try:
            with self._writing:  # wait for an upload in progress: the refresh reads its file
                pass
            try:
                report = refresh([self.settings.corpus], self.settings, progress=progress)
            except RefreshInProgressError:
                raise AdminError(
                    "another refresh of this index is running (perhaps `toolkit-assistant "
                    "ingest` at the shell); try again when it has finished"
                ) from None
            except (UsageError, ManifestError) as err:
                raise AdminError(str(err)) from None
            self.audit.refresh_changes(user.name, report)
            return report
        finally:
            self._refreshing.release()

    def _while_not_refreshing(self, action: Callable[[], object]):
        if self._refreshing.locked():
            raise AdminError(
                "a refresh is running; upload or remove documents when its report appears"
            )
        with self._writing:
            return action()

    def _corpus_path(self, source: str) -> Path:
        """The file `source` names inside the corpus folder; AdminError for anything else."""
        source = (source or "").strip()
        root = self.settings.corpus.resolve()
        if not source or "\x00" in source:
            raise AdminError("choose a document to remove")
        candidate = root / source
        relative = Path(source)
        if (
            relative.is_absolute()
            or ".." in relative.parts
            or not candidate.resolve().is_relative_to(root)
            or candidate.resolve() == root
        ):
            raise AdminError(f"{source!r} is not a document of the corpus folder")
        if any(part.startswith(".") for part in relative.parts) or relative.name == MANIFEST_NAME:
            raise AdminError(f"{source} is not a document of the corpus; it cannot be removed here")
        return candidate


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:  # gone or unreadable since it was listed
        return None


def _delete(path: Path) -> str | None:
    """Delete the file; its SHA-256, or None when there was no file."""
    if not path.is_file():
        return None
    sha256 = file_sha256(path)
    path.unlink()
    return sha256


def _labels(title: str, version: str) -> tuple[str, str]:
    try:
        return (
            clean_label(title, MAX_TITLE_CHARS, "title"),
            clean_label(version, MAX_VERSION_CHARS, "version"),
        )
    except ManifestError as err:
        raise AdminError(str(err)) from None


def _saved_message(result: UploadResult, original_name: str, title: str = "") -> str:
    kind = {"pdf": "PDF", "markdown": "Markdown", "html": "HTML", "text": "text"}[result.format]
    pages = f", {result.pages} pages" if result.pages else ""
    renamed = f" (renamed from {original_name!r})" if original_name.strip() != result.name else ""
    verb = "Replaced" if result.replaced_sha256 else "Saved"
    return (
        f"{verb} {result.name}{renamed}: {kind}{pages}, titled \u201c{title or result.title}"
        "\u201d. Refresh the index to make it searchable."
    )


def _discard_upload(path: Path) -> None:
    """Remove an uploaded temporary file, and its folder when that is left empty."""
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # the web server puts each upload in a folder of its own
