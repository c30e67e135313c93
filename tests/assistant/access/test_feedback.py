"""Thumbs up/down lines in the local JSONL file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from assistant.access.feedback import record_feedback
from assistant.access.secrets import question_hash
from assistant.qa.models import Answer, Citation
from ingest.settings import Settings


def _settings(tmp_path: Path, store_questions: bool = True, name: str = "feedback.jsonl"):
    return Settings(
        app={"feedback_file": tmp_path / "new-folder" / name},
        auth={"secret_file": tmp_path / "data" / "install-secret"},
        audit={"store_questions": store_questions},
    )


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
    settings = _settings(tmp_path)
    path = settings.app.feedback_file
    record_feedback(settings, _answer(), "up")
    record_feedback(settings, _answer(), "down")
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
    settings = _settings(tmp_path)
    with pytest.raises(ValueError, match="vote"):
        record_feedback(settings, _answer(), "meh")
    assert not settings.app.feedback_file.exists()


def test_store_questions_false_keeps_no_question_or_answer_text(tmp_path: Path) -> None:
    """The attack: read feedback.jsonl for the questions the audit setting keeps out."""
    settings = _settings(tmp_path, store_questions=False)
    record_feedback(settings, _answer(), "down")
    text = settings.app.feedback_file.read_text(encoding="utf-8")
    assert "What are the principles?" not in text and "Five." not in text
    line = json.loads(text)
    assert "question" not in line and "answer" not in line
    assert line["question_hash"] == question_hash("What are the principles?", settings)
    assert line["sources"][0]["source"] == "02-principles.pdf" and line["vote"] == "down"


def test_the_stored_hash_cannot_be_matched_by_hashing_guesses(tmp_path: Path) -> None:
    """The attack: hash likely short questions and look for them in the file."""
    import hashlib

    settings = _settings(tmp_path, store_questions=False)
    line = record_feedback(settings, _answer(), "up")
    guess = b"What are the principles?"
    assert line["question_hash"] not in {
        hashlib.sha256(guess).hexdigest(),
        hashlib.sha256(guess.lower()).hexdigest(),
    }
    assert line["question_hash"] != question_hash(
        "What are the principles?", _settings(tmp_path / "another-install")
    ), "each install has its own key"
