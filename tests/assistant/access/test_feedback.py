"""Thumbs up/down lines in the local JSONL file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.access.feedback import record_feedback
from assistant.qa.models import Answer, Citation


def _answer() -> Answer:
    citation = Citation(
        n=1,
        source="02-principles.pdf",
        title="Principles",
        page=1,
        section="2.1",
        text="t",
        quote="q",
        score=0.6,
    )
    return Answer(
        question="What are the principles?", answer="Five. [1]", refused=False, citations=[citation]
    )


def test_votes_are_appended_with_question_answer_and_sources(tmp_path: Path) -> None:
    path = tmp_path / "new-folder" / "feedback.jsonl"
    record_feedback(path, _answer(), "up")
    record_feedback(path, _answer(), "down")
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["vote"] for line in lines] == ["up", "down"]
    first = lines[0]
    assert first["question"] == "What are the principles?" and first["answer"] == "Five. [1]"
    assert first["sources"] == [
        {"n": 1, "source": "02-principles.pdf", "page": 1, "section": "2.1"}
    ]
    assert first["time"].endswith("+00:00")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # questions can be sensitive


def test_unknown_vote_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="vote"):
        record_feedback(tmp_path / "f.jsonl", _answer(), "meh")
    assert not (tmp_path / "f.jsonl").exists()
