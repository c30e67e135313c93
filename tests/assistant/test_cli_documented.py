"""The CLI is a contract: every flag of every `toolkit-assistant` subcommand is documented
in docs/cli.md, in the section of its command."""

from __future__ import annotations

import argparse
import re

from paths import REPO

from assistant.cli import build_parser


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    """Long options of `parser` and of its own subcommands (`user add --role`)."""
    found = {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    for sub in _subcommands(parser).values():
        found |= _flags(sub)
    return found


def _sections(markdown: str) -> dict[str, str]:
    """Each `## `command`` section of docs/cli.md, by command name."""
    parts = re.split(r"^## `([a-z-]+)`$", markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_subcommand_flag_is_in_its_section_of_docs_cli() -> None:
    commands = _subcommands(build_parser())
    assert {"ingest", "status", "ask", "serve", "eval", "user", "audit", "llm-server"} <= set(
        commands
    )
    sections = _sections((REPO / "docs" / "cli.md").read_text())
    problems = []
    for name, parser in commands.items():
        section = sections.get(name)
        if section is None:
            problems.append(f"{name}: no '## `{name}`' section in docs/cli.md")
            continue
        for flag in sorted(_flags(parser)):
            if not re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", section):
                problems.append(f"{name} {flag}: not in its section of docs/cli.md")
    assert not problems, "\n".join(problems)


def test_the_flag_walk_reaches_nested_subcommands() -> None:
    user = _subcommands(build_parser())["user"]
    assert {"--role", "--password-stdin", "--replace", "--json"} <= _flags(user)
