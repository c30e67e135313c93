"""Where the assistant is put together: the answerer named in the settings is chosen here.

Question answering (`assistant.qa`) names only the `Answerer` interface; the CLI, the app,
the evals and the benchmarks build their `Assistant` through `build_assistant`, so the
generative code is imported only when the settings ask for it.
"""

from __future__ import annotations

from assistant.qa.answer import Answerer
from assistant.qa.service import AnswererWrapper, Assistant
from ingest.settings import Settings


def answerer_wrapper(settings: Settings) -> AnswererWrapper | None:
    """What wraps the quoting answerer for `settings.generation.answerer`, if anything."""
    match settings.generation.answerer:
        case "generative":
            from assistant.llm.generate import GenerativeFactory

            return GenerativeFactory(settings.generation)
        case _:
            return None


def build_assistant(settings: Settings, answerer: Answerer | None = None) -> Assistant:
    """`Assistant` with the answerer the settings choose (or `answerer`, given outright)."""
    return Assistant(settings, answerer, wrap_answerer=answerer_wrapper(settings))
