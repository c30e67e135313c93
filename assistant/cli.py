"""`toolkit-assistant`: ingest, status, ask, serve, eval.

Every command but `serve` takes `--json`. User errors print one line and exit with status
2 (usage) or 1 (the work failed); they never show a traceback. Heavy libraries are imported inside
the command that needs them, so `status` and an unchanged `ingest` start fast.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ingest.settings import Settings, SettingsError, load_settings

EXAMPLES = """examples:
  toolkit-assistant ingest                      # mirror corpus/ into the default store
  toolkit-assistant ingest corpus/ extra.pdf --json
  toolkit-assistant status --json
  toolkit-assistant ask "What does proportionality mean?" --k 5
  toolkit-assistant serve --port 7860
  toolkit-assistant eval --set evals/sets/sample.jsonl --baseline --report out/
"""


class CommandError(Exception):
    """A failure to report in one line; `status` is the process exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"store": getattr(args, "store", None)}
    if getattr(args, "k", None) is not None:
        overrides["retrieval"] = {"k": args.k}
    return load_settings(**overrides)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# -- ingest ---------------------------------------------------------------------------------
def _progress_bar() -> Callable[[str, int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def update(stage: str, done: int, total: int) -> None:
        unit = "doc" if stage == "load" else "chunk"
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total, desc=stage, unit=unit, file=sys.stderr, leave=False
            )
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.refresh import refresh

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [settings.corpus]
    report = refresh(paths, settings, progress=_progress_bar())
    if args.json:
        _print_json(report.to_dict())
    else:
        print(
            f"added {len(report.added)}, updated {len(report.updated)}, "
            f"unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
            f"failed {len(report.failed)}"
        )
        for failure in report.failed:
            print(f"  failed: {failure.source}: {failure.error}", file=sys.stderr)
        print(
            f"{report.documents} documents, {report.pages} pages, {report.chunks_total} chunks "
            f"({report.chunks_embedded} embedded) in {report.seconds:.1f} s"
        )
    return 1 if report.failed else 0


# -- status ---------------------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    from ingest.store import Store

    settings = _settings(args)
    store = Store(settings.store, settings.chroma_url)
    current = store.current()
    documents = store.documents(current.generation) if current else []
    data = {
        "store": settings.chroma_url or str(settings.store),
        "corpus": current.corpus_kind if current else "none",
        "generation": current.generation if current else None,
        "published_at": current.published_at if current else None,
        "documents": [r.to_dict() for r in documents],
    }
    if args.json:
        _print_json(data)
        return 0
    if not current:
        print(f"no index in {data['store']}; run `toolkit-assistant ingest`")
        return 0
    print(
        f"corpus: {current.corpus_kind} "
        f"({len(documents)} documents, published {current.published_at})"
    )
    for r in documents:
        pages = "-" if r.pages is None else r.pages
        print(f"  {r.source:<42} {pages:>4} pages {r.chunks:>5} chunks  {r.ingested_at}  {r.title}")
    return 0


# -- ask ------------------------------------------------------------------------------------
def _format_answer(answer) -> str:
    lines = [answer.answer, ""]
    if answer.refused:
        if answer.pointers:
            lines.append("Nearest documents:")
            lines += [f"  - {p.title} ({p.source}{_where(p)})" for p in answer.pointers]
        return "\n".join(lines)
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.title} ({c.source}{_where(c)})")
        lines.append(f"    \u201c{c.quote}\u201d")
    return "\n".join(lines)


def _where(citation) -> str:
    page = f", page {citation.page}" if citation.page is not None else ""
    return f"{page}, \u00a7 {citation.section}"


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import Assistant, QuestionError

    settings = _settings(args)
    try:
        answer = Assistant(settings).ask(args.question, history=args.history or None)
    except QuestionError as err:
        raise CommandError(str(err), status=2) from None
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(_format_answer(answer))
    return 0


# -- serve ----------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.app import serve

    settings = _settings(args)
    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = settings.model_copy(update={"app": settings.app.model_copy(update=overrides)})
    if args.ensure_index:
        from ingest.refresh import refresh

        report = refresh([settings.corpus], settings, progress=_progress_bar())
        for failure in report.failed:
            print(f"  not ingested: {failure.source}: {failure.error}", file=sys.stderr)
    serve(settings)
    return 0


# -- eval -----------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace) -> int:
    # The one upward import: the CLI is the shared front door, the evals live above it.
    from evals.cli import run_eval_command

    return run_eval_command(args)


def _add_eval(command: Callable) -> None:
    from evals.cli import add_eval_arguments

    add_eval_arguments(
        command("eval", cmd_eval, "Run an eval set and report retrieval and answer metrics.")
    )


# -- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toolkit-assistant",
        description="Cited answers from the AI Toolkit for law enforcement and related documents.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        sub.add_argument(
            "--store",
            type=Path,
            help="index folder (default: TOOLKIT_ASSISTANT_STORE or .toolkit-assistant/store)",
        )
        if name != "serve":  # the app prints nothing a tool would parse
            sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        return sub

    ingest = command("ingest", cmd_ingest, "Make the index mirror the given files and folders.")
    ingest.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: corpus/)"
    )

    command("status", cmd_status, "List the indexed documents and which corpus is loaded.")

    ask = command("ask", cmd_ask, "Answer a question from the corpus, with citations.")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--k", type=int, help="passages to retrieve (default: setting retrieval.k)")
    ask.add_argument(
        "--history",
        action="append",
        metavar="QUESTION",
        help="an earlier question of the conversation (repeatable), for follow-ups",
    )

    serve = command("serve", cmd_serve, "Serve the chat in the browser (Gradio).")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 7860)")
    serve.add_argument(
        "--ensure-index",
        action="store_true",
        help="first bring the index in line with the corpus folder (what `make run` does)",
    )

    if importlib.util.find_spec("evals.cli") is not None:
        _add_eval(command)

    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    from ingest.loaders import LoadError
    from ingest.manifest import ManifestError
    from ingest.refresh import RefreshInProgressError, UsageError

    return (LoadError, ManifestError, RefreshInProgressError, UsageError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except CommandError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.status
    except KeyboardInterrupt:
        print(
            "interrupted; the index is unchanged unless the refresh had finished", file=sys.stderr
        )
        return 130
    except BrokenPipeError:  # `status | head`: the reader left; nothing is wrong
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:
        from ingest.refresh import UsageError
        from ingest.store import StoreError

        if isinstance(err, UsageError):
            print(f"error: {err}", file=sys.stderr)
            return 2
        if isinstance(err, (StoreError, *_known_errors())):
            print(f"error: {err}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
