"""The assistant over the real sample corpus (and the NIST AI RMF): real model, real Chroma.

The guarantee that counts: every answer line is a verbatim span of the passage its [n]
cites, for every in-scope question of the eval sets, and out-of-scope questions are
refused with pointers rather than answered.
"""

from __future__ import annotations

import re

import pytest
from paths import REPO

from assistant.qa.models import Answer
from assistant.qa.service import MAX_QUESTION_CHARS, Assistant, QuestionError, clean_question
from evals.sets_io import EvalQuestion, read_eval_set

pytestmark = pytest.mark.integration

SAMPLE_SET = read_eval_set(REPO / "evals" / "sets" / "sample.jsonl").questions
NIST_SET = REPO / "evals" / "sets" / "nist.jsonl"
_CITED_LINE = re.compile(r"^(?:- )?(?P<text>.+) \[(?P<n>\d+)\]$")
MAX_FALSE_REFUSALS = 0.05


def ask(assistant: Assistant, question: EvalQuestion) -> Answer:
    return assistant.ask(question.question, history=list(question.history))


def answer_all(assistant: Assistant, questions: list[EvalQuestion]) -> dict[str, Answer]:
    return {q.id: ask(assistant, q) for q in questions}


def verbatim_violations(
    answers: dict[str, Answer], passage_texts: set[str]
) -> list[tuple[str, str, str]]:
    """(question id, answer line, what is wrong) for every line that is not a cited span."""
    problems = []
    for question_id, answer in answers.items():
        if answer.refused:
            continue
        by_number = {c.n: c for c in answer.citations}
        if not answer.answer.strip():
            problems.append((question_id, "", "answered with no text"))
        for line in answer.answer.splitlines():
            match = _CITED_LINE.match(line)
            if not match:
                problems.append((question_id, line, "no [n] at the end"))
                continue
            citation = by_number.get(int(match["n"]))
            if citation is None:
                problems.append((question_id, line, f"[{match['n']}] is not a citation"))
            elif citation.text not in passage_texts:
                problems.append((question_id, line, f"[{citation.n}] is not a stored passage"))
            elif match["text"] not in citation.text:
                problems.append((question_id, line, f"not a span of [{citation.n}]"))
            elif match["text"] not in citation.quote:
                problems.append((question_id, line, f"not in the quote of [{citation.n}]"))
    return problems


def stored_texts(assistant: Assistant) -> set[str]:
    return {c.text for c in assistant.retriever.snapshot().chunks.values()}


def show(problems: list[tuple[str, str, str]], limit: int = 8) -> str:
    return "\n".join(f"{qid}: {why}: {line[:160]!r}" for qid, line, why in problems[:limit])


@pytest.fixture(scope="module")
def nist_assistant(nist_ingest) -> Assistant:
    _, settings = nist_ingest  # tests/conftest.py: one ingest per session
    return Assistant(settings)


# -- (a) the first citation is where the gold answer lives --------------------------------
FACTOIDS = ["s-004", "s-025", "s-033", "s-049", "s-057", "s-073", "s-086", "s-097", "s-102"]


@pytest.mark.parametrize("question_id", FACTOIDS)
def test_factoid_first_citation_is_the_gold_source_and_page(
    sample_answers: dict[str, Answer], question_id: str
) -> None:
    question = next(q for q in SAMPLE_SET if q.id == question_id)
    answer = sample_answers[question_id]
    assert not answer.refused, question.question
    first = answer.citations[0]
    hits = [g.matching_unit(first.source, first.page, first.section) for g in question.gold]
    assert any(hits), (
        f"{question.question}\n cited {first.file_name} p.{first.page} ({first.section}); "
        f"gold {question.gold}"
    )


# -- (b), (c) every line is a verbatim span of the passage it cites --------------------------
def test_every_sample_answer_line_is_a_verbatim_span_of_its_citation(
    sample_answers: dict[str, Answer], sample_assistant: Assistant
) -> None:
    in_scope = {q.id: sample_answers[q.id] for q in SAMPLE_SET if q.in_scope}
    answered = sum(not a.refused for a in in_scope.values())
    assert answered >= 0.9 * len(in_scope), "too few answers to make the check mean much"
    problems = verbatim_violations(in_scope, stored_texts(sample_assistant))
    assert len(problems) == 0, f"{len(problems)} violations, e.g.\n{show(problems)}"


def test_citations_are_numbered_in_order_of_first_use(
    sample_answers: dict[str, Answer],
) -> None:
    for question_id, answer in sample_answers.items():
        shown = f"{answer.answer}\n{answer.more}".splitlines()  # "more" continues the numbers
        numbers = [int(m["n"]) for m in map(_CITED_LINE.match, shown) if m]
        first_use = list(dict.fromkeys(numbers))
        assert first_use == [c.n for c in answer.citations], question_id
        assert first_use == list(range(1, len(first_use) + 1)), question_id


def test_every_nist_answer_line_is_a_verbatim_span_of_its_citation(
    nist_assistant: Assistant,
) -> None:
    questions = [q for q in read_eval_set(NIST_SET).questions if q.in_scope]
    answers = answer_all(nist_assistant, questions)
    assert sum(not a.refused for a in answers.values()) >= 0.9 * len(questions)
    problems = verbatim_violations(answers, stored_texts(nist_assistant))
    assert len(problems) == 0, f"{len(problems)} violations, e.g.\n{show(problems)}"


# -- (d) refusals ------------------------------------------------------------------------
def test_every_out_of_scope_question_is_refused_with_pointers(
    sample_answers: dict[str, Answer],
) -> None:
    out_of_scope = [q for q in SAMPLE_SET if not q.in_scope]
    assert len(out_of_scope) >= 10
    answered = [q.question for q in out_of_scope if not sample_answers[q.id].refused]
    assert answered == [], f"answered out-of-scope questions: {answered}"
    for question in out_of_scope:
        data = sample_answers[question.id].to_dict()
        assert data["refused"] is True and data["citations"] == []
        assert 1 <= len(data["nearest"]) <= 3, question.question
        for pointer in data["nearest"]:
            assert set(pointer) == {"source", "title", "page", "section"}
            assert (REPO / "corpus" / pointer["source"]).is_file()


def test_few_in_scope_questions_are_refused(sample_answers: dict[str, Answer]) -> None:
    in_scope = [q for q in SAMPLE_SET if q.in_scope]
    refused = [q.question for q in in_scope if sample_answers[q.id].refused]
    assert len(refused) <= MAX_FALSE_REFUSALS * len(in_scope), f"refused: {refused}"


def test_an_answer_has_no_nearest_pointers(sample_answers: dict[str, Answer]) -> None:
    data = sample_answers["s-004"].to_dict()
    assert data["refused"] is False and "nearest" not in data


def test_the_audit_trace_names_every_cited_passage(
    sample_assistant: Assistant, sample_answers: dict[str, Answer]
) -> None:
    """Quotes from the passages next to the retrieved ones included: the audit record must
    name the chunk behind every citation an officer was shown."""
    answered = {i: a for i, a in sample_answers.items() if not a.refused}
    assert all(len(a.trace.chunk_ids) == len(a.citations) for a in answered.values())
    beside = [
        a
        for a in answered.values()
        if {(c.source, c.text) for c in a.citations}
        - {(p.source, p.text) for p in sample_assistant.retrieve(a.question)}
    ]
    assert beside, "control: some answer quotes a passage next to the retrieved ones"


# -- (e) what a user may type ------------------------------------------------------------
@pytest.mark.parametrize("typed", ["", "   ", "\n\t  \r\n", "\x00\x07\x1b"])
def test_an_empty_question_is_refused_with_a_clear_message(typed: str) -> None:
    with pytest.raises(QuestionError, match="the question is empty"):
        clean_question(typed)


def test_an_overlong_question_is_refused_with_the_limit() -> None:
    with pytest.raises(QuestionError, match=f"limit is {MAX_QUESTION_CHARS:,}"):
        clean_question("What is proportionality? " * 800)  # 20,000 characters
    assert clean_question("x" * MAX_QUESTION_CHARS) == "x" * MAX_QUESTION_CHARS


def test_control_characters_are_stripped_and_whitespace_folded() -> None:
    typed = "\x1b[31mWhat\x00 does\tproportionality\x07\n mean?\x7f  "
    assert clean_question(typed) == "[31mWhat does proportionality mean?"


def test_c1_control_characters_are_stripped() -> None:
    typed = "What\x9b31m is\x85proportionality\x90?"
    assert clean_question(typed) == "What 31m is proportionality ?"


@pytest.mark.parametrize(
    "question",
    [
        "¿Qué significa la proporcionalidad en el uso policial de la IA?",
        "人工智能工具包是什么？",
        "<script>alert('x')</script> What does <b>proportionality</b> mean?",
        "'; DROP TABLE chunks; -- what is explainability?",
    ],
)
def test_unusual_questions_are_answered_or_refused_without_error(
    sample_assistant: Assistant, question: str
) -> None:
    answer = sample_assistant.ask(question)
    assert answer.question == question
    assert answer.refused or answer.citations
    assert "<script>" not in answer.answer


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("Is it OK to use facial recognition at a protest?", "facial recognition"),
        ("Our Sergeant wants to know what the five core principles are. What are they?", "five"),
    ],
)
def test_an_officers_capitals_are_not_names_the_corpus_lacks(
    sample_assistant: Assistant, question: str, quoted: str
) -> None:
    """ "OK" and "our Sergeant" were read as names the corpus never mentions, and refused."""
    answer = sample_assistant.ask(question)
    assert not answer.refused, answer.answer
    assert quoted in answer.answer.lower() and answer.citations


@pytest.mark.parametrize(
    "question",
    [
        "Which camera vendor does the toolkit recommend for body-worn video?",
        "Which company makes the facial recognition system used in the worked example?",
    ],
)
def test_a_vendor_question_the_passages_name_no_vendor_for_is_refused(
    sample_assistant: Assistant, question: str
) -> None:
    """Answered before with sentences about body-worn camera footage and face matching."""
    assert sample_assistant.ask(question).refused


def test_a_vendor_question_the_corpus_answers_is_answered(sample_assistant: Assistant) -> None:
    answer = sample_assistant.ask(
        "Which vendor won the image triage contract in the procurement example?"
    )
    assert not answer.refused
    assert answer.answer.startswith("The contract was awarded to Vendor B.")


def test_a_count_question_opens_with_the_count(sample_assistant: Assistant) -> None:
    """A near training question suggested a sentence on how each item is answered; the
    sentence that holds the number asked for opens instead (`sample-blind.tune` smp-038)."""
    answer = sample_assistant.ask("How many stages does the procurement checklist have?")
    assert answer.answer.startswith("It follows the procurement process in six stages:")


@pytest.mark.parametrize(
    "question",
    [
        "When is my patrol car due for its next oil change?",
        "What is the process for reporting a damaged police radio?",
        "How should officers record the handover of a prisoner between shifts?",
    ],
)
def test_a_question_off_the_corpus_subject_is_refused(
    sample_assistant: Assistant, question: str
) -> None:
    """Far from AI, such questions found passages as close as officers' paraphrases do, and
    were answered with quotes on AI governance (assistant/qa/domain.py)."""
    answer = sample_assistant.ask(question)
    assert answer.refused, answer.answer


def test_a_step_of_police_legal_procedure_the_guidance_never_covers_is_refused(
    sample_assistant: Assistant,
) -> None:
    """Answered with "Computer vision is the field of AI that analyses images and video ..."
    before the near-domain model (assistant/qa/domain.py)."""
    question = (
        "Do we need a surveillance warrant before running drone footage through object "
        "detection software?"
    )
    evidence = sample_assistant.evidence(question)
    assert evidence.domain_score is not None and evidence.domain_score > 0, "on the subject"
    assert evidence.near_domain_score is not None and evidence.near_domain_score < 0
    assert sample_assistant.ask(question).refused


def test_police_work_with_an_ai_tool_in_it_is_on_the_corpus_subject(
    sample_assistant: Assistant,
) -> None:
    evidence = sample_assistant.evidence(
        "Can I run the recording of a suspect interview through the transcription tool?"
    )
    assert evidence.domain_score is not None and evidence.domain_score > 0


def test_an_acronym_the_corpus_uses_is_not_judged_off_the_subject(
    sample_assistant: Assistant,
) -> None:
    """MiniLM reads an acronym it does not know as off every subject."""
    assert sample_assistant.evidence("What is CCTV?").domain_score is None
