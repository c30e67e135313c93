"""Thumbs up/down on answers, appended to a local JSONL file.

Questions can be operationally sensitive, so the file stays on this machine, is readable
by its owner only, and holds what is needed to review an answer: no user or client data.
With `audit.store_questions = false` it keeps neither the question nor the answer (which
quotes what the question was about), only the question's keyed hash and the cited sources.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime

from assistant.access.secrets import question_hash
from assistant.qa.models import Answer
from ingest.settings import Settings

VOTES = ("up", "down")
_write_lock = threading.Lock()  # the app answers in worker threads


def feedback_record(answer: Answer, vote: str, settings: Settings) -> dict:
    """One JSONL line: time, vote, question hash (and text, if kept), answer, sources."""
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
    record: dict = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "vote": vote,
        "question_hash": question_hash(answer.question, settings),
    }
    if settings.audit.store_questions:
        record["question"] = answer.question
        record["answer"] = answer.answer
    record["refused"] = answer.refused
    record["sources"] = [
        {"n": c.n, "source": c.source, "page": c.page, "section": c.section}
        for c in answer.citations
    ]
    return record


def record_feedback(settings: Settings, answer: Answer, vote: str) -> dict:
    """Append the vote on `answer` to `app.feedback_file` (created 0600 with its folder);
    return the line."""
    record = feedback_record(answer, vote, settings)
    path = settings.app.feedback_file
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(line)
    return record
