"""Writes that survive a crash: after a file is renamed into a folder, sync the folder.

A rename is recorded in the folder, not in the file: without this a power cut can lose a
users file or an upload that the caller already reported as saved.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Make a rename into `folder` durable; not every platform can open a folder."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
