"""Settings are a contract: each is in docs/settings.md, with its variable and default."""

from __future__ import annotations

import re

from paths import REPO
from pydantic import BaseModel

from ingest.settings import Settings

_ROW = re.compile(
    r"^\| `(?P<name>[a-z0-9_.]+)` \| `(?P<env>[A-Z0-9_]+)` \| (?P<default>[^|]+) \|", re.M
)


def _leaves(model: type[BaseModel], prefix: str = "") -> dict[str, object]:
    found: dict[str, object] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= _leaves(annotation, f"{prefix}{name}.")
        else:
            found[f"{prefix}{name}"] = field.default
    return found


def _shown(default: object) -> str:
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return str(default).lower()
    return str(default)


def test_every_setting_is_documented_with_its_variable_and_default() -> None:
    rows = {m["name"]: m for m in _ROW.finditer((REPO / "docs" / "settings.md").read_text())}
    problems = []
    for name, default in _leaves(Settings).items():
        row = rows.get(name)
        env = "TOOLKIT_ASSISTANT_" + name.upper().replace(".", "__")
        if row is None:
            problems.append(f"{name}: no row in the settings table of docs/settings.md")
        elif row["env"] != env:
            problems.append(f"{name}: variable {row['env']}, expected {env}")
        elif _shown(default).replace(",", "") not in row["default"].replace("`", "").replace(
            ",", ""
        ):
            problems.append(f"{name}: default shown as {row['default'].strip()}, is {default}")
    assert not problems, "\n".join(problems)
