"""`toolkit-assistant user` and `audit`, the serve exposure warning, and ingest's audit events.

Names, flags and JSON keys are contracts (see docs/cli.md); errors are one line, no traceback.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from audit_contract import CORPUS_KEYS, QUESTION_KEYS
from paths import REPO

from assistant.access import auth
from assistant.access.audit import AuditLog
from assistant.access.auth import User, UserStore
from assistant.cli import main
from assistant.qa.models import Answer, Citation
from ingest.models import RefreshReport, file_sha256
from ingest.settings import load_settings


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "BCRYPT_ROUNDS", 4)


def _run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _add(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    role: str,
    password: str,
    *flags: str,
) -> tuple[int, str, str]:
    """`user add NAME --role ROLE --password-stdin`, with the password piped in."""
    argv = ["user", "add", name, "--role", role, "--password-stdin", *flags]
    return _run(capsys, monkeypatch, *argv, stdin=password + "\n")


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# -- user -----------------------------------------------------------------------------------------
def test_user_add_list_remove(
    isolated_state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*argv: str) -> tuple[int, str, str]:
        return _run(capsys, monkeypatch, *argv)

    status, out, err = _add(capsys, monkeypatch, "alice", "staff", "correct horse")
    assert status == 0, err
    assert "added staff 'alice'" in out
    status, out, err = _add(capsys, monkeypatch, "bob", "officer", "battery staple", "--json")
    assert status == 0, err
    assert json.loads(out) == {"name": "bob", "role": "officer"}

    users_file = isolated_state / "users.json"  # where the autouse fixture points the setting
    store = UserStore(users_file)
    assert store.verify("alice", "correct horse") == User("alice", "staff")
    assert store.verify("bob", "battery staple") == User("bob", "officer")

    status, out, _ = run("user", "list", "--json")
    assert status == 0
    assert json.loads(out) == [
        {"name": "alice", "role": "staff"},
        {"name": "bob", "role": "officer"},
    ]
    status, out, _ = run("user", "list")
    assert status == 0 and out.split() == ["alice", "staff", "bob", "officer"]

    status, out, err = _add(capsys, monkeypatch, "bob", "staff", "new password", "--replace")
    assert status == 0, err
    assert "replaced staff 'bob'" in out
    assert store.verify("bob", "new password") == User("bob", "staff")

    status, out, _ = run("user", "remove", "bob", "--json")
    assert status == 0 and json.loads(out) == {"name": "bob", "removed": True}
    status, out, _ = run("user", "remove", "alice")
    assert status == 0 and "removed 'alice'" in out
    status, out, _ = run("user", "list", "--json")
    assert status == 0 and json.loads(out) == []
    status, out, _ = run("user", "list")
    assert status == 0 and out.startswith("no users in")


def test_a_password_from_stdin_keeps_its_spaces(
    isolated_state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = _add(capsys, monkeypatch, "carol", "officer", " spaced out \r")
    assert status == 0, err
    assert UserStore(isolated_state / "users.json").verify("carol", " spaced out ")


STDIN = ["--password-stdin"]


@pytest.mark.parametrize(
    ("argv", "stdin", "status", "message"),
    [
        (["user", "add", "bob", "--role", "chief", *STDIN], "long enough\n", 2, "unknown role"),
        (["user", "add", "bob", "--role", "officer", *STDIN], "short\n", 2, "too short"),
        (["user", "add", "bob smith", "--role", "officer", *STDIN], "long enough", 2, "user name"),
        (["user", "add", "bob", "--role", "officer"], "", 2, "--password-stdin"),  # not a TTY
        (["user", "remove", "nobody"], "", 1, "no user 'nobody'"),
        (["audit", "--since", "last tuesday"], "", 2, "YYYY-MM-DD"),
    ],
)
def test_user_errors_are_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    stdin: str,
    status: int,
    message: str,
) -> None:
    got, _, err = _run(capsys, monkeypatch, *argv, stdin=stdin)
    assert got == status
    assert message in _one_line_error(err)


def test_an_existing_user_and_a_corrupt_file_are_one_line_errors(
    isolated_state: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _add(capsys, monkeypatch, "dave", "officer", "long enough")[0] == 0
    status, _, err = _add(capsys, monkeypatch, "dave", "officer", "long enough")
    assert status == 2 and "already exists" in _one_line_error(err)

    (isolated_state / "users.json").write_text("{not json")
    status, _, err = _run(capsys, monkeypatch, "user", "list")
    assert status == 1 and "is corrupt" in _one_line_error(err)


def test_a_bad_role_from_the_shell_exits_2_with_one_line(isolated_state: Path) -> None:
    command = [sys.executable, "-m", "assistant.cli", "user", "add", "bob", "--role", "chief"]
    result = subprocess.run(
        [*command, "--password-stdin"],
        input="long enough\n",
        cwd=REPO,
        env=dict(os.environ),  # pointed at the temporary state folder by the autouse fixture
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert (
        _one_line_error(result.stderr) == "error: unknown role 'chief'; use one of: officer, staff"
    )
    assert not (isolated_state / "users.json").exists()


# -- audit ----------------------------------------------------------------------------------------
def _answer(question: str, refused: bool = False) -> Answer:
    citation = Citation(1, "toolkit.pdf", "AI Toolkit", 7, "2 Principles", "text", "quote", 0.4)
    return Answer(question, "An answer.", refused, [] if refused else [citation])


def test_audit_prints_the_trail_as_json_and_as_a_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, out, _ = _run(capsys, monkeypatch, "audit", "--json")
    assert status == 0 and json.loads(out) == []
    status, out, _ = _run(capsys, monkeypatch, "audit")
    assert status == 0 and out.startswith("no audit events")

    log = AuditLog(load_settings().audit)  # the file the autouse fixture points at
    log.question("alice", _answer("What is proportionality?"), latency_ms=321.0)
    log.question(None, _answer("Who won the cup?", refused=True), latency_ms=45.0)
    log.corpus_change("bob", "replace", "notes.md", "a" * 64, "b" * 64)

    status, out, err = _run(capsys, monkeypatch, "audit", "--json")
    assert status == 0, err
    records = json.loads(out)
    assert records == log.read()
    assert [r["event"] for r in records] == ["question", "question", "corpus"]
    assert list(records[0]) == QUESTION_KEYS
    assert records[0]["sources"] == [{"source": "toolkit.pdf", "page": 7}]
    assert records[1]["user"] == "anonymous" and records[1]["refused"] is True
    assert list(records[2]) == CORPUS_KEYS

    status, out, _ = _run(capsys, monkeypatch, "audit")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split() == ["time", "(UTC)", "user", "event", "summary"]
    assert len(rows) == 3
    assert "alice" in rows[0] and "'What is proportionality?' -> 1 sources, 321 ms" in rows[0]
    assert "anonymous" in rows[1] and "refused" in rows[1]
    assert "bob" in rows[2] and "replace notes.md (aaaaaaaaaaaa -> bbbbbbbbbbbb)" in rows[2]

    for since in ("2000-01-01", "2000-01-01T09:30", "2000-01-01T09:30:00+02:00"):
        status, out, _ = _run(capsys, monkeypatch, "audit", "--since", since, "--json")
        assert status == 0 and len(json.loads(out)) == 3
    status, out, _ = _run(capsys, monkeypatch, "audit", "--since", "2999-01-01", "--json")
    assert status == 0 and json.loads(out) == []


def test_audit_shows_only_the_hash_when_questions_are_not_stored(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUDIT__STORE_QUESTIONS", "false")
    AuditLog(load_settings().audit).question("alice", _answer("Secret operation?"), 10.0)
    status, out, _ = _run(capsys, monkeypatch, "audit")
    assert status == 0 and "Secret" not in out and "keyed hash " in out
    status, out, _ = _run(capsys, monkeypatch, "audit", "--json")
    (record,) = json.loads(out)
    assert "question" not in record and record["question_sha256"] is None
    assert len(record["question_hmac"]) == 64


def _tampered_trail(isolated_state: Path) -> tuple[AuditLog, Path]:
    """A trail whose governance stream has rotated files, as a month of use leaves it."""
    log = AuditLog(load_settings().audit)  # max_bytes from the environment: small
    for n in range(12):
        log.corpus_change("bob", "upload", f"doc-{n:02d}.md", None, "a" * 64)
        log.question("alice", _answer(f"Question {n}?"), latency_ms=n)
    rotated = log.governance_path.with_name(log.governance_path.name + ".2")
    assert rotated.exists()
    return log, rotated


def test_audit_and_audit_verify_fail_on_the_sed_attack_of_finding_5(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    isolated_state: Path,
) -> None:
    """`sed` on a rotated file forged a user and deleted a line, and `audit` still exited 0."""
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUDIT__MAX_BYTES", "1500")
    _, rotated = _tampered_trail(isolated_state)
    status, out, err = _run(capsys, monkeypatch, "audit", "verify")
    assert status == 0, out + err
    assert out.splitlines()[0].startswith("questions: intact, 12 events in ")
    assert out.splitlines()[1].startswith("governance: intact, 12 events in ")

    lines = rotated.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"user": "bob"', b'"user": "eve"')  # a forged user
    del lines[1]  # and a deleted line
    rotated.write_bytes(b"".join(lines))

    status, out, err = _run(capsys, monkeypatch, "audit", "verify")
    assert status == 1
    assert f"governance: BROKEN at {rotated}:1: the event was changed" in out
    status, out, err = _run(capsys, monkeypatch, "audit", "verify", "--json")
    reports = {r["stream"]: r for r in json.loads(out)}
    assert status == 1 and reports["questions"]["intact"]
    assert reports["governance"]["line"] == 1 and reports["governance"]["file"] == str(rotated)

    status, out, err = _run(capsys, monkeypatch, "audit")
    assert status == 1 and "eve" in out  # still shown, and flagged
    assert err.startswith(f"error: the audit chain (governance) is broken at {rotated}:1")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_audit_export_writes_a_period_as_jsonl_or_csv(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = AuditLog(load_settings().audit)
    answer_id = log.question("alice", _answer("=HYPERLINK(1)"), latency_ms=5.0)
    log.record_oversight("carol", answer_id, "wrong", "Quotes the superseded policy")
    log.record_purpose("alice", "conv-7", "Case 2025/118")

    status, out, err = _run(capsys, monkeypatch, "audit", "export")
    assert status == 0 and err == "exported 3 events\n"
    exported = [json.loads(line) for line in out.splitlines()]
    assert exported == log.read()

    target = tmp_path / "out" / "audit.csv"
    target.parent.mkdir()
    argv = ["audit", "export", "--format", "csv", "--since", "2000-01-01", "-o", str(target)]
    status, out, err = _run(capsys, monkeypatch, *argv)
    assert status == 0 and out == "" and err == f"exported 3 events to {target}\n"
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["event"] for r in rows] == ["question", "oversight", "purpose"]
    assert rows[0]["question"] == "'=HYPERLINK(1)"  # not run as a spreadsheet formula
    assert json.loads(rows[0]["sources"]) == [{"source": "toolkit.pdf", "page": 7}]
    assert rows[1]["answer_id"] == answer_id and rows[1]["verdict"] == "wrong"

    status, out, _ = _run(capsys, monkeypatch, "audit", "export", "--until", "2000-01-01")
    assert status == 0 and out == ""
    status, _, err = _run(capsys, monkeypatch, "audit", "export", "--until", "soon")
    assert status == 2 and err.startswith("error: --until 'soon' is not a date")
    argv = ["audit", "export", "--since", "2025-02-01", "--until", "2025-01-01"]
    status, _, err = _run(capsys, monkeypatch, *argv)
    assert status == 2 and "is not after --since" in err


def test_audit_shows_oversight_purpose_and_account_events(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = _add(capsys, monkeypatch, "carol", "staff", "a long password")
    assert status == 0, err
    log = AuditLog(load_settings().audit)
    answer_id = log.question("carol", _answer("What is necessity?"), latency_ms=5.0)
    log.record_oversight("carol", answer_id, "disregarded", "Not relevant to the case")
    log.record_purpose("carol", "conv-9", "Case 2025/200")
    log.sign_in("mallory", "failed", "10.0.0.9", "staff")
    assert _run(capsys, monkeypatch, "user", "remove", "carol")[0] == 0

    status, out, err = _run(capsys, monkeypatch, "audit")
    assert status == 0, err
    rows = out.splitlines()[1:]
    shell = getpass.getuser()
    assert f"{shell}" in rows[0] and "add account carol (staff)" in rows[0]
    assert f"[answer {answer_id[:12]}]" in rows[1]
    assert f"marked answer {answer_id[:12]} DISREGARDED: Not relevant to the case" in rows[2]
    assert "conversation conv-9: 'Case 2025/200'" in rows[3]
    assert "mallory" in rows[4] and "staff sign-in failed from 10.0.0.9" in rows[4]
    assert "remove account carol" in rows[5]


def test_a_key_file_inside_the_data_folder_is_one_line_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, isolated_state: Path
) -> None:
    key = isolated_state / "audit.key"
    key.parent.mkdir(parents=True, exist_ok=True)
    key.write_bytes(b"k" * 40)
    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUDIT__HMAC_KEY_FILE", str(key))
    for argv in (["audit"], ["audit", "verify"], ["audit", "export"]):
        status, out, err = _run(capsys, monkeypatch, *argv)
        assert status == 2 and out == ""
        assert err.startswith("error: audit.hmac_key_file") and err.count("\n") == 1


# -- serve ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "warned"),
    [
        (["--host", "0.0.0.0"], True),
        (["--host", "127.0.0.1"], False),
        ([], False),  # the default, app.host = 127.0.0.1
    ],
)
def test_serve_warns_when_the_chat_is_open_to_the_network(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    warned: bool,
) -> None:
    served = []
    fake_app = types.ModuleType("assistant.web.app")  # the real one loads Gradio and the model
    fake_app.serve = served.append
    monkeypatch.setitem(sys.modules, "assistant.web.app", fake_app)

    status, _, err = _run(capsys, monkeypatch, "serve", *argv)
    assert status == 0 and len(served) == 1
    if warned:
        assert err.startswith("warning: serving on 0.0.0.0 without login")
    else:
        assert err == ""

    monkeypatch.setenv("TOOLKIT_ASSISTANT_AUTH__REQUIRE_LOGIN", "true")
    status, _, err = _run(capsys, monkeypatch, "serve", *argv)
    assert status == 0 and err == "" and served[-1].auth.require_login


# -- ingest ---------------------------------------------------------------------------------------
INGEST_KEYS = set(RefreshReport().to_dict())


def _note(title: str, body: str) -> str:
    return f"# {title}\n\n## Purpose\n\n{body}\n"


@pytest.mark.integration
def test_ingest_records_each_corpus_change_with_hashes_before_and_after(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    kept, dropped = folder / "kept.md", folder / "dropped.md"
    kept.write_text(_note("Body-worn cameras", "Officers record every public contact."))
    dropped.write_text(_note("Drones", "Flights over crowds need a written authorisation."))
    first = {"kept.md": file_sha256(kept), "dropped.md": file_sha256(dropped)}
    store = str(tmp_path / "store")
    shell_user = getpass.getuser()

    status, out, err = _run(capsys, monkeypatch, "ingest", str(folder), "--store", store, "--json")
    assert status == 0, err
    report = json.loads(out)
    assert set(report) == INGEST_KEYS and report["added"] == ["dropped.md", "kept.md"]
    events = AuditLog(load_settings().audit).read()
    assert [(e["event"], e["user"], e["action"], e["source"]) for e in events] == [
        ("corpus", shell_user, "add", "dropped.md"),
        ("corpus", shell_user, "add", "kept.md"),
    ]
    assert all(e["sha256_before"] is None for e in events)
    assert [e["sha256_after"] for e in events] == [first["dropped.md"], first["kept.md"]]

    # Unchanged: no event.
    status, _, err = _run(capsys, monkeypatch, "ingest", str(folder), "--store", store, "--json")
    assert status == 0, err
    assert len(AuditLog(load_settings().audit).read()) == 2

    kept.write_text(_note("Body-worn cameras", "Officers record every contact, with consent."))
    dropped.unlink()
    status, out, err = _run(capsys, monkeypatch, "ingest", str(folder), "--store", store, "--json")
    assert status == 0, err
    report = json.loads(out)
    assert set(report) == INGEST_KEYS
    assert report["updated"] == ["kept.md"] and report["removed"] == ["dropped.md"]
    later = AuditLog(load_settings().audit).read()[2:]
    assert [(e["action"], e["source"], e["sha256_before"], e["sha256_after"]) for e in later] == [
        ("replace", "kept.md", first["kept.md"], file_sha256(kept)),
        ("remove", "dropped.md", first["dropped.md"], None),
    ]
    assert first["kept.md"] != file_sha256(kept)


@pytest.mark.integration
def test_ask_records_what_the_answer_was_made_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sample_store: Path
) -> None:
    """The per-answer record: generation, embedding model, answerer, chunks cited."""
    argv = ["ask", "What does proportionality mean?", "--store", str(sample_store), "--json"]
    status, out, err = _run(capsys, monkeypatch, *argv)
    assert status == 0, err
    answer = json.loads(out)
    assert "trace" not in answer  # provenance is for the audit, not the answer contract
    (record,) = AuditLog(load_settings().audit).read()
    assert list(record) == QUESTION_KEYS
    assert record["user"] == getpass.getuser() and record["answerer"] == "extractive"
    assert record["generation"] and record["embedding_model"].startswith("all-MiniLM-L6-v2 ")
    assert len(record["chunk_ids"]) == len(record["sources"]) == len(answer["citations"]) > 0
    assert (record["model"], record["sentences_verified"]) == (None, None)
    assert all(r.intact for r in AuditLog(load_settings().audit).verify())
