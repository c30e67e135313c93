"""The local model's own speed: load time, prompt tokens/s and generated tokens/s.

    python bench/local_llm.py [--tokens 120] [--repeat 3] [--threads N]

Prompts it with a question and the sample corpus's principles passage (a prompt of the
size the generative answerer sends), generates exactly `--tokens` tokens greedily, and
prints the best of `--repeat` runs. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import common  # noqa: F401  (puts this checkout first on the path)

import ingest  # noqa: F401  (privacy settings before any library loads)
from assistant.local_llm import load_model
from assistant.prompt import Source, build_messages

PASSAGE = (
    "Proportionality means that the use of an AI system must be necessary to reach a "
    "legitimate aim and balanced against its intrusion on the rights of the people "
    "affected. An agency documents this assessment before deployment and reviews it when "
    "the system or its use changes. Where a less intrusive means would reach the same aim, "
    "the agency uses that means instead."
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=120)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="as the app uses: 1")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    tokenizer, model = load_model()
    print(f"load (tokenizer and weights, dequantized): {time.perf_counter() - started:.1f} s")
    messages = build_messages(
        "What does proportionality mean?", [Source(1, "Principles", PASSAGE)] * 3, []
    )
    inputs = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    prompt_tokens = inputs["input_ids"].shape[1]
    prefill, decode = [], []
    with torch.inference_mode():
        for _ in range(args.repeat):
            started = time.perf_counter()
            model.generate(**inputs, max_new_tokens=1, do_sample=False)
            prefill.append(time.perf_counter() - started)
            started = time.perf_counter()
            model.generate(
                **inputs,
                max_new_tokens=args.tokens,
                min_new_tokens=args.tokens,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
            decode.append(time.perf_counter() - started)
    best_prefill, best_total = min(prefill), min(decode)
    print(f"prompt: {prompt_tokens} tokens in {best_prefill:.2f} s (first token)")
    rate = (args.tokens - 1) / max(best_total - best_prefill, 1e-9)
    print(f"generation: {args.tokens} tokens in {best_total:.2f} s, {rate:.1f} tokens/s after it")
    print(f"torch threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
