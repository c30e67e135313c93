"""What keeps questions quick when many officers ask at once: how many are answered side by
side (from settings; a refresh in the admin tab never takes a question's place), one encoder
thread each, and the corpus's sentences embedded before anyone asks."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.qa.service import Assistant
from assistant.web.app import _keep_sentences_embedded, build_app
from ingest.embedding import set_encoder_threads
from ingest.settings import Settings
from ingest.store import StoreError


@pytest.mark.integration
@pytest.mark.parametrize("limit", [1, 4])
def test_questions_share_one_limit_taken_from_settings(
    sample_settings: Settings, tmp_path: Path, limit: int
) -> None:
    settings = Settings(
        store=sample_settings.store,
        corpus=sample_settings.corpus,
        app={"answer_concurrency": limit, "feedback_file": tmp_path / "feedback.jsonl"},
        auth={"users_file": tmp_path / "users.json"},
        audit={"file": tmp_path / "audit.jsonl"},
    )
    app = build_app(Assistant(settings), settings)
    by_group: dict[str, set[int | None]] = {}
    for fn in app.fns.values():
        by_group.setdefault(fn.concurrency_id, set()).add(fn.concurrency_limit)
    assert by_group["answer"] == {limit}
    ask = next(fn for fn in app.fns.values() if fn.api_name == "ask")
    assert (ask.concurrency_id, ask.concurrency_limit) == ("answer", limit)
    admin_groups = {fn.concurrency_id for fn in app.fns.values() if fn.concurrency_id != "answer"}
    assert "admin" in admin_groups


def test_encoder_threads_apply_to_the_process() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        set_encoder_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


class _EncodeSpy:
    """The real model, recording every text it is asked to encode."""

    def __init__(self, model) -> None:
        self.model = model
        self.texts: list[str] = []

    def encode(self, texts, **options):
        self.texts.extend(texts)
        return self.model.encode(texts, **options)


@pytest.mark.integration
def test_after_pre_embedding_a_new_question_encodes_only_itself(
    sample_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import embedding

    assistant = Assistant(sample_settings)
    assert assistant.pre_embed_sentences(limit=100_000) > 500
    spy = _EncodeSpy(embedding._model())
    monkeypatch.setattr(embedding, "_model", lambda: spy)
    # Not drones over a march (the question before 2026-12-07): the corpus says nothing on
    # drones, and the domain model now has it refused.
    question = "What must a force weigh before using face matching at a peaceful protest march?"
    answer = assistant.ask(question)
    assert not answer.refused and answer.citations
    assert spy.texts == [question], "every candidate sentence came from the pre-embedded cache"


@pytest.mark.integration
def test_pre_embedding_is_skipped_above_the_limit(
    sample_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest import embedding

    spy = _EncodeSpy(None)
    monkeypatch.setattr(embedding, "_model", lambda: spy)
    assert Assistant(sample_settings).pre_embed_sentences(limit=10) == 0
    assert spy.texts == []


class _RefreshingAssistant:
    """Generations as a refresh would publish them; an unreachable store in between."""

    def __init__(self, generations: list[str | Exception], stop: threading.Event) -> None:
        self.generations = generations
        self.stop = stop
        self.embedded_for: list[str] = []
        self.multilingual_for: list[str] = []
        self.multilingual_asked = False
        self.current = ""

    def generation(self) -> str:
        if not self.generations:
            self.stop.set()
            return self.current
        step = self.generations.pop(0)
        if isinstance(step, Exception):
            raise step
        self.current = step
        return step

    def pre_embed_sentences(self, limit: int) -> int:
        self.embedded_for.append(self.current)
        return 1

    def pre_embed_multilingual_sentences(self, limit: int) -> int:
        self.multilingual_for.append(self.current)
        return 1


def test_sentences_are_embedded_again_after_each_refresh_and_after_an_outage() -> None:
    stop = threading.Event()
    fake = _RefreshingAssistant(
        ["g1", "g1", StoreError("the Chroma server is unreachable"), "g1", "g2", "g2"], stop
    )
    _keep_sentences_embedded(fake, limit=100, stop=stop, every=0)  # type: ignore[arg-type]
    assert fake.embedded_for == ["g1", "g2"]
    assert fake.multilingual_for == [], "no question in another language: no e5 cost"


def test_e5_sentences_follow_once_a_question_not_in_english_came() -> None:
    stop = threading.Event()
    fake = _RefreshingAssistant(["g1", "g1", "g1", "g2", "g2"], stop)
    original = fake.generation

    def generation() -> str:
        step = original()
        fake.multilingual_asked = fake.multilingual_asked or len(fake.embedded_for) > 0
        return step

    fake.generation = generation  # type: ignore[method-assign]
    _keep_sentences_embedded(fake, limit=100, stop=stop, every=0)  # type: ignore[arg-type]
    assert fake.embedded_for == ["g1", "g2"]
    assert fake.multilingual_for == ["g1", "g2"], "once per generation, after the flag"


def test_pre_embedding_off_does_nothing() -> None:
    stop = threading.Event()
    fake = _RefreshingAssistant(["g1"], stop)
    _keep_sentences_embedded(fake, limit=0, stop=stop, every=0)  # type: ignore[arg-type]
    assert fake.embedded_for == []


def test_e5_sentences_are_not_embedded_ahead_when_the_setting_is_off() -> None:
    stop = threading.Event()
    fake = _RefreshingAssistant(["g1", "g1"], stop)
    fake.multilingual_asked = True
    _keep_sentences_embedded(  # type: ignore[arg-type]
        fake, limit=100, stop=stop, every=0, multilingual=False
    )
    assert fake.embedded_for == ["g1"] and fake.multilingual_for == []
