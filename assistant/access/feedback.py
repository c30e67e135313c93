"""Thumbs up/down on answers, appended to a local JSONL file.

Questions can be operationally sensitive, so the file stays on this machine, is readable
by its owner only, and holds what is needed to review an answer: no user or client data.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from assistant.qa.models import Answer

VOTES = ("up", "down")
_write_lock = threading.Lock()  # the app answers in worker threads


def feedback_record(answer: Answer, vote: str) -> dict:
    """One JSONL line: time, question, answer, cited sources and the vote."""
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "vote": vote,
        "question": answer.question,
        "answer": answer.answer,
        "refused": answer.refused,
        "sources": [
            {"n": c.n, "source": c.source, "page": c.page, "section": c.section}
            for c in answer.citations
        ],
    }


def record_feedback(path: Path, answer: Answer, vote: str) -> dict:
    """Append the vote on `answer` to `path` (created 0600 with its folder); return the line."""
    record = feedback_record(answer, vote)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)
    return record
