"""Answer-latency benchmark: prints figures, asserts nothing.

    python bench/ask.py [--set evals/sets/sample.jsonl] [--corpus corpus] [--rounds 2]
    python bench/ask.py --answerer generative [--limit 30] [--rounds 1]

Builds (or reuses) an index of the corpus in .toolkit-assistant/bench-store, warms up,
then asks every question of the set `--rounds` times and prints p50 and p95 of the
retrieve, answer and total timings that `ask` reports, with the encoder threads the app
uses (`--threads` to compare) and, like the app, the corpus's sentences embedded first
(`--no-pre-embed` to compare); for a set with questions not in English, the sentences'
e5 vectors too, as `serve` does once such a question has come. Then it starts the app the way
`make run` does (`serve --ensure-index` on the built index) and prints the time from
process start until the page answers.

With `--answerer generative` it also prints the time to the first token the model wrote
(over the answers it streamed) and how many answers the model's text was shown for.
"""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import numpy as np
from common import bench_parser, free_port, read_questions, start_app, stop_app

from assistant.compose import build_assistant
from ingest.embedding import set_encoder_threads
from ingest.language import detect_language
from ingest.refresh import refresh
from ingest.settings import Settings


def app_ready_seconds(
    store: Path, corpus: Path, answerer: str, timeout: float = 180
) -> tuple[float, float]:
    """(page served, first answer returned), in seconds from process start."""
    from gradio_client import Client  # imported before the clock starts

    port = free_port()
    started = time.perf_counter()
    process = start_app(
        store, corpus, port, settings_env={"TOOLKIT_ASSISTANT_GENERATION__ANSWERER": answerer}
    )
    try:
        page = float("nan")
        while time.perf_counter() - started < timeout:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        page = time.perf_counter() - started
                        break
            except OSError:
                time.sleep(0.1)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict("What are the five core principles?", api_name="/ask")
        return page, time.perf_counter() - started
    finally:
        stop_app(process)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, help="encoder threads (default: app.encoder_threads, as served)"
    )
    parser.add_argument(
        "--no-pre-embed",
        action="store_true",
        help="skip what the app does once it is up (embed the corpus's sentences), to show "
        "a first-time question with a cold sentence cache",
    )
    parser.add_argument("--answerer", choices=["extractive", "generative"], default="extractive")
    parser.add_argument("--limit", type=int, help="only the first N questions of the set")
    parser.add_argument("--no-app", action="store_true", help="skip the app start figures")
    args = parser.parse_args()

    settings = Settings(
        store=args.store, corpus=args.corpus, generation={"answerer": args.answerer}
    )
    threads = args.threads or settings.app.encoder_threads
    set_encoder_threads(threads)
    print(f"encoder threads: {threads}")
    refresh([args.corpus], settings)
    questions = read_questions(args.set)
    questions = questions[: args.limit] if args.limit else questions
    assistant = build_assistant(settings)
    assistant.warm_up()  # model and index loaded; no eval question seen yet
    if not args.no_pre_embed:  # as `serve` does behind the page, once it is ready
        started = time.perf_counter()
        count = assistant.pre_embed_sentences(settings.app.pre_embed_sentences)
        print(f"pre-embedded {count} sentences in {time.perf_counter() - started:.1f} s")
        if any(detect_language(q["question"]) != "en" for q in questions):
            # `serve` starts this once the first question not in English has come.
            assistant.multilingual_asked = True
            started = time.perf_counter()
            count = assistant.pre_embed_multilingual_sentences(settings.app.pre_embed_sentences)
            seconds = time.perf_counter() - started
            print(f"pre-embedded {count} sentences for e5 in {seconds:.1f} s")

    # Round 1 is each question's first time (the question itself never seen): the headline.
    # Later rounds show what a repeated question costs.
    for round_number in range(1, args.rounds + 1):
        timings: dict[str, list[float]] = {"retrieve": [], "answer": [], "total": []}
        first_token: list[float] = []
        generated = 0
        for q in questions:
            answer = assistant.ask(q["question"], q.get("history"))
            for key in timings:
                timings[key].append(answer.timings_ms[key])
            if "first_token" in answer.timings_ms:
                first_token.append(answer.timings_ms["first_token"])
            generated += answer.answerer == "generative"
        label = "first time" if round_number == 1 else f"repeat {round_number - 1}"
        print(f"ask ({args.answerer}), {len(questions)} questions of {args.set.name}, {label}:")
        if first_token:
            timings = {"first_token": first_token, **timings}
        for key, values in timings.items():
            p50, p95 = np.percentile(values, 50), np.percentile(values, 95)
            print(f"  {key:<11} p50 {p50:8.1f} ms   p95 {p95:8.1f} ms   (n={len(values)})")
        if args.answerer == "generative":
            print(
                f"  the model's text was shown for {generated} of {len(questions)} answers; "
                f"{len(first_token)} streamed (the rest were refused before generation)"
            )
    if args.no_app:
        return
    page, answer = app_ready_seconds(args.store, args.corpus, args.answerer)
    print("app start, `serve --ensure-index` on the built index, from process start:")
    print(f"  page served         {page:5.1f} s")
    print(f"  first answer        {answer:5.1f} s   (the model loads behind the page)")


if __name__ == "__main__":
    main()
