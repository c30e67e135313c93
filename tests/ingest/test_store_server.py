"""Client/server: the same store code against a real `chroma run` server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from app_calls import free_port
from store_helpers import snapshot, write_policy_notes

from assistant.cli import main
from ingest.embedding import Embedder
from ingest.refresh import refresh
from ingest.settings import Settings
from ingest.store import Store, StoreError

pytestmark = [pytest.mark.integration, pytest.mark.server]

CHROMA = Path(sys.executable).with_name("chroma")
STARTUP_ATTEMPTS = 300  # x 0.1 s


@contextmanager
def chroma_server(data: Path, port: int, log: Path) -> Iterator[str]:
    """A `chroma run` subprocess, up when entered (heartbeat answers), stopped on exit."""
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as output:
        server = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(STARTUP_ATTEMPTS):
            if server.poll() is not None:
                pytest.fail(
                    f"chroma run exited with {server.returncode}: {log.read_text()[-2000:]}"
                )
            try:
                Store(data.parent / "probe-store", url)
                break
            except StoreError:
                time.sleep(0.1)
        else:
            pytest.fail(f"chroma run did not answer at {url}: {log.read_text()[-2000:]}")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.mark.skipif(not CHROMA.is_file(), reason=f"no chroma executable next to {sys.executable}")
def test_ingest_status_and_query_through_a_chroma_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = write_policy_notes(tmp_path / "docs", [1, 2, 3])
    data, store_path, log = tmp_path / "chroma-data", tmp_path / "store", tmp_path / "chroma.log"
    port = free_port()

    with chroma_server(data, port, log) as url:
        settings = Settings(chroma_url=url, store=store_path)
        report = refresh([corpus], settings)
        assert report.added == ["note-001.md", "note-002.md", "note-003.md"] and not report.failed
        served = snapshot(store_path, url)
        assert served.sources == report.added
        assert len(served.chunks) == report.chunks_total
        # The vectors live in the server's folder, not in the local store folder.
        assert not (store_path / "chroma.sqlite3").exists()

        monkeypatch.setenv("TOOLKIT_ASSISTANT_CHROMA_URL", url)
        capsys.readouterr()
        assert main(["status", "--store", str(store_path), "--json"]) == 0
        listing = json.loads(capsys.readouterr().out)
        assert listing["store"] == url
        assert [d["source"] for d in listing["documents"]] == report.added

        store = Store(store_path, url)
        generation = store.current().generation
        vector = Embedder().embed_query("How often is the note of unit 2 reviewed?")
        hits = store.query(generation, vector, n=3)
        assert len(hits) == 3
        by_id = {c.id: c for c in store.iter_chunks(generation)}
        assert by_id[hits[0][0]].source == "note-002.md"
        assert hits[0][1] > hits[-1][1]

    # Server stopped: a clear error naming the URL, from the library and from the CLI.
    with pytest.raises(StoreError) as caught:
        Store(store_path, url)
    assert url in str(caught.value) and "\n" not in str(caught.value)
    capsys.readouterr()
    assert main(["status", "--store", str(store_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot reach the Chroma server at {url}")
    assert "Traceback" not in err

    # Started again on the same folder and port, everything is back.
    with chroma_server(data, port, log) as again:
        assert again == url
        assert snapshot(store_path, url).same_content(served)
        assert refresh([corpus], Settings(chroma_url=url, store=store_path)).chunks_embedded == 0
