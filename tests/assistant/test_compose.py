"""The answerer is chosen where the assistant is put together, not inside `assistant.qa`."""

from __future__ import annotations

from assistant.compose import answerer_wrapper
from assistant.llm.generate import GenerativeFactory
from ingest.settings import GenerationSettings, Settings


def test_extractive_settings_wrap_nothing():
    assert answerer_wrapper(Settings()) is None


def test_generative_settings_wrap_the_quoting_answerer():
    settings = Settings(generation=GenerationSettings(answerer="generative"))
    wrapper = answerer_wrapper(settings)
    assert isinstance(wrapper, GenerativeFactory)
    assert wrapper.settings is settings.generation
