"""The learned files shipped beside this code: read, and one clear error when unreadable."""

from __future__ import annotations

from importlib import resources

import numpy as np


def read_arrays(
    name: str, keys: tuple[str, ...], error: type[ValueError], remedy: str
) -> dict[str, np.ndarray]:
    """The arrays `keys` of the bundled file `name`; `error` names the file and `remedy`."""
    try:
        bundled = resources.files("assistant.qa") / name
        with resources.as_file(bundled) as path, np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in keys}
    except (OSError, KeyError, ValueError, EOFError) as err:
        raise error(f"{name}: cannot be read ({err}); {remedy}") from err
