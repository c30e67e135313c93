"""Print the `uv pip install` flags that give uv the package sources pip is configured with.

uv reads neither pip.conf nor PIP_* variables. A machine that keeps wheels on its own disk
(here: the CPU build of torch in /opt/wheels, a local mirror under /opt/pypi) says so in
pip's configuration, so `make` hands the same find-links, extra indexes and constraints to
uv. `--index-strategy unsafe-best-match` makes uv choose among all indexes as pip does
(uv's default takes a package from the first index that has it, whatever the version).

Usage (by the Makefile, with the venv's python):  python tools/uv_flags.py
"""

from __future__ import annotations

import shlex
import subprocess
import sys

# pip option -> uv option; pip writes each as a space-separated list.
OPTIONS = {
    "index-url": "--default-index",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
}


def pip_config() -> dict[str, str]:
    """pip's merged configuration (files, then PIP_* variables, which win), by option name."""
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    found: dict[str, tuple[int, str]] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        section, _, option = key.rpartition(".")
        if option not in OPTIONS or section not in {"global", "install", ":env:"}:
            continue
        rank = {"global": 0, "install": 1, ":env:": 2}[section]
        if option not in found or rank >= found[option][0]:
            found[option] = (rank, value.strip().strip("'\""))
    return {option: value for option, (_, value) in found.items()}


def uv_flags(config: dict[str, str]) -> list[str]:
    flags = ["--index-strategy", "unsafe-best-match"]
    for option, value in config.items():
        for item in value.split():
            flags += [OPTIONS[option], item]
    return flags


if __name__ == "__main__":
    print(shlex.join(uv_flags(pip_config())))
