"""The generative answerer's decisions, with a scripted chat model and the real verifier.

The model here is LangChain's fake chat model, so each test fixes what was "written"; the
tests with the real model are in test_generative_llm.py.
"""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.llm.generate import (
    MARKED_NOTICE,
    UNANSWERED_NOTICE,
    UNREACHABLE_NOTICE,
    UNVERIFIED_MARK,
    UNVERIFIED_NOTICE,
    GenerativeAnswerer,
)
from assistant.llm.verify import Verifier
from assistant.qa.models import Answer, Citation, Passage
from ingest.embedding import Embedder
from ingest.settings import GenerationSettings

PASSAGES = [
    Passage(
        "c1", "d1", "principles.pdf", "Principles", 3, "2 Proportionality",
        "Proportionality means that the use of an AI system must be necessary and balanced "
        "against its intrusion on the rights of the people affected.", 0.9, 0.8,
    ),
    Passage(
        "c2", "d2", "procurement.pdf", "Procurement", 5, "4 Contracts",
        "Contracts with a vendor run for 24 months and give the agency the right to audit "
        "the system.", 0.8, 0.7,
    ),
]  # fmt: skip
SUPPORTED_2 = "Contracts with a vendor run for 24 months [2]."
SUPPORTED_1 = "Proportionality means that the use of an AI system must be necessary [1]."
UNSUPPORTED = "Officers may skip the assessment when they are in a hurry [1]."


class _Quoted:
    """Stands in for the extractive answerer: its answer is the fallback."""

    language = "en"  # the question's, as the extractive answerer finds it

    def answer(self, question: str, passages: list[Passage], history: list[str]) -> Answer:
        p = passages[0]
        citation = Citation(1, p.source, p.title, p.page, p.section, p.text, p.text, 0.8)
        return Answer(question, f"{p.text} [1]", False, [citation], language=self.language)


class _Down(GenericFakeChatModel):
    def _stream(self, *args, **kwargs):
        raise ConnectionError("connection refused")


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(Embedder(), min_support=GenerationSettings().min_support)


def _answer(verifier: Verifier, written: str | None, **settings) -> tuple[Answer, str]:
    model = (
        _Down(messages=iter([]))
        if written is None
        else GenericFakeChatModel(messages=iter([AIMessage(content=written)]))
    )
    answerer = GenerativeAnswerer(
        GenerationSettings(context="passages", **settings), _Quoted(), verifier, lambda: model
    )
    items = list(answerer.stream("What applies?", PASSAGES, []))
    assert isinstance(items[-1], Answer)
    return items[-1], "".join(i for i in items if isinstance(i, str))


def test_citations_are_renumbered_in_the_order_they_are_shown(verifier) -> None:
    answer, streamed = _answer(verifier, f"{SUPPORTED_2} {SUPPORTED_1}")
    assert streamed == f"{SUPPORTED_2} {SUPPORTED_1}"
    assert answer.answerer == "generative" and not answer.notice
    assert answer.answer.splitlines() == [
        "Contracts with a vendor run for 24 months. [1]",
        "Proportionality means that the use of an AI system must be necessary. [2]",
    ]
    assert [(c.n, c.source) for c in answer.citations] == [
        (1, "procurement.pdf"),
        (2, "principles.pdf"),
    ]
    assert answer.citations[0].quote in PASSAGES[1].text


def test_an_unsupported_sentence_is_removed(verifier) -> None:
    answer, _ = _answer(verifier, f"{SUPPORTED_1} {SUPPORTED_2} {UNSUPPORTED}")
    assert answer.answerer == "generative"
    assert "skip" not in answer.answer
    assert len(answer.answer.splitlines()) == 2


def test_or_shown_marked_as_unverified(verifier) -> None:
    answer, _ = _answer(verifier, f"{SUPPORTED_1} {UNSUPPORTED}", unsupported="mark")
    assert answer.notice == MARKED_NOTICE
    assert answer.answer.splitlines()[1] == (
        f"Officers may skip the assessment when they are in a hurry. {UNVERIFIED_MARK}"
    )
    assert [c.n for c in answer.citations] == [1]


def test_too_little_verified_shows_the_extractive_answer(verifier) -> None:
    answer, _ = _answer(verifier, f"{UNSUPPORTED} The moon is made of green cheese [2].")
    assert answer.answerer == "extractive"
    assert answer.notice == UNVERIFIED_NOTICE
    assert answer.answer == f"{PASSAGES[0].text} [1]"


def test_a_backend_failure_shows_the_extractive_answer_with_a_notice(verifier) -> None:
    answer, streamed = _answer(verifier, None)
    assert streamed == ""
    assert answer.answerer == "extractive" and answer.notice == UNREACHABLE_NOTICE


def test_a_model_that_repeats_itself_is_cut_off(verifier) -> None:
    answer, streamed = _answer(verifier, " ".join([SUPPORTED_1] * 6))
    assert streamed.count(SUPPORTED_1) == 2  # stopped at the first repeat
    assert answer.answer.count("necessary") == 1


def test_a_figure_asked_for_but_not_given_shows_the_quotes(verifier) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(content=SUPPORTED_1)]))
    answerer = GenerativeAnswerer(
        GenerationSettings(context="passages"), _Quoted(), verifier, lambda: model
    )
    answer = answerer.answer("How many months do contracts run?", PASSAGES, [])
    assert answer.answerer == "extractive" and answer.notice == UNANSWERED_NOTICE


def test_a_french_sentence_the_verifier_cannot_tie_to_its_english_source_gives_the_quotes(
    verifier,
) -> None:
    """Issue 15: the model is asked for French; what it cannot verify is never shown."""
    quoted = _Quoted()
    quoted.language = "fr"
    written = "La proportionnalité signifie que l'usage d'un système d'IA doit être nécessaire [1]."
    seen: list = []

    class _Recording(GenericFakeChatModel):
        def _stream(self, messages, *args, **kwargs):
            seen.extend(messages)
            return super()._stream(messages, *args, **kwargs)

    model = _Recording(messages=iter([AIMessage(content=written)]))
    answerer = GenerativeAnswerer(
        GenerationSettings(context="passages"), quoted, verifier, lambda: model
    )
    answer = answerer.answer("Que signifie la proportionnalité ?", PASSAGES, [])
    assert seen[-1].content.endswith("Write the answer in French.")
    assert answer.answerer == "extractive" and answer.notice == UNVERIFIED_NOTICE
    assert answer.answer == f"{PASSAGES[0].text} [1]" and answer.language == "fr"


def test_a_verified_answer_in_the_question_language_is_shown_with_its_labels(verifier) -> None:
    """A Spanish question over a Spanish document: the model's Spanish sentence is checked
    against its source and shown; the assistant's own words follow the question."""
    spanish = [
        Passage(
            "c9", "d9", "nota.md", "Nota", None, "Encuentros",
            "Los encuentros mundiales reúnen cada año a policías, investigadores y "
            "organismos internacionales para hablar de la IA responsable.", 0.9, 0.8,
        )
    ]  # fmt: skip
    quoted = _Quoted()
    quoted.language = "es"
    written = (
        "Los encuentros mundiales reúnen cada año a policías, investigadores y organismos "
        "internacionales [1]."
    )
    model = GenericFakeChatModel(messages=iter([AIMessage(content=written)]))
    answerer = GenerativeAnswerer(
        GenerationSettings(context="passages"), quoted, verifier, lambda: model
    )
    answer = answerer.answer("¿Quién participa en los encuentros mundiales?", spanish, [])
    assert answer.answerer == "generative" and answer.language == "es"
    assert answer.answer.startswith("Los encuentros mundiales")


def test_an_answer_copied_in_another_language_than_the_question_gives_the_quotes(
    verifier,
) -> None:
    quoted = _Quoted()
    quoted.language = "es"
    model = GenericFakeChatModel(messages=iter([AIMessage(content=SUPPORTED_1)]))
    answerer = GenerativeAnswerer(
        GenerationSettings(context="passages"), quoted, verifier, lambda: model
    )
    answer = answerer.answer("¿Qué significa la proporcionalidad?", PASSAGES, [])
    assert answer.answerer == "extractive" and answer.notice == UNVERIFIED_NOTICE
    assert answer.language == "es"
