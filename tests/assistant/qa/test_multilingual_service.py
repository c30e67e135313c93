"""Questions in French, Spanish and Arabic end to end: real MiniLM, real Chroma, real e5."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.multilingual import MULTILINGUAL_DIR, unavailable_reason
from ingest.refresh import refresh
from ingest.settings import Settings

pytestmark = pytest.mark.integration

_POLICY = """# Sample policy on AI

## 1 Principles
The five core principles are lawfulness, minimization of harm, human autonomy, fairness
and good governance. Each principle applies at every stage of the life cycle.

## 2 Audits
High-impact use cases are audited every twelve months by an independent auditor, who
reports to the AI Governance Board.
"""
_NOTE = """# Note sur les audits

## 1 Fréquence
Les systèmes d'IA à fort impact sont audités chaque année par un auditeur indépendant.
"""


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "policy.md").write_text(_POLICY, encoding="utf-8")
    (corpus / "note.md").write_text(_NOTE, encoding="utf-8")
    return corpus


def _assistant(tmp_path: Path, multilingual: bool):
    from assistant.qa.service import Assistant

    corpus = _corpus(tmp_path)
    settings = Settings(
        store=tmp_path / "store", corpus=corpus, retrieval={"multilingual": multilingual}
    )
    report = refresh([corpus], settings)
    assert not report.failed
    return Assistant(settings), settings


def test_with_the_multilingual_side_off_a_french_question_gets_the_notice_in_french(
    tmp_path: Path,
) -> None:
    assistant, settings = _assistant(tmp_path, multilingual=False)
    assert not (settings.store / MULTILINGUAL_DIR).exists()  # nothing embedded for it
    answer = assistant.ask("Quels sont les cinq principes fondamentaux ?")
    assert not answer.refused
    assert "anglais" in answer.answer and answer.language == "fr"
    assert answer.citations == []
    english = assistant.ask("What are the five core principles?")
    assert not english.refused and english.citations


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_questions_in_four_languages_find_the_english_passage(tmp_path: Path) -> None:
    assistant, settings = _assistant(tmp_path, multilingual=True)
    assert any((settings.store / MULTILINGUAL_DIR).iterdir())
    for question in (
        "Quels sont les cinq principes fondamentaux ?",
        "¿Cuáles son los cinco principios fundamentales?",
        "ما هي المبادئ الأساسية الخمسة؟",
    ):
        passages = assistant.retrieve(question, k=3)
        assert passages[0].section.endswith("Principles"), (question, passages[0].section)
        answer = assistant.ask(question)
        assert not answer.refused, question
        assert answer.language != "en"
        # The quotes stay English, verbatim; a line in the question's language says so.
        assert any("lawfulness" in c.quote for c in answer.citations)
        assert answer.notice


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_a_french_document_answers_an_english_question_and_an_unchanged_refresh_reuses_vectors(
    tmp_path: Path,
) -> None:
    assistant, settings = _assistant(tmp_path, multilingual=True)
    passages = assistant.retrieve("Que dit la note sur la fréquence des audits ?", k=3)
    assert "note.md" in {p.source for p in passages}
    again = refresh([settings.corpus], settings)
    assert again.multilingual_embedded == 0


@pytest.mark.skipif(unavailable_reason() is not None, reason=str(unavailable_reason()))
def test_e5_sentences_are_embedded_ahead_only_once_a_question_not_in_english_came(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.qa import multilingual

    monkeypatch.setattr(multilingual._E5Sentences, "_cache", {})
    assistant, _ = _assistant(tmp_path, multilingual=True)
    assistant.ask("What are the five core principles?")
    assert assistant.pre_embed_multilingual_sentences(1000) == 0, "English only: no e5 cost"
    assistant.ask("Quels sont les cinq principes fondamentaux ?")
    assert assistant.multilingual_asked
    multilingual._E5Sentences._cache.clear()  # as in a new process: nothing held yet
    encoded = assistant.pre_embed_multilingual_sentences(1000)
    assert encoded > 2 and len(multilingual._E5Sentences._cache) == encoded
    assert assistant.pre_embed_multilingual_sentences(1000) == 0, "each sentence once"
    assert assistant.pre_embed_multilingual_sentences(1) == 0, "over the limit: skipped"

    calls: list[list[str]] = []
    real = assistant.multilingual.encoder.embed_passages
    monkeypatch.setattr(
        assistant.multilingual.encoder,
        "embed_passages",
        lambda texts: calls.append(texts) or real(texts),
    )
    answer = assistant.ask("¿Cuáles son los cinco principios fundamentales?")
    assert not answer.refused and calls == [], "every sentence it weighed was held"
