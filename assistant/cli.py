"""`toolkit-assistant`: ingest, status, ask, serve, eval, user, audit, llm-server.

Every command but `serve` and `llm-server` takes `--json`. User errors print one line and
exit with status 2 (usage) or 1 (the work failed); they never show a traceback. Heavy
libraries are imported inside the command that needs them, so `status` and an unchanged
`ingest` start fast.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ingest.models import RefreshReport
from ingest.settings import Settings, SettingsError, load_settings

EXAMPLES = """examples:
  toolkit-assistant ingest                      # mirror corpus/ into the default store
  toolkit-assistant ingest corpus/ extra.pdf --json
  toolkit-assistant ingest --rebuild            # a damaged index: build it afresh
  toolkit-assistant status --json
  toolkit-assistant ask "What does proportionality mean?" --k 5
  toolkit-assistant serve --port 7860
  toolkit-assistant eval --set evals/sets/sample.jsonl --baseline --report out/
  toolkit-assistant user add alice --role staff # asks for the password twice
  toolkit-assistant audit --since 2025-06-01 --json
  toolkit-assistant audit verify                # exit 1 at the first broken link
  toolkit-assistant audit export --since 2025-01-01 --until 2025-07-01 --format csv
  toolkit-assistant llm-server --port 8080      # the bundled model, OpenAI-compatible
"""
# The key `llm-server` asks clients for, from the environment (not a flag: `ps` shows flags).
LLM_SERVER_KEY = "TOOLKIT_ASSISTANT_LLM_SERVER_KEY"


class CommandError(Exception):
    """A failure to report in one line; `status` is the process exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {"store": getattr(args, "store", None)}
    if getattr(args, "k", None) is not None:
        overrides["retrieval"] = {"k": args.k}
    if getattr(args, "answerer", None) is not None:
        overrides["generation"] = {"answerer": args.answerer}
    return load_settings(**overrides)


ANSWERER_HELP = (
    "extractive quotes the documents (the default); generative lets the model set in "
    "generation.backend write the answer, and shows only the sentences verified against "
    "their sources (default: setting generation.answerer)"
)


def add_answerer_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--answerer", choices=["extractive", "generative"], help=ANSWERER_HELP)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _shell_user() -> str:
    """Who runs the command, for the audit trail."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # a container user with no login name
        return "unknown"


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


def _audited_refresh(paths: list[Path], settings: Settings) -> RefreshReport:
    """Refresh the store and record each document added, replaced or removed, with hashes."""
    from assistant.access.audit import AuditLog
    from ingest.refresh import refresh

    audit = AuditLog(settings.audit)  # a misconfigured key is said before the work, not after
    report = refresh(paths, settings, progress=_progress_bar())
    if report.added or report.updated or report.removed:
        audit.refresh_changes(_shell_user(), report)
    return report


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [settings.corpus]
    if args.rebuild:
        from ingest.refresh import set_aside_store

        aside = set_aside_store(settings)
        if aside is not None:
            print(
                f"moved the old index to {aside}; remove it once the new one works", file=sys.stderr
            )
    report = _audited_refresh(paths, settings)
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
    store = Store.open(settings)
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
    lines = [f"Note: {answer.notice}", ""] if answer.notice else []
    lines += [answer.answer, ""]
    if answer.more:
        lines += ["More from the sources:", answer.more, ""]
    if answer.refused:
        if answer.pointers:
            lines.append("Nearest documents:")
            lines += [f"  - {p.title} ({p.source}{_where(p)})" for p in answer.pointers]
        return "\n".join(lines)
    for c in answer.citations:
        example = " (an example, not a rule)" if c.example else ""
        lines.append(f"[{c.n}] {c.title} ({c.source}{_where(c)}){example}")
        lines.append(f"    \u201c{c.quote}\u201d")
    return "\n".join(lines)


def _where(citation) -> str:
    page = f", page {citation.page}" if citation.page is not None else ""
    return f"{page}, \u00a7 {citation.section}"


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.compose import build_assistant
    from assistant.qa.service import QuestionError

    settings = _settings(args)
    audit = _audit_log(args)  # a key misconfigured: said before the model loads
    try:
        # `k` given again: an explicit --k is also what the answer quotes (no neighbours).
        answer = build_assistant(settings).ask(
            args.question, history=args.history or None, k=args.k
        )
    except QuestionError as err:
        raise CommandError(str(err), status=2) from None
    audit.question(_shell_user(), answer, answer.timings_ms.get("total", 0.0))
    if args.json:
        _print_json(answer.to_dict())
    else:
        print(_format_answer(answer))
    return 0


# -- serve ----------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.access.auth import exposure_warning

    settings = _settings(args)
    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = settings.model_copy(update={"app": settings.app.model_copy(update=overrides)})
    warning = exposure_warning(settings.app.host, settings.auth.require_login)
    if warning is not None:
        print(warning, file=sys.stderr)
    _check_port_free(settings.app.host, settings.app.port, "serve")
    if args.ensure_index:
        report = _audited_refresh([settings.corpus], settings)
        for failure in report.failed:
            print(f"  not ingested: {failure.source}: {failure.error}", file=sys.stderr)
    from assistant.web.app import serve

    try:
        serve(settings)
    except OSError as err:  # the port was taken between the check and the start
        if "port" not in str(err).lower():
            raise
        raise CommandError(
            f"{' '.join(str(err).split())[:200]}; choose another --port", 2
        ) from None
    return 0


def _check_port_free(host: str, port: int, command: str) -> None:
    """One line instead of a server's traceback when the address is taken or not ours."""
    with socket.socket() as probe:
        # As the servers bind: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise CommandError(
                f"cannot listen on {host}:{port} ({err.strerror}); is another "
                f"`toolkit-assistant {command}` running? Stop it, or choose another --port "
                "(or --host)",
                2,
            ) from None


def cmd_llm_server(args: argparse.Namespace) -> int:
    """The `local` backend's model as an OpenAI-compatible server, until interrupted."""
    from assistant.llm.local_llm import MODEL_NAME, LocalModelMissingError, start_server

    # llama.cpp's own message for a port in use is "check the input params": say which.
    _check_port_free(args.host, args.port, "llm-server")
    try:
        server, base_url = start_server(args.host, args.port, os.environ.get(LLM_SERVER_KEY, ""))
    except LocalModelMissingError as err:
        raise CommandError(str(err), 1) from None
    except Exception as err:
        raise CommandError(f"the model server did not start ({err})", 1) from None
    print(f"serving {MODEL_NAME} at {base_url} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        del server
    return 0


# -- user -----------------------------------------------------------------------------------
def _user_store(args: argparse.Namespace):
    from assistant.access.auth import UserStore

    return UserStore(_settings(args).auth.users_file)


def _auth_failure(err: Exception) -> CommandError:
    """A broken users file is a failure (1); a bad name, role or password is a usage error (2)."""
    from assistant.access.auth import UsersFileError

    return CommandError(str(err), status=1 if isinstance(err, UsersFileError) else 2)


def _read_password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        # Only the line end is cut: leading or trailing spaces may belong to the password.
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError(
            "no password: pipe it in with --password-stdin, or run in a terminal to be asked",
            status=2,
        )
    import getpass

    password = getpass.getpass(f"password for {name}: ")
    if getpass.getpass("the same password again: ") != password:
        raise CommandError("the two passwords differ; nothing was changed", status=2)
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    from assistant.access.auth import AuthError, check_name, check_role

    store = _user_store(args)
    try:
        check_name(args.name)  # before asking for a password that would then be refused
        check_role(args.role)
        existed = any(u.name == args.name for u in store.users())
        password = _read_password(args.name, args.password_stdin)
        user = store.add(args.name, password, args.role, replace=args.replace)
    except AuthError as err:
        raise _auth_failure(err) from None
    action = "replace" if existed else "add"
    _audit_log(args).account_change(_shell_user(), action, user.name, user.role)
    if args.json:
        _print_json({"name": user.name, "role": user.role})
    else:
        done = "replaced" if existed else "added"
        print(f"{done} {user.role} {user.name!r} ({store.path})")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from assistant.access.auth import AuthError

    store = _user_store(args)
    try:
        removed = store.remove(args.name)
    except AuthError as err:
        raise _auth_failure(err) from None
    if not removed:
        raise CommandError(
            f"no user {args.name!r} in {store.path}; see `toolkit-assistant user list`"
        )
    _audit_log(args).account_change(_shell_user(), "remove", args.name, None)
    if args.json:
        _print_json({"name": args.name, "removed": True})
    else:
        print(f"removed {args.name!r} from {store.path}")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from assistant.access.auth import AuthError

    store = _user_store(args)
    try:
        users = store.users()
    except AuthError as err:
        raise _auth_failure(err) from None
    if args.json:
        _print_json([{"name": u.name, "role": u.role} for u in users])
    elif not users:
        print(
            f"no users in {store.path}; add one with `toolkit-assistant user add NAME --role staff`"
        )
    else:
        for u in users:
            print(f"{u.name:<32} {u.role}")
    return 0


# -- audit ----------------------------------------------------------------------------------
def _parse_time_flag(flag: str, text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)  # a date alone means its midnight
    except ValueError:
        raise CommandError(
            f"{flag} {text!r} is not a date; use YYYY-MM-DD or an ISO date and time "
            "such as 2025-06-01T09:30",
            status=2,
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _parse_since(text: str) -> datetime:
    return _parse_time_flag("--since", text)


def _short(sha256: str | None) -> str:
    if not sha256:
        return "-"
    return sha256.split(":", 1)[-1][:12]


def _audit_summary(record: dict) -> str:
    event = record.get("event")
    if event == "question":
        asked = record.get("question")
        if isinstance(asked, str):
            asked = repr(asked if len(asked) <= 60 else asked[:59] + "\u2026")
        elif record.get("question_sha256"):
            asked = f"sha256 {_short(record.get('question_sha256'))}"
        else:
            asked = f"keyed hash {_short(record.get('question_hmac'))}"
        sources = record.get("sources") or []
        outcome = "refused" if record.get("refused") else f"{len(sources)} sources"
        answer_id = f" [answer {record['answer_id'][:12]}]" if record.get("answer_id") else ""
        return f"{asked} -> {outcome}, {record.get('latency_ms', 0):.0f} ms{answer_id}"
    if event == "corpus":
        before, after = _short(record.get("sha256_before")), _short(record.get("sha256_after"))
        return f"{record.get('action')} {record.get('source')} ({before} -> {after})"
    if event == "oversight":
        reason = f": {record['reason']}" if record.get("reason") else ""
        answer_id = str(record.get("answer_id", ""))[:12]
        return f"marked answer {answer_id} {str(record.get('verdict', '')).upper()}{reason}"
    if event == "purpose":
        return f"conversation {record.get('conversation')}: {record.get('purpose')!r}"
    if event == "account":
        role = f" ({record['role']})" if record.get("role") else ""
        return f"{record.get('action')} account {record.get('account')}{role}"
    if event == "sign_in":
        client = f" from {record['client']}" if record.get("client") else ""
        return f"{record.get('method')} sign-in {record.get('outcome')}{client}"
    if event == "checkpoint":
        return (
            f"removed {record.get('files_removed')} file(s) ({record.get('reason')}) through "
            f"seq {record.get('removed_through_seq')}"
        )
    chain = {"seq", "prev", "hash", "time", "event", "user"}
    return json.dumps({k: v for k, v in record.items() if k not in chain}, ensure_ascii=False)


def _audit_log(args: argparse.Namespace):
    from assistant.access.audit import AuditConfigError, AuditLog

    try:
        return AuditLog(_settings(args).audit)
    except AuditConfigError as err:
        raise CommandError(str(err), status=2) from None


def _window(args: argparse.Namespace) -> tuple[datetime | None, datetime | None]:
    since = _parse_time_flag("--since", args.since) if args.since else None
    until = _parse_time_flag("--until", args.until) if args.until else None
    if since and until and until <= since:
        raise CommandError(f"--until {args.until} is not after --since {args.since}", status=2)
    return since, until


def _broken_chains(log) -> list:
    return [report for report in log.verify() if not report.intact]


def cmd_audit(args: argparse.Namespace) -> int:
    log = _audit_log(args)
    since, until = _window(args)
    records = log.read(since, until)
    broken = _broken_chains(log)
    if args.json:
        _print_json(records)
    elif not records:
        when = f" since {args.since}" if since else ""
        print(f"no audit events{when} in {log.path} or {log.governance_path}")
    else:
        print(f"{'time (UTC)':<19}  {'user':<16} {'event':<9} summary")
        for record in records:
            time = str(record.get("time", ""))[:19].replace("T", " ")
            user = str(record.get("user", ""))
            event = str(record.get("event", ""))
            print(f"{time:<19}  {user:<16} {event:<9} {_audit_summary(record)}")
    # Reading a trail that was tampered with must not look like a clean read.
    return _say_broken(broken, "; see `toolkit-assistant audit verify`")


def _say_broken(broken: list, hint: str = "") -> int:
    """One error line per broken chain; the exit status a tampered trail gives."""
    for report in broken:
        print(
            f"error: the audit chain ({report.stream}) is broken at {report.file}:{report.line}: "
            f"{report.problem}{hint}",
            file=sys.stderr,
        )
    return 1 if broken else 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    reports = _audit_log(args).verify()
    if args.json:
        _print_json([r.to_dict() for r in reports])
    for r in reports:
        if args.json:
            break
        notes = []
        if r.legacy:
            notes.append(f"{r.legacy} older events from before the chain, not covered")
        if r.unreadable:
            notes.append(f"{r.unreadable} torn lines skipped")
        keyed = "HMAC-SHA256" if r.keyed else "SHA-256, no key"
        extra = f"; {'; '.join(notes)}" if notes else ""
        if r.intact:
            print(f"{r.stream}: intact, {r.events} events in {r.files} files ({keyed}){extra}")
        else:
            print(f"{r.stream}: BROKEN at {r.file}:{r.line}: {r.problem}")
    return 0 if all(r.intact for r in reports) else 1


def cmd_audit_export(args: argparse.Namespace) -> int:
    from assistant.access.audit import export_csv, export_jsonl

    log = _audit_log(args)
    since, until = _window(args)
    records = log.read(since, until)
    write = export_csv if args.format == "csv" else export_jsonl
    if args.output:
        try:
            fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as err:
            raise CommandError(f"cannot write {args.output} ({err.strerror})", status=1) from None
        with open(fd, "w", encoding="utf-8", newline="") as out:
            count = write(records, out)
    else:
        count = write(records, sys.stdout)
    where = f" to {args.output}" if args.output else ""
    print(f"exported {count} events{where}", file=sys.stderr)
    return _say_broken(_broken_chains(log))


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

    def command(
        name: str, handler: Callable | None, help_text: str, store: bool = True
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        if store:
            sub.add_argument(
                "--store",
                type=Path,
                help="index folder (default: TOOLKIT_ASSISTANT_STORE or .toolkit-assistant/store)",
            )
        # serve prints nothing a tool would parse; user's actions take --json themselves
        if name not in {"serve", "user", "llm-server"}:
            sub.add_argument("--json", action="store_true", help="print machine-readable JSON")
        return sub

    ingest = command("ingest", cmd_ingest, "Make the index mirror the given files and folders.")
    ingest.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: corpus/)"
    )
    ingest.add_argument(
        "--rebuild",
        action="store_true",
        help="build the index afresh from the files (the old store is kept aside, renamed): "
        "the fix for a damaged index",
    )

    command("status", cmd_status, "List the indexed documents and which corpus is loaded.")

    ask = command("ask", cmd_ask, "Answer a question from the corpus, with citations.")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument(
        "--k",
        type=int,
        help="passages to retrieve, the only ones the answer quotes (default: setting "
        "retrieval.k, and the answer may also quote the passages next to them: "
        "retrieval.neighbour_passages)",
    )
    ask.add_argument(
        "--history",
        action="append",
        metavar="QUESTION",
        help="an earlier question of the conversation (repeatable), for follow-ups",
    )
    add_answerer_argument(ask)

    serve = command("serve", cmd_serve, "Serve the chat in the browser (Gradio).")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 7860)")
    serve.add_argument(
        "--ensure-index",
        action="store_true",
        help="first bring the index in line with the corpus folder (what `make run` does)",
    )
    add_answerer_argument(serve)

    llm = command(
        "llm-server",
        cmd_llm_server,
        "Serve the bundled model (SmolLM2-135M, llama.cpp) as an OpenAI-compatible endpoint.",
        store=False,
    )
    llm.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    llm.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")

    if importlib.util.find_spec("evals.cli") is not None:
        _add_eval(command)

    _add_user(command("user", None, "Add, remove or list the users of the app.", store=False))

    _add_audit(
        command(
            "audit",
            cmd_audit,
            "Print the audit trail (questions, corpus and account changes, sign-ins, "
            "oversight, purposes); exit 1 if its hash chain is broken.",
            store=False,
        )
    )

    return parser


_SINCE_HELP = "only events at or after DATE (YYYY-MM-DD or ISO; no offset means UTC)"
_UNTIL_HELP = "only events before DATE (YYYY-MM-DD or ISO; no offset means UTC)"


def _add_audit(audit: argparse.ArgumentParser) -> None:
    audit.add_argument("--since", metavar="DATE", help=_SINCE_HELP)
    audit.add_argument("--until", metavar="DATE", help=_UNTIL_HELP)
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION")

    verify = actions.add_parser(
        "verify",
        help="check the hash chains; exit 1 and name the first broken link",
        description="Check that no audit event was changed, removed, moved or inserted, and "
        "that no file was cut or removed. Exit status 0 when intact, 1 when broken.",
    )
    verify.set_defaults(handler=cmd_audit_verify)
    verify.add_argument("--json", action="store_true", help="print machine-readable JSON")

    export = actions.add_parser(
        "export",
        help="write the events of a period as JSON lines or CSV",
        description="Write the events between --since and --until, in time order, for an "
        "inspection. Exit status 1 if the chain is broken (the events are still written).",
    )
    export.set_defaults(handler=cmd_audit_export)
    export.add_argument("--since", metavar="DATE", help=_SINCE_HELP)
    export.add_argument("--until", metavar="DATE", help=_UNTIL_HELP)
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument(
        "--output", "-o", metavar="FILE", help="write here (mode 0600) instead of stdout"
    )


def _add_user(user: argparse.ArgumentParser) -> None:
    json_help = "print machine-readable JSON"
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")

    add = actions.add_parser(
        "add",
        help="add a user, asking for the password (or reading it with --password-stdin)",
        description="Add a user. The password (8 characters or more) is stored as a bcrypt hash.",
    )
    add.set_defaults(handler=cmd_user_add)
    add.add_argument("name", metavar="NAME", help="letters, digits, '.', '_' or '-'")
    add.add_argument(
        "--role", required=True, help="officer (the chat) or staff (also the admin tab)"
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from one line of stdin"
    )
    add.add_argument(
        "--replace", action="store_true", help="give an existing user a new password and role"
    )
    add.add_argument("--json", action="store_true", help=json_help)

    remove = actions.add_parser("remove", help="remove a user", description="Remove a user.")
    remove.set_defaults(handler=cmd_user_remove)
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("--json", action="store_true", help=json_help)

    listing = actions.add_parser(
        "list", help="list the users and their roles", description="List users and roles."
    )
    listing.set_defaults(handler=cmd_user_list)
    listing.add_argument("--json", action="store_true", help=json_help)


def _known_errors() -> tuple[type[BaseException], ...]:
    from assistant.access.audit import AuditConfigError
    from assistant.qa.domain import DomainModelError
    from assistant.qa.opener import OpenerAdapterError
    from assistant.qa.query_adapter import QueryAdapterError
    from ingest.loaders import LoadError
    from ingest.manifest import ManifestError
    from ingest.refresh import RefreshInProgressError, UsageError

    return (
        AuditConfigError,
        DomainModelError,
        LoadError,
        ManifestError,
        OpenerAdapterError,
        QueryAdapterError,
        RefreshInProgressError,
        UsageError,
    )


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
