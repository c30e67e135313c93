"""ExtractiveAnswerer with a fake embedder: which sentences it quotes and how it cites them.

The fake encoder is a normalized hashed bag of stemmed terms, so "meaning" is word
overlap: enough to check selection, ordering and citation without the real model.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import replace

import numpy as np
import pytest

from assistant.qa.answer import (
    _KINDS_QUESTION,
    ExtractiveAnswerer,
    _enumerates,
    defines,
    is_caption,
    main_sentences,
)
from assistant.qa.definitions import asked_acronym, defined_term, spells_out
from assistant.qa.models import Answer, Passage
from assistant.qa.query_adapter import QueryAdapter
from assistant.qa.refusal import states_quantity
from ingest.keyword_index import KeywordIndex, terms
from ingest.settings import AnswerSettings

_DIM = 256
_CITED_LINE = re.compile(r"^(?:- )?(?P<text>.*) \[(?P<n>\d+)\]$")


class HashedBagOfWords:
    """`embed_short` like the real Embedder: one unit-length row per text."""

    def embed_short(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), _DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text):
                vectors[row, zlib.crc32(term.encode()) % _DIM] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)


def passage(text: str, source: str = "a.pdf", page: int = 1, section: str = "", dense=0.5):
    return Passage(
        chunk_id=f"{source}:{page}:{hash(text)}",
        doc_id=source,
        source=source,
        title=source,
        page=page,
        section=section,
        text=text,
        score=dense,
        dense_score=dense,
    )


# Background documents so that IDF separates topic words from common ones.
_BACKGROUND = [
    "The agency uses AI systems for many tasks in policing.",
    "Officers review the outputs of AI systems before acting on them.",
    "The toolkit gives guidance to law enforcement agencies.",
    "An assessment is carried out by the agency before deployment.",
]


def answerer(passages: list[Passage], boilerplate=frozenset(), **settings) -> ExtractiveAnswerer:
    keyword = KeywordIndex.build(
        (str(i), text) for i, text in enumerate([*_BACKGROUND, *(p.text for p in passages)])
    )
    return ExtractiveAnswerer(
        AnswerSettings(**settings), HashedBagOfWords(), keyword, frozenset(boilerplate)
    )


def ask(question: str, passages: list[Passage], history=(), **settings) -> Answer:
    return answerer(passages, **settings).answer(question, passages, list(history))


def cited_lines(answer: Answer) -> list[tuple[str, int]]:
    """(quoted text, citation number) for every answer line; fails on an uncited line."""
    lines = []
    for line in answer.answer.splitlines():
        match = _CITED_LINE.match(line)
        assert match, f"answer line without a citation: {line!r}"
        lines.append((match["text"], int(match["n"])))
    return lines


def opener(question: str, *passages: Passage) -> tuple[str, str]:
    """The answer's first quote, and the whole answer for an assertion's message."""
    answer = ask(question, list(passages))
    return cited_lines(answer)[0][0], answer.answer


def assert_verbatim(answer: Answer) -> None:
    by_number = {c.n: c for c in answer.citations}
    for text, n in cited_lines(answer):
        assert n in by_number, f"[{n}] cites nothing"
        assert text in by_number[n].text, f"not a span of passage [{n}]: {text!r}"
        assert text in by_number[n].quote, f"not in the quote of [{n}]: {text!r}"


PROPORTIONALITY = passage(
    "The toolkit was published in 2023 by two organizations. "
    "Proportionality means that the intrusion caused by an AI system must not exceed "
    "what is necessary to achieve a legitimate policing aim. "
    "The workbook contains several practical exercises for agencies.",
    page=4,
)
RISK = passage(
    "Each use case is examined before deployment by a board drawn from several units of "
    "the agency concerned. "
    "The risk score is likelihood multiplied by severity. "
    "Ratings come from a panel of reviewers on a numbered scale.",
    source="risk.pdf",
    page=7,
)
SCALE = passage(
    "Each answer is scored on a scale. The scoring scale has four levels:\n"
    "- Level 1: no capability exists in the agency\n"
    "- Level 2: capability is planned but not yet funded\n"
    "- Level 3: capability exists and is partly used\n"
    "- Level 4: capability is embedded and reviewed\n"
    "Scores are summed for each domain.",
    source="readiness.pdf",
    page=3,
    section="2 Assessment > 2.3 Scoring scale",
)


def test_the_sentence_that_answers_the_question_opens_the_answer() -> None:
    answer = ask("What does proportionality mean?", [RISK, PROPORTIONALITY])
    assert not answer.refused
    first, n = cited_lines(answer)[0]
    assert first.startswith("Proportionality means that the intrusion")
    assert n == 1 and answer.citations[0].page == 4, "the second passage is cited first"


def test_a_suggested_sentence_opens_the_answer() -> None:
    # A close training question was written for the second sentence of RISK: it opens,
    # though the sentence scoring prefers another (it shares more of the question's words).
    question = "Who examines each use case before deployment, and on what scale?"
    plain = cited_lines(ask(question, [RISK]))[0][0]
    assert plain.startswith("Each use case is examined")
    marked = replace(RISK, suggested=("The risk score is likelihood multiplied by severity.",))
    answer = ask(question, [marked])
    assert cited_lines(answer)[0][0] == "The risk score is likelihood multiplied by severity."
    assert_verbatim(answer)


def test_a_suggested_sentence_that_may_not_open_does_not() -> None:
    # A sentence about the document itself never opens, suggested or not.
    about = "This guide does not constitute legal advice on proportionality."
    marked = passage(f"{about} {PROPORTIONALITY.text}", page=4)
    marked = replace(marked, suggested=(about,))
    answer = ask("What does proportionality mean?", [marked])
    assert cited_lines(answer)[0][0].startswith("Proportionality means")


def test_a_suggested_sentence_does_not_displace_the_number_a_count_question_asks_for() -> None:
    stages = passage(
        "The checklist follows procurement in six stages from needs to contract. "
        "The lead answers each checklist item with yes or no and attaches evidence.",
        source="procurement.pdf",
        page=2,
    )
    question = "How many stages does the procurement checklist have?"
    assert cited_lines(ask(question, [stages]))[0][0].startswith("The checklist follows")
    item = "The lead answers each checklist item with yes or no and attaches evidence."
    answer = ask(question, [replace(stages, suggested=(item,))])
    assert cited_lines(answer)[0][0].startswith("The checklist follows")
    # Nor the definition a "what is" question asks for; a suggested sentence that gives
    # what is asked still opens.
    question = "What does proportionality mean?"
    marked = replace(
        PROPORTIONALITY, suggested=("The toolkit was published in 2023 by two organizations.",)
    )
    assert cited_lines(ask(question, [marked]))[0][0].startswith("Proportionality means")
    asked_year = "When was the toolkit published?"
    assert cited_lines(ask(asked_year, [marked]))[0][0].startswith("The toolkit was published")


def test_every_line_is_a_verbatim_span_of_the_passage_it_cites() -> None:
    passages = [PROPORTIONALITY, RISK, SCALE]
    for question in (
        "What does proportionality mean?",
        "How is the risk score calculated?",
        "What are the levels of the scoring scale?",
        "What do reviewers and agencies do with the scale and the risk score?",
    ):
        answer = ask(question, passages)
        assert answer.answer and answer.citations
        assert_verbatim(answer)


def test_citations_are_numbered_in_order_of_first_appearance() -> None:
    shared = "Oversight by a human officer is required before any arrest based on AI output."
    passages = [
        passage(f"{shared} Records of oversight are kept for audit.", "x.pdf", 1),
        passage(f"Human officer oversight of AI output is reviewed yearly. {shared}", "y.pdf", 2),
        passage("Human oversight by an officer covers AI output in every case.", "z.pdf", 3),
    ]
    answer = ask("Is human officer oversight of AI output required?", passages)
    numbers = [n for _, n in cited_lines(answer)]
    first_seen = list(dict.fromkeys(numbers))
    assert len(first_seen) >= 2, answer.answer
    assert first_seen == list(range(1, len(first_seen) + 1))
    assert [c.n for c in answer.citations] == first_seen
    assert_verbatim(answer)


def test_a_list_question_gets_the_whole_list() -> None:
    answer = ask("What are the levels of the scoring scale?", [PROPORTIONALITY, SCALE])
    lines = answer.answer.splitlines()
    items = [line for line in lines if line.startswith("- ")]
    assert [re.sub(r" \[\d+\]$", "", line) for line in items] == [
        "- Level 1: no capability exists in the agency",
        "- Level 2: capability is planned but not yet funded",
        "- Level 3: capability exists and is partly used",
        "- Level 4: capability is embedded and reviewed",
    ]
    intro = lines.index(items[0]) - 1
    assert lines[intro].startswith("The scoring scale has four levels:")
    assert_verbatim(answer)


@pytest.mark.parametrize(
    "question",
    [
        "What features should a good impact assessment have?",
        "Which characteristics of an impact assessment matter?",
        "What qualities should an impact assessment have?",
    ],
)
def test_a_question_asking_for_features_or_practices_opens_with_the_list(question: str) -> None:
    """Found on `pdfs.tune`: the list of what impact assessments may do came third."""
    impact = passage(
        "Impact assessments are one approach for driving responsible technology "
        "development practices. Impact assessments may:\n"
        "- be applied iteratively and regularly as goals evolve\n"
        "- include perspectives from operators, users and impacted communities\n"
        "- assist in go/no-go decisions for an AI system\n"
        "Impact assessments should be documented for the oversight board.",
        source="rmf.pdf",
        page=9,
    )
    answer = ask(question, [impact])
    assert answer.answer.splitlines()[0].startswith("Impact assessments may:")
    assert answer.answer.splitlines()[1].startswith("- be applied iteratively")
    assert_verbatim(answer)


def test_a_short_opener_brings_its_next_sentence() -> None:
    """A short opener ("The risk score is likelihood multiplied by severity.") needs more."""
    answer = ask("How is the risk score calculated?", [RISK])
    quoted = [text for text, _ in cited_lines(answer)]
    assert quoted[:2] == [
        "The risk score is likelihood multiplied by severity.",
        "Ratings come from a panel of reviewers on a numbered scale.",
    ]


def test_a_long_opener_stands_alone() -> None:
    """Control for the test above: the next sentence joins only through the opener."""
    answer = ask("What does proportionality mean?", [PROPORTIONALITY])
    quoted = [text for text, _ in cited_lines(answer)]
    assert quoted[0].startswith("Proportionality means")
    assert "The workbook contains several practical exercises for agencies." not in quoted


def test_an_opener_announcing_what_follows_brings_the_next_sentence() -> None:
    text = (
        "For every deployment of facial recognition in public spaces the final score "
        "for the deployment works out as follows. "
        "Add the weights of the answered items and divide by the number of items."
    )
    answer = ask("How does the final score for facial recognition work out?", [passage(text)])
    quoted = [t for t, _ in cited_lines(answer)]
    follower = "Add the weights of the answered items and divide by the number of items."
    assert quoted[1:2] == [follower]


BOILERPLATE = "This document on oversight of AI systems is for official use by police only."


def test_boilerplate_sentences_are_never_quoted() -> None:
    text = f"{BOILERPLATE} Oversight of AI systems is carried out by an independent board."
    question = "Who carries out oversight of AI systems used by police?"
    without = ask(question, [passage(text)])
    assert BOILERPLATE in without.answer, "control: the notice matches the question"

    answer = answerer([passage(text)], boilerplate={BOILERPLATE}).answer(
        question, [passage(text)], []
    )
    assert BOILERPLATE not in answer.answer
    assert "independent board" in answer.answer
    assert all(BOILERPLATE not in c.quote for c in answer.citations)


def test_only_boilerplate_is_refused() -> None:
    answer = answerer([passage(BOILERPLATE)], boilerplate={BOILERPLATE}).answer(
        "Who carries out oversight?", [passage(BOILERPLATE)], []
    )
    assert answer.refused and not answer.citations


def test_near_identical_sentences_are_not_both_quoted() -> None:
    original = "Facial recognition matches must be confirmed by a trained human examiner."
    reissue = "Facial recognition matches must be confirmed by a trained human examiner first."
    passages = [
        passage(f"{original} The policy applies to all units.", "2023.pdf", 2),
        passage(f"{reissue} The policy applies to every unit.", "2024.pdf", 2),
    ]
    answer = ask("Who must confirm facial recognition matches?", passages)
    quoted = [t for t, _ in cited_lines(answer)]
    assert (original in quoted) != (reissue in quoted), quoted


DRONE_FOOTAGE = passage(
    "Drone footage is retained for thirty days unless it is evidence. "
    "Drone footage that is evidence follows the rules on exhibits. "
    "The drone unit reviews drone footage samples every month for quality. "
    "Access to drone footage is logged and audited by the data protection officer. "
    "Deleting drone footage early requires approval from a senior officer."
)


@pytest.mark.parametrize("max_sentences", [2, 3])
def test_max_sentences_is_respected(max_sentences: int) -> None:
    question = "What are the rules for drone footage?"
    uncapped = ask(question, [DRONE_FOOTAGE], max_sentences=20)
    assert len(cited_lines(uncapped)) > max_sentences, "control: more sentences qualify"
    answer = ask(question, [DRONE_FOOTAGE], max_sentences=max_sentences)
    assert len(cited_lines(answer)) == max_sentences


def test_max_sentences_one_holds_for_a_short_opener() -> None:
    answer = ask("How is the risk score calculated?", [RISK], max_sentences=1)
    assert len(cited_lines(answer)) == 1, answer.answer


def test_a_follow_up_is_answered_from_its_own_words() -> None:
    answer = ask(
        "And how is its score calculated?",
        [PROPORTIONALITY, RISK],
        history=["What is the risk assessment for each use case?"],
    )
    assert cited_lines(answer)[0][0] == "The risk score is likelihood multiplied by severity."
    assert_verbatim(answer)


# -- answer first, short main answer, more, examples ------------------------------------
RETENTION_GUIDE = passage(
    "This guide describes how footage retention decisions are documented by the agency. "
    "Footage retention must be limited to what the purpose of the recording requires. "
    "The retention period is set in the agency's written data retention policy.",
    source="retention.pdf",
    page=2,
    section="4 Data > 4.2 Footage retention",
)
RETENTION_EXAMPLE = passage(
    "In the fictional city of Ardent, footage retention was kept for 31 days before deletion.",
    source="scenarios.pdf",
    page=9,
    section="Annex B > Worked example: the Ardent pilot",
)


def test_a_sentence_about_the_document_never_opens_the_answer() -> None:
    answer = ask("How are footage retention decisions documented?", [RETENTION_GUIDE])
    first, _ = cited_lines(answer)[0]
    assert not first.startswith("This guide"), answer.answer
    assert_verbatim(answer)


RETIREMENT_POLICY = passage(
    "This policy sets the rules under which the agency plans, buys, uses and retires AI "
    "systems. The agency plans how data held by a retired system will be deleted or archived.",
    source="policy.md",
    section="Agency AI use policy > 1 Purpose",
)
STAGES_ROADMAP = passage(
    "This roadmap describes how an agency takes an AI system from idea to retirement in five "
    "stages: decision, design, procurement, deployment and monitoring. The principles apply "
    "at every stage of the AI life cycle.",
    source="roadmap.pdf",
    section="1 About this roadmap",
)


def test_a_policy_page_or_checklist_describing_itself_does_not_open() -> None:
    """ "This policy sets the rules ..." says what the document is, not what to plan."""
    answer = ask("What should we plan for when we retire an AI system?", [RETIREMENT_POLICY])
    assert main_sentences(answer)[0].startswith("The agency plans how data"), answer.answer


def test_a_sentence_about_the_document_opens_when_the_question_names_it() -> None:
    """Asked about the roadmap, the roadmap's own summary of its stages is the answer."""
    answer = ask("What are the five stages of the roadmap?", [STAGES_ROADMAP])
    assert main_sentences(answer)[0].startswith("This roadmap describes"), answer.answer
    assert_verbatim(answer)


def test_a_worked_example_is_labelled_and_does_not_open_the_answer() -> None:
    answer = ask("How long can the agency keep footage?", [RETENTION_EXAMPLE, RETENTION_GUIDE])
    first, n = cited_lines(answer)[0]
    assert "Ardent" not in first, answer.answer
    examples = [c for c in answer.citations if c.example]
    assert all(c.source == "scenarios.pdf" for c in examples)
    assert not next(c for c in answer.citations if c.n == n).example


def test_a_question_about_the_example_itself_opens_with_it_labelled() -> None:
    answer = ask(
        "How long was footage kept in the Ardent pilot?", [RETENTION_GUIDE, RETENTION_EXAMPLE]
    )
    first, n = cited_lines(answer)[0]
    assert "Ardent" in first, answer.answer
    assert next(c for c in answer.citations if c.n == n).example


BIAS_TESTING = passage(
    "Legal standards for AI differ between jurisdictions and sectors. "
    "For example, testing processes for bias measurement, such as disparate impact, are not "
    "applied uniformly within the legal context.",
    source="playbook.pdf",
    page=12,
    section="MAP 1.1 > About",
)


@pytest.mark.parametrize(
    ("illustration", "opens"),
    [
        ("For example, testing processes for bias measurement", True),
        ("Imagine testing processes for bias measurement", False),  # a scene: an example
    ],
)
def test_an_illustration_in_guidance_opens_when_it_answers_a_scene_does_not(
    illustration: str, opens: bool
) -> None:
    """ "For example, ..." inside guidance illustrates its rule: it opens when it answers
    best, labelled as an example; a sentence that sets a scene does not open before a rule."""
    text = BIAS_TESTING.text.replace(
        "For example, testing processes for bias measurement", illustration
    )
    answer = ask(
        "How is testing for bias measurement applied in law?", [replace(BIAS_TESTING, text=text)]
    )
    first, n = cited_lines(answer)[0]
    assert first.startswith(illustration) is opens, answer.answer
    assert next(c for c in answer.citations if c.n == n).example


def test_the_main_answer_is_short_and_the_rest_goes_to_more() -> None:
    topics = [
        "algorithm audits every year",
        "complaints from the public about facial recognition",
        "procurement contracts before signature",
        "training data provenance reports",
        "error rates published by vendors",
        "retention schedules for biometric templates",
        "incident logs after each deployment",
        "impact assessments written by project teams",
        "budgets for new analytics tools",
    ]
    sentences = [f"Oversight board members review {topic}." for topic in topics]
    passages = [passage(s, source=f"rules{n}.pdf") for n, s in enumerate(sentences)]
    answer = ask("What do oversight board members review?", passages, more_sentences=3)
    assert 1 <= len(cited_lines(answer)) <= 5
    more = [line for line in answer.more.splitlines() if line.strip()]
    assert 1 <= len(more) <= 3
    numbers = {c.n for c in answer.citations}
    assert all(int(_CITED_LINE.match(line)["n"]) in numbers for line in more)
    assert not set(more) & set(answer.answer.splitlines()), "a quote is shown once"


def test_main_sentences_are_the_answer_without_marks_or_more() -> None:
    answer = Answer(
        "How many staff does the Lab employ?",
        "The Lab runs three thematic labs. [1]\n- Staff are seconded [2] by agencies. [2]",
        refused=False,
        more="The Lab employs 40 staff. [3]",
    )
    assert main_sentences(answer) == [
        "The Lab runs three thematic labs.",
        "Staff are seconded by agencies.",
    ]
    # The count asked for is only in "More from the sources": not an answer to the question.
    assert not states_quantity(answer.question, main_sentences(answer))
    assert states_quantity(answer.question, [answer.more.removesuffix(" [3]")])


TOLERANCE = passage(
    "Once the risk tolerance is agreed, risks are managed within it. "
    "Risk tolerance refers to the agency's readiness to bear a risk. "
    "Tolerance is shaped by legal and regulatory requirements.",
    source="rmf.pdf",
    page=12,
)


def test_a_definition_question_opens_with_the_sentence_that_defines_the_term() -> None:
    answer = ask("What does 'risk tolerance' mean?", [TOLERANCE])
    first, _ = cited_lines(answer)[0]
    assert first.startswith("Risk tolerance refers to"), answer.answer
    assert_verbatim(answer)


def test_a_clause_about_the_term_is_not_its_definition() -> None:
    """ "Risk tolerance reflects the level ... the organization is willing to accept" has a
    defining verb in its first words, but of a clause about the term: the sentence that
    says what the term refers to opens, though retrieval ranked its passage second."""
    reflects = passage(
        "Risk tolerance reflects the level and type of risk the organization is willing to "
        "accept while carrying out its strategy.",
        source="playbook.pdf",
        page=68,
    )
    refers = passage(
        "Risk tolerance refers to the readiness of the organization to bear the risk in "
        "order to achieve its objectives.",
        source="rmf.pdf",
        page=12,
        dense=0.3,
    )
    answer = ask("What does 'risk tolerance' mean in the framework?", [reflects, refers])
    first, _ = cited_lines(answer)[0]
    assert first.startswith("Risk tolerance refers to"), answer.answer
    assert defines("What does 'risk tolerance' mean?", refers.text)
    assert not defines("What does 'risk tolerance' mean?", reflects.text)


TEVV = [
    passage("TEVV tasks for operations involve ongoing monitoring.", source="rmf.pdf", page=41),
    passage(
        "Test, Evaluation, Verification, and Validation (TEVV) tasks are performed throughout "
        "the lifecycle.",
        source="rmf.pdf",
        page=40,
        dense=0.3,
    ),
]


def test_an_acronym_question_opens_where_the_acronym_is_spelled_out() -> None:
    """Ranked second by retrieval, the sentence that spells TEVV out still opens."""
    answer = ask("What is TEVV?", TEVV)
    first, _ = cited_lines(answer)[0]
    assert first.startswith("Test, Evaluation, Verification, and Validation (TEVV)"), answer.answer
    assert_verbatim(answer)


def test_an_acronym_spelled_out_without_saying_what_it_is_does_not_jump_ahead() -> None:
    """ "Artificial intelligence (AI) technologies have significant potential" names AI but
    does not define it: the defining sentence of the better-ranked passage still opens."""
    defining = passage("AI systems are engineered systems that generate outputs.", page=2)
    spelled = passage(
        "Artificial intelligence (AI) technologies have significant potential.", page=1, dense=0.3
    )
    answer = ask("What is AI?", [defining, spelled])
    first, _ = cited_lines(answer)[0]
    assert first.startswith("AI systems are engineered systems"), answer.answer


@pytest.mark.parametrize(
    ("term", "sentence", "spelled"),
    [
        ("TEVV", "the importance of test, evaluation, verification, and validation (TEVV)", True),
        ("tevv", "Test, Evaluation, Verification, and Validation (TEVV) tasks", True),
        ("PETs", "Privacy-enhancing technologies (\u201cPETs\u201d) for AI", True),
        ("OECD", "the Organisation for Economic Co-operation and Development (OECD) as", True),
        ("RAG", "Scales may be qualitative, such as red-amber-green (RAG), or", True),
        ("TEVV", "TEVV tasks for operations involve ongoing monitoring", False),
        ("TEVV", "These results (TEVV) are documented", False),
        ("risk tolerance", "Risk tolerance (RT) refers to readiness", False),
        ("TEVV", "a" * 200_000 + " (TEVV)", False),  # long input: one linear pass
    ],
)
def test_an_acronym_is_spelled_out_by_the_initials_before_its_brackets(
    term: str, sentence: str, spelled: bool
) -> None:
    assert spells_out(term, sentence) is spelled


@pytest.mark.parametrize(
    "opening",
    [
        "In Proceedings of the Conference on Drone Software Tests, drone software tests 12-19.",
        "Overview of who tests drone software.",  # an unnumbered caption
        "Fig. 4 Who tests drone software.",
        "Who Tests Drone Software: A Guide, Version 1.0.",  # a versioned title
        "\u201cWho tests drone software,\u201d Drone Office.",  # a quoted title in a reference
    ],
)
def test_a_bibliography_line_caption_or_reference_entry_never_opens_the_answer(
    opening: str,
) -> None:
    cited = passage(f"{opening} Independent teams run the tests.")
    whole = passage(
        "Drone software is tested by people other than those who wrote it.", page=3, dense=0.3
    )
    answer = ask("Who tests drone software?", [cited, whole])
    first, _ = cited_lines(answer)[0]
    assert first.startswith("Drone software is tested by people"), answer.answer
    assert_verbatim(answer)


def test_a_term_quoted_in_prose_before_a_comma_is_not_a_reference_entry() -> None:
    """American punctuation puts the comma inside the quotes: "For example, “effective
    challenge,” is a culture-based practice ..." defines the term, it does not cite a title."""
    defining = "In review boards, \u201ceffective challenge,\u201d is a practice of questioning."
    answer = ask(
        "What does effective challenge mean?",
        [passage(f"{defining} Review boards meet every month to look at decisions.")],
    )
    assert cited_lines(answer)[0][0] == defining, answer.answer


@pytest.mark.parametrize(
    "caption", ["Characteristics of drone software tests.", "Fig. 4 Who tests drone software."]
)
def test_a_caption_is_never_quoted(caption: str) -> None:
    """A caption names a figure the answer cannot show: quoted, it reads as a broken line."""
    answer = ask(
        "Who tests drone software?",
        [passage(f"{caption} Drone software is tested by people other than its authors.")],
    )
    quoted = [text for text, _ in cited_lines(answer)] + answer.more.splitlines()
    assert not any(caption in line for line in quoted), answer.answer
    assert answer.answer.startswith("Drone software is tested by people")


def test_a_sentence_starting_with_a_figure_but_saying_something_can_open() -> None:
    assert is_caption("Fig. 2 Lifecycle and Key Dimensions of an AI System.")
    assert not is_caption("Figure 3 shows who tests drone software.")
    assert not is_caption("Use of force is regulated by law.")


# -- an FAQ's reply word -----------------------------------------------------------------
SMALL_AGENCIES = passage(
    "No. A small agency that buys a single redaction product faces the same basic questions "
    "about lawfulness and oversight as a large agency.",
    source="overview.pdf",
    page=6,
    section="8 Questions often asked > 8.4 Is the Toolkit only for large agencies?",
)


def test_a_reply_word_is_left_out_under_another_question() -> None:
    """ "No." replies to the FAQ's heading; under "Is any of this meant for us?" it would
    read as the answer to the officer's question, the opposite of what the passage says."""
    answer = ask("Our agency is small. Is the redaction guidance meant for us?", [SMALL_AGENCIES])
    assert main_sentences(answer)[0].startswith("A small agency that buys")
    assert_verbatim(answer)


def test_a_reply_word_stays_when_the_officer_asks_the_headings_question() -> None:
    answer = ask("Is the toolkit only for large agencies?", [SMALL_AGENCIES])
    assert main_sentences(answer)[0].startswith("No. A small agency that buys")
    assert_verbatim(answer)


def test_a_sentence_that_only_says_where_a_topic_is_written_does_not_open() -> None:
    pointer = "Practices for retaining drone footage are described in the Drone Handbook."
    rule = "Delete drone footage after thirty days unless it is evidence."
    drones = passage(f"{pointer} {rule}")
    answer = ask("What do we do with retained drone footage?", [drones])
    assert cited_lines(answer)[0][0] == rule, answer.answer
    assert_verbatim(answer)
    # Unless the question asks where: then the pointer is the answer.
    where = ask("Where are practices for retaining drone footage described?", [drones])
    assert cited_lines(where)[0][0] == pointer, where.answer


def test_a_how_often_question_opens_with_a_cadence_not_with_any_figure() -> None:
    """ "How often?" is answered by "regularly" or "every year", not by a sentence that
    holds a figure ("Measure 2.1 through 2.12")."""
    numbered = "Drone check metrics follow Measure 2.1 through 2.12 of the unit."
    cadence = "The unit assesses its drone check metrics regularly."
    answer = ask(
        "How often should drone check metrics be reviewed?",
        [passage(numbered, page=1, dense=0.6), passage(cadence, page=2, dense=0.5)],
    )
    assert cited_lines(answer)[0][0] == cadence, answer.answer


def test_a_see_elsewhere_sentence_does_not_open_at_any_length() -> None:
    see = (
        "(For more information about drone checks, including the three categories of "
        "checks, see the Drone Handbook, chapter two, which the unit keeps on file.)"
    )
    rule = "The unit sorts drone checks into three categories: flight, camera and storage."
    answer = ask("How many categories of drone checks are there?", [passage(f"{see} {rule}")])
    assert cited_lines(answer)[0][0] == rule, answer.answer


def test_an_obligation_question_opens_with_the_sentence_that_decides_it() -> None:
    """ "Do we have to ...?" is answered by whether it is an obligation ("voluntary", "in
    any order"), not by the sentence that shares the most words with it."""
    words = "Crews check their drones before every flight."
    deciding = "The drone checklist is voluntary."
    answer = ask(
        "Do we have to follow the drone checklist before each flight?",
        [passage(f"{words} {deciding}")],
    )
    assert cited_lines(answer)[0][0] == deciding, answer.answer


@pytest.mark.parametrize(
    "question",
    [
        # pdfs3.tune p3-090: "Is following the NIST AI RMF a legal requirement for ...?"
        "Is following the drone checklist a legal requirement before each flight?",
        "Is the drone checklist binding before each flight?",
    ],
)
def test_a_requirement_question_is_an_obligation_question(question: str) -> None:
    words = "Crews check their drones before every flight."
    deciding = "The drone checklist is voluntary."
    answer = ask(question, [passage(f"{words} {deciding}")])
    assert cited_lines(answer)[0][0] == deciding, answer.answer


def test_a_figure_number_is_not_the_count_a_question_asks_for() -> None:
    figure = "Drone check categories (shown in Figure 4) are tied to each unit's flights."
    listing = "Drone check categories include: flight, camera and storage."
    answer = ask("How many drone check categories are there?", [passage(f"{figure} {listing}")])
    assert cited_lines(answer)[0][0] == listing, answer.answer


_REFERENCE_LINES = (
    "Ben Green. “Answerable for a Drone Flight: Drone Oversight.” Philosophy and Drones 35, no."
)
_ANSWERING = "The flight commander is answerable for every drone flight the unit makes."


def test_a_references_section_is_quoted_only_under_more() -> None:
    references = passage(_REFERENCE_LINES, page=9, section="Measure > 2.11 > References", dense=0.7)
    guidance = passage(_ANSWERING, page=3, section="Govern > 2.1", dense=0.4)
    answer = ask("Who is answerable for a drone flight?", [references, guidance])
    assert [text for text, _ in cited_lines(answer)] == [_ANSWERING], answer.answer
    assert "Philosophy and Drones" in answer.more, answer.more


def test_a_question_asking_for_a_publication_may_open_with_a_reference() -> None:
    references = passage(_REFERENCE_LINES, page=9, section="Measure > 2.11 > References", dense=0.7)
    guidance = passage(_ANSWERING, page=3, section="Govern > 2.1", dense=0.4)
    first, shown = opener(
        "Which publication on drone oversight does it point to?", references, guidance
    )
    assert first == _REFERENCE_LINES, shown


def test_a_sentence_cut_at_its_start_does_not_open() -> None:
    """ "Table\\n1 lists ...": the PDF's line break cut "Table" off the sentence."""
    cut = "1 lists the categories of drone checks and their subcategories."
    rule = "Drone checks come in three kinds: flight, camera and storage."
    first, shown = opener("What are the categories of drone checks?", passage(f"{cut}\n{rule}"))
    assert first == rule, shown


def test_a_list_question_opens_with_a_list_written_inline() -> None:
    """ "Risk response options can include mitigating, transferring, avoiding, or
    accepting.": a list in one sentence is a list."""
    words = "Drone risk responses are planned by the unit."
    inline = "Responses to a drone risk include grounding, patching, insuring, or accepting."
    first, shown = opener("List the responses to a drone risk.", passage(f"{words} {inline}"))
    assert first == inline, shown


def test_a_chain_of_participles_is_not_an_inline_list() -> None:
    assert not _enumerates("Responses to the risks are developed, planned, and documented.")
    assert _enumerates("Options include mitigating, transferring, avoiding, or accepting.")


def test_a_list_question_opens_with_the_list_rather_than_a_sentence_echoing_it() -> None:
    """ "What are the characteristics of trustworthy AI?" opened with "The characteristics of
    trustworthy AI are integrated into organizational policies, ...": it shares the most
    words with the question and lists nothing asked for."""
    echo = "Trustworthy drones have characteristics that the drone unit's manual sets out."
    inline = (
        "Characteristics of trustworthy drones include: safe, secure and resilient, "
        "accountable and transparent, and fair."
    )
    first, shown = opener(
        "What are the characteristics of trustworthy drones?", passage(f"{echo} {inline}")
    )
    assert first == inline, shown


# A list of another count, for a question that names five.
_SEVEN_RESOURCES = (
    "The seven core drone resources are the following:\n- the drone rules manual\n"
    "- a checklist\n- a register\n- a log template"
)


def test_a_list_after_a_colon_without_a_last_comma_is_the_list_asked_for() -> None:
    """ "What are the five core principles?" opened with "The seven resources of the Toolkit
    are the following:" when "There are five core principles: lawfulness, ..., fairness and
    good governance." was not read as a list for want of a comma before "and"."""
    rules = "There are five core drone rules: safety, privacy, consent, logging and review."
    first, shown = opener(
        "What are the five core drone rules?", passage(f"{rules}\n{_SEVEN_RESOURCES}")
    )
    assert first == rules, shown


def test_a_list_of_another_count_does_not_open_a_question_that_names_one() -> None:
    rules = "Five core drone rules guide every flight the unit makes."
    first, shown = opener(
        "What are the five core drone rules?", passage(f"{rules}\n{_SEVEN_RESOURCES}")
    )
    assert first == rules, shown


def test_three_items_after_a_colon_are_the_list_a_longer_one_does_not_displace() -> None:
    three = (
        "The drone unit's bias review covers bias in three kinds: systemic, statistical, and human."
    )
    four = "Human bias in drone flights shows in design, testing, flying, and review."
    first, shown = opener(
        "What are the kinds of bias in drone flights?", passage(f"{three} {four}")
    )
    assert first == three, shown


@pytest.mark.parametrize(
    ("question", "echo", "answering"),
    [
        # "Does openness make a drone fair?" is decided by "... is not necessarily fair",
        # not by the sentence that shares the most words with the question.
        (
            "Does being open about a drone system make its decisions fair?",
            "Being open about drone systems supports decisions.",
            "An open drone system is not necessarily fair.",
        ),
        # "What are the options ...?" asks for kinds, not for what something "is": the
        # sentence that introduces them, not one whose "are" is followed by a chain of
        # participles ("are developed, planned, and documented", no list of things).
        (
            "What are the options for responding to a high-priority drone risk?",
            "Responses to high-priority drone risks are developed, planned, and documented.",
            "Drone risk response options can include grounding, patching, insuring, or accepting.",
        ),
    ],
    ids=["yes-no", "kinds"],
)
def test_the_opener_is_the_sentence_that_answers_the_kind_of_question(
    question: str, echo: str, answering: str
) -> None:
    first, shown = opener(question, passage(f"{echo} {answering}"))
    assert first == answering, shown


def test_what_the_publisher_plans_opens_only_an_answer_about_what_comes_next() -> None:
    plans = "The drone unit will continue to align its drone checks with the national rules."
    rule = "Drone checks matter because a faulty drone endangers people below."
    drone = passage(f"{plans} {rule}", dense=0.6)
    first, shown = opener("Why does the drone unit align its drone checks?", drone)
    assert first == rule, shown
    first, shown = opener("Will the drone unit align its drone checks with national rules?", drone)
    assert first == plans, shown


def test_a_sentence_pointing_to_a_figure_does_not_open() -> None:
    pointer = "Figure 1 provides examples of drone harms."
    rule = "Harms include injuries below a falling drone."
    first, shown = opener("What are examples of drone harms?", passage(f"{pointer} {rule}"))
    assert first == rule, shown


_SUSPEND = "Any pilot may suspend a flight."
_WHO_SUSPENDS = "Who may suspend a drone flight that goes wrong?"


def test_a_sentence_whose_subject_is_the_document_does_not_open() -> None:
    """ "The Toolkit helps them ...": about the document, unless the question names it."""
    about = "The Toolkit helps drone pilots suspend a drone flight that goes wrong."
    drone = passage(f"{about} {_SUSPEND}")
    first, shown = opener(_WHO_SUSPENDS, drone)
    assert first == _SUSPEND, shown
    first, shown = opener("How does the toolkit help drone pilots?", drone)
    assert first == about, shown


def test_a_sentence_about_the_document_after_a_lead_in_does_not_open() -> None:
    # pdfs2.tune pdf2-129: "Along with the AI RMF, the Playbook is part of ..."
    about = (
        "Along with the guide, the Playbook helps drone pilots suspend a flight that goes wrong."
    )
    first, shown = opener(_WHO_SUSPENDS, passage(f"{about} {_SUSPEND}"))
    assert first == _SUSPEND, shown


def test_a_sentence_about_the_document_by_its_full_name_or_its_users_does_not_open() -> None:
    # pdfs3.tune p3-112: "An online companion resource to the AI RMF, the NIST AI RMF
    # Playbook, is available to help ...", then "Playbook users can create ..."
    for about in (
        "An online companion resource to the drone guide, the NIST Drone Flight Playbook, "
        "helps drone pilots suspend a flight that goes wrong.",
        "Playbook users can suspend a drone flight that goes wrong with its help.",
    ):
        first, shown = opener(_WHO_SUSPENDS, passage(f"{about} {_SUSPEND}"))
        assert first == _SUSPEND, shown


def test_a_question_about_this_document_lets_its_sentences_about_it_open() -> None:
    # sample s-006: "Who put up the money to get this guidance written in the first place?"
    about = "The Toolkit was written by the pilots' union with money from the city."
    other = "Drone pilots may suspend a flight when the money for it runs out."
    question = "Who put up the money to get this guidance written?"
    first, shown = opener(question, passage(f"{about} {other}"))
    assert first == about, shown


_PROFILES_ABOUT = "This Framework does not prescribe profile templates, allowing for flexibility."
_PROFILES_OTHER = "Profiles are implementations of the functions for a specific setting."
_DRONE_ABOUT = "The Playbook helps drone pilots suspend a drone flight that goes wrong."


@pytest.mark.parametrize(
    ("question", "about", "other", "opens_with_about"),
    [
        # A yes/no question on what the document does (pdfs.tune pdf-051): its sentence
        # about itself decides it.
        (
            "Does NIST provide a template for building profiles?",
            _PROFILES_ABOUT,
            _PROFILES_OTHER,
            True,
        ),
        (
            "Is the framework going to give us a template for building profiles?",
            _PROFILES_ABOUT,
            _PROFILES_OTHER,
            True,
        ),
        # Asked of something else, the same sentence about the document does not open.
        (
            "Do profiles come with a template for building them?",
            _PROFILES_ABOUT,
            _PROFILES_OTHER,
            False,
        ),
        # "What does the Playbook suggest for ...?" names where the answer is, not what it
        # is about; "How does the Playbook help ...?" is about the Playbook.
        (
            "What does the Playbook suggest for suspending a drone flight that goes wrong?",
            _DRONE_ABOUT,
            _SUSPEND,
            False,
        ),
        (
            "Who may suspend a drone flight that goes wrong, according to the Playbook?",
            _DRONE_ABOUT,
            _SUSPEND,
            False,
        ),
        ("How does the Playbook help drone pilots?", _DRONE_ABOUT, _SUSPEND, True),
    ],
)
def test_a_sentence_about_the_document_opens_when_the_question_is_about_the_document(
    question: str, about: str, other: str, opens_with_about: bool
) -> None:
    first, shown = opener(question, passage(f"{about} {other}"))
    assert first == (about if opens_with_about else other), shown


@pytest.mark.parametrize(
    ("question", "acronym"),
    [
        ("What does TEVV stand for, and what does it cover?", "TEVV"),
        ("What is TEVV?", "TEVV"),
        ("What's TEVV? It keeps coming up.", "TEVV"),  # pdfs5.tune pdf5-040
        ("What\u2019s TEVV?", "TEVV"),
        ("What are PETs?", "PETs"),
        ("TEVV keeps coming up. What does it stand for and mean?", "TEVV"),
        ("What is the acronym OECD short of?", "OECD"),
        ("What is the AI lifecycle?", None),  # the term is not the acronym
        ("What do NIST and OECD stand for?", None),  # two: neither is raised
        ("Who runs TEVV?", None),
        # Who means it is not the term (pdfs3.tune p3-054, pdf-023).
        ("What does NIST mean by 'risk' in the AI RMF?", None),
        ("What does NIST mean when it says a tool should not endanger lives?", None),
    ],
)
def test_the_acronym_a_question_asks_to_spell_out(question: str, acronym: str | None) -> None:
    assert asked_acronym(question) == acronym


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("What does 'risk tolerance' mean in the AI RMF?", "risk tolerance"),
        ("What does NIST mean by 'risk' in the AI RMF?", "risk"),
        ("What is meant by 'risk tolerance' in the AI risk framework?", "risk tolerance"),
        ("Risk tolerance - what does the framework mean by that?", "Risk tolerance"),
        ("Residual risk: what do they mean by it?", "Residual risk"),
        ("What does it mean by off-label use there?", "off-label use"),
        ("What does it mean by that?", None),  # only points back
        ("How many functions are there?", None),
        ("a " * 50_000 + "- what does it mean by that?", None),  # long input: bounded
    ],
)
def test_the_term_a_definition_question_asks_about(question: str, term: str | None) -> None:
    assert defined_term(question) == term


def test_a_definition_after_a_setting_opens() -> None:
    """ "In the context of the AI RMF, risk refers to ..." defines risk though its first
    words set the scene (pdfs3.tune p3-054); "In addition" is no setting of the term."""
    question = "What does NIST mean by 'risk'?"
    assert defines(question, "In the context of the AI RMF, risk refers to a composite measure.")
    assert not defines(question, "In the context of the AI RMF, NIST describes risk.")
    about = passage("NIST described several key attributes of the AI RMF.", page=2)
    defining = passage(
        "In the context of the AI RMF, risk refers to the composite measure of an event's "
        "probability and the magnitude of its consequences.",
        page=9,
        dense=0.3,
    )
    first, _ = cited_lines(ask(question, [about, defining]))[0]
    assert first.startswith("In the context of the AI RMF, risk refers to"), first


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("What types of response to a high-priority risk are there?", True),
        ("List the ways we can respond to a high-priority risk.", True),
        ("What forms can an in-kind contribution take?", True),
        ("How do we check that our own ways of testing AI tools are sound?", False),
        ("What are the categories of the MAP function?", False),  # a table's headings
    ],
)
def test_a_question_asks_for_kinds_when_their_noun_follows_the_question_word(
    question: str, kinds: bool
) -> None:
    assert bool(_KINDS_QUESTION.search(question)) is kinds


# -- the opener adapter ------------------------------------------------------------------
_DEPLOYMENT = [
    passage(
        "Officers who rely on the tool should understand how it reaches its outputs. "
        "Deployment goes ahead only after the senior responsible owner signs the approval."
    )
]
_DEPLOYMENT_QUESTION = "Can officers rely on the tool before anyone approves it?"


def _toward(question: str, sentence: str) -> QueryAdapter:
    """An adapter that turns `question`'s vector into `sentence`'s."""
    q, s = HashedBagOfWords().embed_short([question, sentence])
    return QueryAdapter(np.outer(q, s - q).astype(np.float32), frozenset())


def test_the_opener_adapter_chooses_the_first_sentence() -> None:
    plain = answerer(_DEPLOYMENT)
    first, _ = cited_lines(plain.answer(_DEPLOYMENT_QUESTION, _DEPLOYMENT, []))[0]
    assert first.startswith("Officers who rely"), "the plain scoring prefers shared words"
    adapted = replace_opener(plain, _toward(_DEPLOYMENT_QUESTION, "signs the approval"))
    answer = adapted.answer(_DEPLOYMENT_QUESTION, _DEPLOYMENT, [])
    first, _ = cited_lines(answer)[0]
    assert first.startswith("Deployment goes ahead only after"), answer.answer
    assert_verbatim(answer)


def test_the_opener_adapter_leaves_a_follow_up_alone() -> None:
    """Its training questions stand alone: the previous question would mislead it."""
    adapted = replace_opener(
        answerer(_DEPLOYMENT), _toward(_DEPLOYMENT_QUESTION, "signs the approval")
    )
    answer = adapted.answer(_DEPLOYMENT_QUESTION, _DEPLOYMENT, ["Who owns the tool?"])
    first, _ = cited_lines(answer)[0]
    assert first.startswith("Officers who rely"), answer.answer


def replace_opener(extractive: ExtractiveAnswerer, opener: QueryAdapter) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(
        extractive.settings.model_copy(update={"opener_weight": 1.0}),
        extractive.embedder,
        extractive.keyword,
        extractive.boilerplate,
        opener,
    )
