"""Read and validate an eval set: one JSON object per line (the contract is in docs/evals.md).

```
{"id": "s-001", "question": "...", "kind": "factoid",
 "gold": [{"source": "01-toolkit-overview.pdf", "pages": [1]}], "key_facts": ["..."]}
```
PDF gold entries give 1-based `pages`; Markdown/HTML/text entries give a `section`, which
matches any component of a citation's " > "-separated heading path (case-insensitive).
`out_of_scope` questions have empty `gold` and `key_facts`; follow-ups add `history`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = (
    "factoid",
    "list",
    "definition",
    "procedural",
    "paraphrase",
    "multi-page",
    "follow-up",
    "yes-no",
    "count",
    "out_of_scope",
)
OUT_OF_SCOPE = "out_of_scope"
SECTION_SEPARATOR = " > "
_ALLOWED_KEYS = {"id", "question", "kind", "gold", "key_facts", "history", "notes"}


class EvalSetError(ValueError):
    """The eval set cannot be used; the one-line message names the file, line and problem."""


def _source_name(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def _section_components(section: str) -> set[str]:
    return {part.strip().casefold() for part in section.split(SECTION_SEPARATOR) if part.strip()}


@dataclass(frozen=True)
class GoldRef:
    """Where an answer lives: pages of a PDF, or a section of a document without pages."""

    source: str  # file base name, e.g. "02-principles.pdf"
    pages: tuple[int, ...] = ()
    section: str | None = None

    def units(self) -> list[str]:
        """The ranking units this entry stands for (see `unit_id`)."""
        if self.section is not None:
            return [section_unit_id(self.source, self.section)]
        return [page_unit_id(self.source, page) for page in self.pages]

    def matching_unit(self, source: str, page: int | None, section: str) -> str | None:
        """The unit of this entry that a passage or citation at (source, page, section) hits."""
        if _source_name(source) != self.source:
            return None
        if self.section is not None:
            if self.section.strip().casefold() in _section_components(section):
                return section_unit_id(self.source, self.section)
            return None
        return page_unit_id(self.source, page) if page in self.pages else None


def page_unit_id(source: str, page: int) -> str:
    return f"{_source_name(source)}#p{page}"


def section_unit_id(source: str, section: str) -> str:
    return f"{_source_name(source)}#s:{section.strip().casefold()}"


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    kind: str
    gold: tuple[GoldRef, ...] = ()
    key_facts: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    line: int = 0  # where it was read, for messages about it

    @property
    def in_scope(self) -> bool:
        return self.kind != OUT_OF_SCOPE


@dataclass
class EvalSet:
    name: str  # the file's stem, e.g. "sample"; the gate and the report use it
    path: Path
    questions: list[EvalQuestion] = field(default_factory=list)


def read_eval_set(path: Path) -> EvalSet:
    """Parse and validate every line; the first problem raises `EvalSetError`."""
    if not path.is_file():
        raise EvalSetError(f"{path}: no such eval set file")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise EvalSetError(f"{path}: cannot read the eval set ({err})") from None
    questions: list[EvalQuestion] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        question = _parse_line(line, _Where(path, number))
        if question.id in seen:
            raise EvalSetError(
                f"{path}:{number}: duplicate id {question.id!r} (first on line {seen[question.id]})"
            )
        seen[question.id] = number
        questions.append(question)
    if not questions:
        raise EvalSetError(f"{path}: the eval set has no questions")
    return EvalSet(path.stem, path, questions)


@dataclass(frozen=True)
class _Where:
    path: Path
    line: int

    def error(self, problem: str) -> EvalSetError:
        return EvalSetError(f"{self.path}:{self.line}: {problem}")


def _parse_line(line: str, where: _Where) -> EvalQuestion:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise where.error(f"not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(row, dict):
        raise where.error("each line must be a JSON object")
    unknown = sorted(set(row) - _ALLOWED_KEYS)
    if unknown:
        raise where.error(
            f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_ALLOWED_KEYS))}"
        )
    for key in ("id", "question", "kind"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise where.error(f"{key!r} must be a non-empty string")
    kind = row["kind"]
    if kind not in KINDS:
        raise where.error(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    gold = tuple(_parse_gold(entry, where) for entry in _list_of(row, "gold", where, dict))
    key_facts = tuple(_list_of(row, "key_facts", where, str))
    history = tuple(_list_of(row, "history", where, str))
    if kind == OUT_OF_SCOPE and (gold or key_facts):
        raise where.error("an out_of_scope question must have empty 'gold' and 'key_facts'")
    if kind != OUT_OF_SCOPE and not gold:
        raise where.error(f"a {kind} question needs at least one 'gold' entry")
    if kind == "follow-up" and not history:
        raise where.error("a follow-up question needs 'history': the earlier questions")
    if any(not fact.strip() for fact in key_facts):
        raise where.error("'key_facts' holds an empty string")
    return EvalQuestion(row["id"], row["question"], kind, gold, key_facts, history, where.line)


def _list_of(row: dict, key: str, where: _Where, item_type: type) -> list:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, item_type) for item in value):
        wanted = "strings" if item_type is str else "objects"
        raise where.error(f"{key!r} must be a list of {wanted}")
    return value


def _parse_gold(entry: dict, where: _Where) -> GoldRef:
    source = entry.get("source")
    if not isinstance(source, str) or not source.strip() or "/" in source:
        raise where.error(
            "each gold entry needs 'source': the file's base name, e.g. \"02-principles.pdf\""
        )
    extra = sorted(set(entry) - {"source", "pages", "section"})
    if extra:
        raise where.error(f"gold entry for {source}: unknown key(s) {', '.join(extra)}")
    has_pages, has_section = "pages" in entry, "section" in entry
    if has_pages == has_section:
        raise where.error(
            f"gold entry for {source}: give either 'pages' (PDF) or 'section', not both or neither"
        )
    if has_section:
        section = entry["section"]
        if not isinstance(section, str) or not section.strip():
            raise where.error(f"gold entry for {source}: 'section' must be a non-empty string")
        return GoldRef(source, section=section.strip())
    pages = entry["pages"]
    # bool is an int in Python; `true` as a page number is a typo, not page 1.
    if (
        not isinstance(pages, list)
        or not pages
        or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in pages)
    ):
        raise where.error(
            f"gold entry for {source}: 'pages' must be a non-empty list of 1-based page numbers"
        )
    return GoldRef(source, pages=tuple(sorted(set(pages))))
