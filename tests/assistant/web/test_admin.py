"""`Admin` on a real corpus folder and store: status, upload, remove, refresh, roles, audit."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from pdf_factory import (
    encrypted_pdf,
    handbook_pdf,
    image_only_pdf,
    long_pdf,
    shared_stream_pdf,
    truncated_pdf,
    write,
)
from store_helpers import policy_note

from assistant.access.audit import AuditLog
from assistant.access.auth import User, UserStore
from assistant.web.admin import STATUS_COLUMNS, Admin, AdminError
from ingest.models import file_sha256
from ingest.refresh import refresh
from ingest.settings import Settings
from ingest.store import Store
from ingest.upload import UploadError

pytestmark = pytest.mark.integration

STAFF = User("sam", "staff")
OFFICER = User("olive", "officer")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def first_ingest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two notes ingested once; each test works on its own copy of folder and store."""
    root = tmp_path_factory.mktemp("admin-first-ingest")
    (root / "corpus").mkdir()
    for number in (1, 2):
        (root / "corpus" / f"note-{number}.md").write_text(policy_note(number), encoding="utf-8")
    report = refresh([root / "corpus"], Settings(store=root / "store", corpus=root / "corpus"))
    assert report.added == ["note-1.md", "note-2.md"]
    return root


@pytest.fixture
def settings(first_ingest: Path, tmp_path: Path) -> Settings:
    corpus = Path(shutil.copytree(first_ingest / "corpus", tmp_path / "corpus"))
    store = Path(shutil.copytree(first_ingest / "store", tmp_path / "store"))
    return Settings(store=store, corpus=corpus)  # users and audit files: isolated_state


@pytest.fixture
def users(settings: Settings) -> UserStore:
    store = UserStore(settings.auth.users_file, rounds=4)  # cheap hashes: tests stay fast
    store.add(STAFF.name, PASSWORD, "staff")
    store.add(OFFICER.name, PASSWORD, "officer")
    return store


@pytest.fixture
def audit(settings: Settings) -> AuditLog:
    return AuditLog(settings.audit)


@pytest.fixture
def admin(settings: Settings, audit: AuditLog, users: UserStore) -> Admin:
    return Admin(settings, audit, users)


def _incoming(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _corpus_events(audit: AuditLog) -> list[tuple]:
    return [
        (e["user"], e["action"], e["source"], e["sha256_before"], e["sha256_after"])
        for e in audit.read()
        if e["event"] == "corpus"
    ]


def _folder(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")}


def _index(settings: Settings) -> tuple[str, list]:
    store = Store(settings.store)
    current = store.current()
    return current.generation, store.documents(current.generation)


def test_status_rows_describe_the_indexed_documents(admin: Admin) -> None:
    rows = admin.documents()
    assert [r["document"] for r in rows] == ["note-1.md", "note-2.md"]
    assert all(set(r) == set(STATUS_COLUMNS) for r in rows)
    first = rows[0]
    assert first["title"] == "Policy note 1" and first["pages"] is None and first["chunks"] >= 1
    assert first["version"] == "" and first["ingested_at"].startswith("20")
    assert admin.pending() == []
    assert admin.corpus_files() == ["note-1.md", "note-2.md"]


def test_upload_then_refresh_indexes_the_document_and_audits_both_steps(
    admin: Admin, audit: AuditLog, settings: Settings, tmp_path: Path
) -> None:
    message = admin.upload(STAFF, _incoming(tmp_path, "x", policy_note(3)), "Note 3.md")
    assert message.startswith("Saved Note-3.md (renamed from 'Note 3.md'): Markdown")
    assert "Refresh the index" in message
    assert admin.pending() == [("Note-3.md", "new")]
    assert "Note-3.md" not in [r["document"] for r in admin.documents()]  # not before refresh

    seen: list[str] = []
    report = admin.refresh(STAFF, lambda stage, done, total: seen.append(stage))
    assert report.added == ["Note-3.md"] and report.unchanged == ["note-1.md", "note-2.md"]
    assert "embed" in seen
    row = next(r for r in admin.documents() if r["document"] == "Note-3.md")
    assert row["title"] == "Policy note 3" and row["chunks"] >= 1
    assert admin.pending() == []

    sha = file_sha256(settings.corpus / "Note-3.md")
    assert _corpus_events(audit) == [
        ("sam", "upload", "Note-3.md", None, sha),
        ("sam", "add", "Note-3.md", None, sha),
    ]


def test_a_new_version_and_a_removal_are_audited_with_hashes_before_and_after(
    admin: Admin, audit: AuditLog, settings: Settings, tmp_path: Path
) -> None:
    old = file_sha256(settings.corpus / "note-1.md")
    newer = _incoming(tmp_path, "note-1.md", policy_note(1, " Second edition."))
    with pytest.raises(UploadError, match="a different file named note-1.md"):
        admin.upload(STAFF, newer, "note-1.md")
    assert not newer.exists()  # a refused upload's copy goes too: the page uploads it again
    newer = _incoming(tmp_path, "note-1.md", policy_note(1, " Second edition."))
    assert admin.upload(STAFF, newer, "note-1.md", replace=True).startswith("Replaced note-1.md")
    new = file_sha256(settings.corpus / "note-1.md")
    assert admin.pending() == [("note-1.md", "changed")]

    removed = file_sha256(settings.corpus / "note-2.md")
    assert admin.remove(STAFF, "note-2.md").startswith("Removed note-2.md")
    assert not (settings.corpus / "note-2.md").exists()
    assert admin.pending() == [("note-1.md", "changed"), ("note-2.md", "deleted")]

    report = admin.refresh(STAFF)
    assert (report.updated, report.removed) == (["note-1.md"], ["note-2.md"])
    assert [r["document"] for r in admin.documents()] == ["note-1.md"]
    assert _corpus_events(audit) == [
        ("sam", "upload", "note-1.md", old, new),
        ("sam", "remove", "note-2.md", removed, None),
        ("sam", "replace", "note-1.md", old, new),
        ("sam", "remove", "note-2.md", removed, None),
    ]


def test_a_refresh_with_nothing_to_do_records_nothing(admin: Admin, audit: AuditLog) -> None:
    report = admin.refresh(STAFF)
    assert report.unchanged == ["note-1.md", "note-2.md"]
    assert _corpus_events(audit) == []


@pytest.mark.parametrize(
    "user",
    [
        pytest.param(None, id="anonymous"),
        pytest.param(OFFICER, id="officer"),
        pytest.param(User("mallory", "staff"), id="forged-staff-not-in-users-file"),
    ],
)
def test_only_staff_reach_the_admin_functions(
    admin: Admin, audit: AuditLog, settings: Settings, tmp_path: Path, user: User | None
) -> None:
    incoming = _incoming(tmp_path, "note-9.md", policy_note(9))
    folder, index = _folder(settings.corpus), _index(settings)
    actions = [
        lambda: admin.upload(user, incoming, "note-9.md"),
        lambda: admin.remove(user, "note-1.md"),
        lambda: admin.refresh(user),
        lambda: admin.require_staff(user),
    ]
    for action in actions:
        with pytest.raises(PermissionError) as refused:
            action()
        assert "staff" in str(refused.value) or "no longer exists" in str(refused.value)
    assert _folder(settings.corpus) == folder and _index(settings) == index
    assert _corpus_events(audit) == []


def test_a_demoted_account_loses_access_at_once(admin: Admin, users: UserStore) -> None:
    assert admin.require_staff(STAFF) == STAFF
    users.add(STAFF.name, PASSWORD, "officer", replace=True)
    with pytest.raises(PermissionError, match="sam is an officer account"):
        admin.refresh(STAFF)  # the User kept from sign-in says staff; the users file decides


def test_sign_in_needs_the_password_and_the_staff_role(admin: Admin) -> None:
    assert admin.sign_in("sam", PASSWORD) == STAFF
    with pytest.raises(PermissionError, match="^wrong user name or password$"):
        admin.sign_in("sam", "not the password")
    with pytest.raises(PermissionError, match="^wrong user name or password$"):
        admin.sign_in("nobody", PASSWORD)
    with pytest.raises(PermissionError, match="olive is an officer account"):
        admin.sign_in("olive", PASSWORD)


def test_sign_in_without_any_account_says_how_to_create_one(
    settings: Settings, audit: AuditLog
) -> None:
    admin = Admin(settings, audit, UserStore(settings.auth.users_file))
    with pytest.raises(PermissionError, match="toolkit-assistant user add NAME --role staff"):
        admin.sign_in("sam", PASSWORD)


def test_while_a_refresh_runs_a_second_one_and_corpus_changes_are_refused(
    admin: Admin, settings: Settings, audit: AuditLog, users: UserStore, tmp_path: Path
) -> None:
    admin.upload(STAFF, _incoming(tmp_path, "note-3.md", policy_note(3)), "note-3.md")
    started, release = threading.Event(), threading.Event()

    def hold(stage: str, done: int, total: int) -> None:
        started.set()
        release.wait(timeout=120)

    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(report=admin.refresh(STAFF, hold)))
    worker.start()
    try:
        assert started.wait(timeout=120), "the refresh never reported progress"
        with pytest.raises(AdminError, match="a refresh is already running"):
            admin.refresh(STAFF)
        with pytest.raises(AdminError, match="a refresh is running; upload or remove"):
            admin.upload(STAFF, _incoming(tmp_path, "note-4.md", policy_note(4)), "note-4.md")
        with pytest.raises(AdminError, match="a refresh is running; upload or remove"):
            admin.remove(STAFF, "note-1.md")
        # Another app or the shell on the same store: the store's lock refuses it.
        other = Admin(settings, audit, users)
        with pytest.raises(AdminError, match="another refresh of this index is running"):
            other.refresh(STAFF)
    finally:
        release.set()
        worker.join(timeout=300)
    assert outcome["report"].added == ["note-3.md"]
    assert not (settings.corpus / "note-4.md").exists()
    assert (settings.corpus / "note-1.md").exists()


def test_a_failed_upload_leaves_folder_store_and_audit_unchanged(
    admin: Admin, audit: AuditLog, settings: Settings, tmp_path: Path
) -> None:
    """Every bad file of issue 6, through the admin tab: one line each, and afterwards the
    folder, the index (a refresh finds nothing to do) and the audit trail are as before."""
    folder, index = _folder(settings.corpus), _index(settings)
    bad = [
        ("locked.pdf", encrypted_pdf(), "encrypted PDF"),
        ("half.pdf", truncated_pdf(), "corrupt or truncated PDF"),
        ("junk.pdf", b"%PDF-1.7\n" + b"\x00" * 32, "corrupt or truncated PDF"),
        ("empty.md", b"", "empty file"),
        ("scan.pdf", image_only_pdf(), "no extractable text; OCR is not supported"),
        ("register.pdf", long_pdf(2000), "the PDF has 2,000 pages; uploads are limited to"),
        ("report.txt", handbook_pdf(pages=1), "the content is a PDF but the name ends in .txt"),
        ("copy.md", (settings.corpus / "note-1.md").read_bytes(), "as note-1.md"),
        ("../evil.md", policy_note(5).encode(), "'..' is refused"),
    ]
    for name, data, reason in bad:
        with pytest.raises(UploadError, match=reason) as refused:
            admin.upload(STAFF, _incoming(tmp_path, "upload.bin", data), name)
        assert "\n" not in str(refused.value)
    assert not (tmp_path / "evil.md").exists()
    assert _folder(settings.corpus) == folder
    report = admin.refresh(STAFF)
    assert report.unchanged == ["note-1.md", "note-2.md"] and not report.added
    assert _index(settings) == index
    assert _corpus_events(audit) == []


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("../corpus/note-1.md", "is not a document of the corpus folder"),
        ("/etc/passwd", "is not a document of the corpus folder"),
        ("manifest.toml", "cannot be removed here"),
        (".hidden.md", "cannot be removed here"),
        ("missing.md", "there is no document missing.md"),
        ("", "choose a document to remove"),
    ],
)
def test_remove_touches_only_documents_inside_the_corpus_folder(
    admin: Admin, settings: Settings, audit: AuditLog, source: str, reason: str
) -> None:
    (settings.corpus / "manifest.toml").write_text("", encoding="utf-8")
    (settings.corpus / ".hidden.md").write_text("hidden", encoding="utf-8")
    folder = _folder(settings.corpus)
    with pytest.raises(AdminError, match=reason):
        admin.remove(STAFF, source)
    assert _folder(settings.corpus) == folder
    assert _corpus_events(audit) == []


def test_removing_a_file_already_gone_points_to_the_refresh(
    admin: Admin, settings: Settings, audit: AuditLog
) -> None:
    (settings.corpus / "note-2.md").unlink()
    assert "no longer in the corpus folder; Refresh" in admin.remove(STAFF, "note-2.md")
    assert _corpus_events(audit) == []


def test_a_file_of_another_type_shows_as_never_indexed_and_can_be_removed(
    admin: Admin, settings: Settings, audit: AuditLog
) -> None:
    (settings.corpus / "minutes.docx").write_bytes(b"PK\x03\x04")
    assert admin.pending() == [("minutes.docx", "unsupported")]
    assert "minutes.docx" in admin.corpus_files()
    assert admin.remove(STAFF, "minutes.docx").startswith("Removed minutes.docx")
    assert admin.pending() == []
    assert [e["action"] for e in audit.read()] == ["remove"]


def test_a_saved_upload_removes_the_uploaded_temporary_file(admin: Admin, tmp_path: Path) -> None:
    """Issue 14, finding 13: the web server's copy of each upload stayed on disk for good."""
    incoming = _incoming(tmp_path, "note-5.md", policy_note(5))
    admin.upload(STAFF, incoming, "note-5.md")
    assert not incoming.exists()
    assert not incoming.parent.exists()  # its own folder, left empty, goes too


def test_title_and_version_set_on_upload_and_edited_later_reach_the_manifest_and_index(
    admin: Admin, audit: AuditLog, settings: Settings, tmp_path: Path
) -> None:
    from ingest.manifest import read_manifest

    incoming = _incoming(tmp_path, "x", policy_note(3))
    message = admin.upload(STAFF, incoming, "drones.md", title=" Drone\npolicy ", version="2026-1")
    assert "titled \u201cDrone policy\u201d" in message
    entry = read_manifest(settings.corpus).for_file("drones.md")
    assert (entry.title, entry.version, entry.kind, entry.origin) == (
        "Drone policy",
        "2026-1",
        "agency",
        "agency",
    )
    admin.refresh(STAFF)
    row = next(r for r in admin.documents() if r["document"] == "drones.md")
    assert (row["title"], row["version"]) == ("Drone policy", "2026-1")
    assert Store(settings.store).current().corpus_kind == "agency"

    assert admin.labels("drones.md") == ("Drone policy", "2026-1")
    message = admin.set_labels(STAFF, "drones.md", "Drone Flight Policy", "2026-2")
    assert "Refresh the index" in message
    assert admin.labels("drones.md") == ("Drone Flight Policy", "2026-2")
    report = admin.refresh(STAFF)
    assert report.updated == ["drones.md"]
    row = next(r for r in admin.documents() if r["document"] == "drones.md")
    assert (row["title"], row["version"]) == ("Drone Flight Policy", "2026-2")
    sha = file_sha256(settings.corpus / "drones.md")
    assert ("sam", "label", "drones.md", sha, sha) in _corpus_events(audit)


def test_labels_are_checked_and_only_staff_may_set_them(admin: Admin, settings: Settings) -> None:
    with pytest.raises(PermissionError):
        admin.set_labels(OFFICER, "note-1.md", "Title", "1")
    with pytest.raises(AdminError, match="type a title"):
        admin.set_labels(STAFF, "note-1.md", "  ", "1")
    with pytest.raises(AdminError, match="at most 200"):
        admin.set_labels(STAFF, "note-1.md", "t" * 201, "1")
    with pytest.raises(AdminError, match="not a document of the corpus folder"):
        admin.set_labels(STAFF, "../x.md", "Title", "1")
    with pytest.raises(AdminError, match="there is no document"):
        admin.set_labels(STAFF, "missing.md", "Title", "1")
    assert not (settings.corpus / "manifest.toml").exists()


@pytest.mark.parametrize(
    ("user", "content", "refusal"),
    [
        pytest.param(STAFF, b"%PDF-1.7 truncated", UploadError, id="bad-content"),
        pytest.param(STAFF, b"\x00\x01 binary", UploadError, id="binary-as-markdown"),
        pytest.param(OFFICER, b"# A note\n\nText.", PermissionError, id="not-staff"),
    ],
)
def test_a_refused_upload_removes_the_uploaded_temporary_file(
    admin: Admin, settings: Settings, tmp_path: Path, user: User, content: bytes, refusal: type
) -> None:
    """Issue 14, finding 13: a refused upload's copy stayed on the server's disk."""
    incoming = tmp_path / "upload-cache" / "3f2a" / "note-7.md"
    incoming.parent.mkdir(parents=True)
    incoming.write_bytes(content)
    with pytest.raises(refusal):
        admin.upload(user, incoming, "note-7.md")
    assert not incoming.exists() and not incoming.parent.exists()
    assert not (settings.corpus / "note-7.md").exists()


def test_the_upload_check_stops_within_ingest_upload_check_seconds(
    settings: Settings, audit: AuditLog, users: UserStore, tmp_path: Path
) -> None:
    """Finding 9, with the budget from the settings: a PDF whose pages share one huge stream."""
    quick = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"upload_check_seconds": 2.0})}
    )
    admin = Admin(quick, audit, users)
    incoming = write(tmp_path / "incoming" / "crafted.pdf", shared_stream_pdf())
    with pytest.raises(UploadError, match="took longer than 2 s and was stopped"):
        admin.upload(STAFF, incoming, "crafted.pdf")
    assert not (settings.corpus / "crafted.pdf").exists() and not incoming.exists()
