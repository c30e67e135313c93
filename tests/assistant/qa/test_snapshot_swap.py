"""A new generation is loaded beside the current snapshot, not in front of it.

At 100k chunks a generation takes seconds to load (every chunk, the BM25 index). While one
caller loads it, every other question is answered from the snapshot already in memory, and
the new snapshot replaces it in one step when it is complete.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from store_helpers import write_policy_notes

from assistant.qa.retrieve import HybridRetriever, IndexSnapshot
from assistant.qa.service import Assistant
from ingest.refresh import refresh
from ingest.settings import RetrievalSettings, Settings
from ingest.store import Publication

# Hang guards, not performance figures: a caller stuck behind the load fails the test.
RETURNS_WITHIN_SECONDS = 30


class SwitchableStore:
    """Only what `HybridRetriever.snapshot` reads: the published generation."""

    def __init__(self, generation: str) -> None:
        self.generation = generation

    def current(self) -> Publication:
        return Publication(self.generation, "sample", "", "test")


class GatedRetriever(HybridRetriever):
    """`_load` waits for the test to open each generation's gate; every load is counted."""

    _RECHECK_SECONDS = 0.0  # every call reads the registry, as after a second has passed

    def __init__(self, store: SwitchableStore) -> None:
        super().__init__(store, RetrievalSettings(), embedder=None)
        self.loads: list[str] = []
        self.loading = {g: threading.Event() for g in ("g1", "g2")}
        self.gate = {g: threading.Event() for g in ("g1", "g2")}

    def _load(self, generation: str, corpus_kind: str) -> IndexSnapshot:
        self.loads.append(generation)
        self.loading[generation].set()
        assert self.gate[generation].wait(RETURNS_WITHIN_SECONDS), "the test never opened it"
        return IndexSnapshot(generation, corpus_kind, {}, keyword=None, vocabulary=frozenset())


def in_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict]:
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(value=work()), daemon=True)
    worker.start()
    return worker, result


def returned(worker: threading.Thread, result: dict) -> object:
    worker.join(RETURNS_WITHIN_SECONDS)
    assert not worker.is_alive(), "the call waited for another caller's load"
    return result["value"]


def test_readers_keep_the_old_snapshot_while_one_caller_loads_the_new_one() -> None:
    store = SwitchableStore("g1")
    retriever = GatedRetriever(store)
    retriever.gate["g1"].set()
    assert retriever.snapshot().generation == "g1"

    store.generation = "g2"  # a refresh published
    loader, loaded = in_thread(retriever.snapshot)
    assert retriever.loading["g2"].wait(RETURNS_WITHIN_SECONDS)
    try:
        readers = [in_thread(retriever.snapshot) for _ in range(3)]
        assert [returned(*reader).generation for reader in readers] == ["g1"] * 3
        assert loader.is_alive()  # still loading: the readers did not wait for it
    finally:
        retriever.gate["g2"].set()
    assert returned(loader, loaded).generation == "g2"
    assert retriever.snapshot().generation == "g2"
    assert retriever.loads == ["g1", "g2"]  # one loader per generation


def test_the_first_load_is_shared_by_every_caller_waiting_for_it() -> None:
    retriever = GatedRetriever(SwitchableStore("g1"))
    first = in_thread(retriever.snapshot)
    assert retriever.loading["g1"].wait(RETURNS_WITHIN_SECONDS)
    second = in_thread(retriever.snapshot)  # nothing to answer from: it waits
    retriever.gate["g1"].set()
    assert returned(*first).generation == returned(*second).generation == "g1"
    assert retriever.loads == ["g1"]


@pytest.mark.integration
def test_a_question_during_the_load_is_answered_from_the_old_generation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_policy_notes(tmp_path / "corpus", range(0, 4))
    settings = Settings(store=tmp_path / "store", corpus=corpus)
    assert not refresh([corpus], settings).failed
    assistant = Assistant(settings)
    retriever = assistant.retriever
    old_question, new_question = (
        "How does unit 0 use analytics software?",
        "How does unit 7 use analytics software?",
    )
    assert assistant.ask(old_question).citations[0].source == "note-000.md"

    (corpus / "note-000.md").unlink()
    write_policy_notes(corpus, [7])
    assert refresh([corpus], settings).added == ["note-007.md"]

    loading, gate = threading.Event(), threading.Event()
    real_load = retriever._load

    def slow_load(generation: str, corpus_kind: str) -> IndexSnapshot:
        loading.set()
        assert gate.wait(RETURNS_WITHIN_SECONDS * 4), "the test never opened the gate"
        return real_load(generation, corpus_kind)

    monkeypatch.setattr(retriever, "_load", slow_load)
    monkeypatch.setattr(retriever, "_RECHECK_SECONDS", 0.0)
    loader, loaded = in_thread(lambda: assistant.ask(new_question))
    assert loading.wait(RETURNS_WITHIN_SECONDS * 4)
    try:
        during = returned(*in_thread(lambda: assistant.ask(old_question)))
        assert not during.refused and during.citations[0].source == "note-000.md"
        assert loader.is_alive()
    finally:
        gate.set()
    after = returned(loader, loaded)
    assert not after.refused and after.citations[0].source == "note-007.md"
    sources = {c.source for c in assistant.ask(old_question).citations}
    assert "note-000.md" not in sources  # the new generation no longer has it
