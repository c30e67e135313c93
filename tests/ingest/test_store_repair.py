"""A damaged store, a taken port (issue 14, finding 8) and the smaller ingest findings (13):
each attack ends in one line naming the problem and the command that fixes it, or is
repaired; never a traceback.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from app_calls import free_port
from store_helpers import wait_for, write_policy_notes

from assistant.cli import main
from ingest.refresh import keyword_dir, refresh
from ingest.settings import Settings
from ingest.store import SEARCH_EF, Store


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(corpus, store): two notes ingested with the real model."""
    root = tmp_path_factory.mktemp("repair")
    corpus = write_policy_notes(root / "corpus", range(2))
    store = root / "store"
    assert not refresh([corpus], Settings(store=store)).failed
    return corpus, store


def _copy(store: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(store, tmp_path / "store"))


def _one_line_error(capsys, argv: list[str], status: int = 1) -> str:
    assert main(argv) == status
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err


def test_a_truncated_chroma_database_is_one_line_naming_the_rebuild(
    built, tmp_path: Path, capsys
) -> None:
    corpus, good = built
    store = _copy(good, tmp_path)
    database = store / "chroma.sqlite3"
    with database.open("r+b") as handle:
        handle.truncate(database.stat().st_size // 3)
    for argv in (
        ["status", "--store", str(store)],
        ["ask", "What is reviewed?", "--store", str(store)],
        ["ingest", str(corpus), "--store", str(store)],
    ):
        err = _one_line_error(capsys, argv)
        assert "is damaged" in err and "toolkit-assistant ingest --rebuild" in err, err

    assert main(["ingest", str(corpus), "--store", str(store), "--rebuild"]) == 0
    out = capsys.readouterr()
    assert "moved the old index to" in out.err
    assert main(["status", "--store", str(store), "--json"]) == 0
    assert '"note-001.md"' in capsys.readouterr().out
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("store.damaged-")]
    assert len(kept) == 1 and (kept[0] / "chroma.sqlite3").exists()  # set aside, not lost


def test_serve_on_a_truncated_store_starts_and_names_the_rebuild(built, tmp_path: Path) -> None:
    """The app starts on a damaged store, the page is served, and the log says what to run."""
    from app_server import serve_app

    store = _copy(built[1], tmp_path)
    database = store / "chroma.sqlite3"
    with database.open("r+b") as handle:
        handle.truncate(database.stat().st_size // 3)
    servers = serve_app(store, tmp_path)
    server = next(servers)  # once the page answers 200
    try:
        wait_for(lambda: "ready at" in server.log.read_text(), 240, "the warm-up to end")
        log = server.log.read_text()
        assert "is damaged" in log and "toolkit-assistant ingest --rebuild" in log, log
        assert "Traceback" not in log, log
    finally:
        servers.close()  # stops the app


def test_a_truncated_keyword_index_is_rebuilt_by_ask_and_by_ingest(
    built, tmp_path: Path, capsys
) -> None:
    corpus, good = built
    for command in ("ask", "ingest"):
        store = Path(shutil.copytree(good, tmp_path / command))
        generation = Store(store).current().generation
        ids = keyword_dir(store, generation) / "chunk_ids.json"
        ids.write_text(ids.read_text()[:10])
        argv = (
            ["ask", "How is fairness reviewed?", "--store", str(store)]
            if command == "ask"
            else ["ingest", str(corpus), "--store", str(store)]
        )
        assert main(argv) == 0, capsys.readouterr().err
        assert "Traceback" not in capsys.readouterr().err
        assert ids.read_text().startswith('["') and ids.read_text().endswith('"]')


def test_a_port_in_use_is_one_line(capsys, tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        err = _one_line_error(
            capsys, ["serve", "--port", str(port), "--store", str(tmp_path)], status=2
        )
    assert f"127.0.0.1:{port}" in err and "--port" in err


def test_a_refresh_does_not_follow_a_link_out_of_the_corpus_folder(tmp_path: Path) -> None:
    corpus = write_policy_notes(tmp_path / "corpus", range(1))
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:the secret line\n")
    (corpus / "passwd.txt").symlink_to(secret)
    (corpus / "inside.txt").symlink_to(corpus / "note-000.md")  # inside: allowed
    report = refresh([corpus], Settings(store=tmp_path / "store"))
    assert [f.source for f in report.failed] == ["passwd.txt"]
    assert "outside the corpus folder" in report.failed[0].error
    store = Store(tmp_path / "store")
    sources = [r.source for r in store.documents(store.current().generation)]
    assert sources == ["inside.txt", "note-000.md"]
    texts = [c.text for c in store.iter_chunks(store.current().generation)]
    assert not any("secret line" in text for text in texts)


def test_dropped_generations_leave_no_chroma_folders(tmp_path: Path) -> None:
    corpus = write_policy_notes(tmp_path / "corpus", range(1))
    store_path = tmp_path / "store"
    for edition in range(4):
        write_policy_notes(corpus, range(1), edition=f" Edition {edition}.")
        refresh([corpus], Settings(store=store_path))
    store = Store(store_path)
    live_collections = 2 * len(store.generations())  # chunks and documents per generation
    folders = [p for p in store_path.iterdir() if p.is_dir() and p.name.count("-") == 4]
    assert len(store.generations()) == 2  # the current one and its predecessor
    assert len(folders) <= live_collections


def _search_ef(store: Store, generation: str) -> int:
    return store._chunks(generation).configuration["hnsw"]["ef_search"]


def test_chunks_are_searched_wide_and_an_older_store_is_widened_by_the_next_ingest(
    built, tmp_path: Path
) -> None:
    corpus, original = built
    store = Store(_copy(original, tmp_path))
    generation = store.current().generation
    assert _search_ef(store, generation) == SEARCH_EF
    ids = [c.id for c in store.iter_chunks(generation)]
    vectors = store.embeddings(generation, ids)
    # As a store built before the setting: Chroma's default.
    store._chunks(generation).modify(configuration={"hnsw": {"ef_search": 100}})
    report = refresh([corpus], Settings(store=store.path))
    assert report.unchanged and not report.added and not report.updated
    reopened = Store(store.path)
    assert reopened.current().generation == generation
    assert _search_ef(reopened, generation) == SEARCH_EF
    after = reopened.embeddings(generation, ids)
    assert all(np.array_equal(vectors[i], after[i]) for i in ids)
