"""The chat models behind the generative answerer, chosen by `generation.backend`.

Each backend is a LangChain chat model, imported inside its branch. `local` and `openai`
are both `ChatOpenAI`: `local` on the llama.cpp server this process starts
(`assistant/local_llm.py`), `openai` on an endpoint the settings name. `ollama` needs an
extra (`pip install -e ".[ollama]"`).
"""

from __future__ import annotations

import os

from langchain_core.language_models.chat_models import BaseChatModel

from ingest.settings import GenerationSettings

# Local servers (llama.cpp, vLLM without --api-key, LM Studio, Ollama) accept any key, but
# the OpenAI client refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"


class BackendError(RuntimeError):
    """The chat model cannot be built or reached; the message says what to change."""


def build_chat_model(settings: GenerationSettings) -> BaseChatModel:
    match settings.backend:
        case "local":
            from assistant.llm.local_llm import MODEL_NAME, local_server

            server = local_server()  # the model loads here, not on the first question
            return _openai_chat(settings, server.base_url, MODEL_NAME, server.api_key)
        case "openai":
            # Never the public OpenAI API by default: questions stay where the officer's
            # administrator pointed them.
            base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL")
            if not base_url or not settings.model:
                raise BackendError(
                    "the openai backend needs generation.base_url and generation.model "
                    "(e.g. TOOLKIT_ASSISTANT_GENERATION__BASE_URL=http://127.0.0.1:8000/v1)"
                )
            key = settings.api_key.get_secret_value() if settings.api_key else None
            key = key or os.environ.get("OPENAI_API_KEY") or _PLACEHOLDER_KEY
            return _openai_chat(settings, base_url, settings.model, key)
        case "ollama":
            try:
                from langchain_ollama import ChatOllama
            except ImportError as err:
                raise BackendError(
                    f"the ollama backend needs langchain-ollama ({err}): pip install -e '.[ollama]'"
                ) from None
            if not settings.model:
                raise BackendError("the ollama backend needs generation.model (e.g. llama3.2)")
            return ChatOllama(
                model=settings.model,
                base_url=settings.base_url,
                num_predict=settings.max_tokens,
                temperature=0,
                client_kwargs={"timeout": settings.timeout_s},
            )
    raise BackendError(f"unknown generation backend {settings.backend!r}")


def _openai_chat(settings: GenerationSettings, base_url: str, model: str, key: str):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=key,
        timeout=settings.timeout_s,
        max_retries=0,  # a down endpoint falls back at once, not after retries
        max_tokens=settings.max_tokens,
        temperature=0,  # greedy: the same question gets the same answer
    )
