"""The local model's own speed: load time, prompt tokens/s and generated tokens/s.

    python bench/local_llm.py [--tokens 120] [--repeat 3] [--busy]

Starts the `local` backend's llama.cpp server (as the app does), prompts it with a question
and the sample corpus's principles passage three times over (a prompt of the size the
generative answerer sends), generates `--tokens` tokens greedily, and prints the best of
`--repeat` runs from llama.cpp's own timings. `--busy` runs the same with a second process
keeping one core busy, as the encoder or a second question does in the app. Prints
figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time

import common  # noqa: F401  (puts this checkout first on the path)

import ingest  # noqa: F401  (privacy settings before any library loads)
from assistant.llm.local_llm import start_server
from assistant.llm.prompt import Source, build_messages

PASSAGE = (
    "Proportionality means that the use of an AI system must be necessary to reach a "
    "legitimate aim and balanced against its intrusion on the rights of the people "
    "affected. An agency documents this assessment before deployment and reviews it when "
    "the system or its use changes. Where a less intrusive means would reach the same aim, "
    "the agency uses that means instead."
)


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--busy", action="store_true", help="one core kept busy meanwhile")
    args = parser.parse_args()

    started = time.perf_counter()
    server, base_url = start_server()
    print(f"load (model file mapped, server listening): {time.perf_counter() - started:.2f} s")
    messages = build_messages(
        "What does proportionality mean?", [Source(n, "Principles", PASSAGE) for n in (1, 2, 3)], []
    )
    request = {
        "messages": messages,
        "max_tokens": args.tokens,
        "temperature": 0,
        "ignore_eos": True,  # exactly --tokens tokens, for a like-for-like rate
        "cache_prompt": False,  # read the whole prompt every time, as a new question does
    }
    stop = multiprocessing.Event()
    busy = multiprocessing.Process(target=_spin, args=(stop,)) if args.busy else None
    if busy:
        busy.start()
    try:
        timings = [server.handle_chat_completions(request)["timings"] for _ in range(args.repeat)]
    finally:
        stop.set()
        if busy:
            busy.join()
    prompt = min(timings, key=lambda t: t["prompt_ms"])
    generation = max(timings, key=lambda t: t["predicted_per_second"])
    print(
        f"prompt: {prompt['prompt_n']} tokens in {prompt['prompt_ms'] / 1000:.2f} s "
        f"({prompt['prompt_per_second']:.0f} tokens/s), two threads"
    )
    print(
        f"generation: {generation['predicted_n']} tokens at "
        f"{generation['predicted_per_second']:.1f} tokens/s, one thread"
        + (" (one core busy meanwhile)" if busy else "")
    )


if __name__ == "__main__":
    main()
