"""Refusal signals: each check alone makes the evidence weak, and each is measured right.

A wrong refusal hides an answer the corpus has; a missing one lets the assistant quote
passages about something else. Both directions are checked.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant.qa.models import Passage
from assistant.qa.refusal import (
    Evidence,
    asked_topic,
    asks_permission,
    asks_threshold,
    expected_name_kind,
    expected_quantity_anchor,
    is_weak,
    law_names,
    measure_evidence,
    states_deadline,
    states_figure,
    states_name,
    states_permission,
    states_quantity,
    states_threshold,
    states_what_is_asked,
    unknown_names,
)
from ingest.keyword_index import KeywordIndex
from ingest.settings import AnswerSettings

SETTINGS = AnswerSettings(min_dense_score=0.25, min_term_coverage=0.2)


def passage(text: str, dense: float = 0.6, title: str = "Guide", section: str = "") -> Passage:
    return Passage("c", "d", "d.pdf", title, 1, section, text, 0.9, dense)


TEXTS = [
    "Proportionality limits the intrusion of an AI system to what the policing aim needs.",
    "Facial recognition matches are confirmed by a trained examiner.",
    "The AI Act sets obligations for providers of high-risk systems.",
    "The agency keeps records of every deployment.",
    "Officers receive training before using any AI tool.",
]
KEYWORD = KeywordIndex.build((str(i), t) for i, t in enumerate(TEXTS))
# As the retriever builds it: the words, the laws the texts name ("ai act"), and the
# capitalised words as written ("AI", "Act").
VOCABULARY = (
    frozenset(w.lower().strip(".,") for t in TEXTS for w in t.split())
    | frozenset(law for t in TEXTS for law in law_names(t, suffixes=True))
    | frozenset(w.strip(".,") for t in TEXTS for w in t.split() if w[0].isupper())
)


# -- is_weak ---------------------------------------------------------------------------
def test_strong_evidence_is_not_weak() -> None:
    assert not is_weak(Evidence(0.6, 0.9), SETTINGS)
    assert not is_weak(Evidence(0.25, 0.2), SETTINGS), "the thresholds themselves pass"


@pytest.mark.parametrize(
    ("evidence", "why"),
    [
        (Evidence(0.249, 0.9), "the best passage is not close in meaning"),
        (Evidence(0.6, 0.199), "the passages lack the question's vocabulary"),
        (Evidence(0.9, 1.0, ("Whisper",)), "the question names something never mentioned"),
        (Evidence(0.9, 1.0, (), 0.09), "the passages lack the topic asked about"),
    ],
)
def test_each_signal_alone_makes_evidence_weak(evidence: Evidence, why: str) -> None:
    assert is_weak(evidence, SETTINGS), why


def test_by_default_a_paraphrase_sharing_almost_no_word_is_not_refused_for_it() -> None:
    # pdfs.tune pdf-096, "We've got a long list of risks and not enough staff. How do we
    # decide what to tackle first?": its passages (MANAGE 1.2, 1.3) hold 0.017 of its
    # weighted words at cosine 0.55; every out-of-scope question of the tune and regression
    # sets with coverage that low is refused by another signal (docs/evals.md, "Refusal").
    defaults = AnswerSettings()
    assert not is_weak(Evidence(0.55, 0.017), defaults)
    # pdfs5.tune pdf5-005, "Why is it so hard to put a solid number on how risky an AI tool
    # is?": none of its weighted words in passages that answer it, at cosine 0.66
    assert not is_weak(Evidence(0.66, 0.0), defaults), "the floor is off by default"


def test_evidence_serializes_its_signals() -> None:
    assert Evidence(0.5, 0.25, ("FBI",)).to_dict() == {
        "dense_score": 0.5,
        "term_coverage": 0.25,
        "unknown_names": ["FBI"],
        "topic_coverage": 1.0,
        "domain_score": None,
        "known_terms": True,
        "near_domain_score": None,
    }


@pytest.mark.parametrize(
    "question", ["五项核心原则是什么？", "Что означает соразмерность?", "比例原則とは何ですか？"]
)
def test_a_question_with_no_word_of_the_corpus_is_weak(question: str) -> None:
    """With the term-coverage floor off, these were answered: MiniLM puts a script it does
    not know anywhere (cosine 0.23-0.27 over the sample corpus, "on the subject" for the
    domain model)."""
    evidence = measure_evidence(question, [passage(TEXTS[0], dense=0.6)], KEYWORD, VOCABULARY)
    assert not evidence.known_terms
    assert is_weak(evidence, AnswerSettings())


def test_one_word_of_the_corpus_is_enough_to_be_judged_on_the_rest() -> None:
    # pdfs5.tune pdf5-005: "solid", "number", "hard" are in no top passage; "AI" is a word
    # of the corpus
    question = "Why is it so hard to put a solid number on how risky an AI system is?"
    evidence = measure_evidence(question, [passage(TEXTS[1], dense=0.66)], KEYWORD, VOCABULARY)
    assert evidence.known_terms
    assert not is_weak(evidence, AnswerSettings())
    assert measure_evidence("What is it?", [passage(TEXTS[1])], KEYWORD, VOCABULARY).known_terms


def test_a_question_off_the_corpus_subject_is_weak_unless_a_passage_is_close() -> None:
    # "What's the service interval for our marked patrol vehicles?" found passages at cosine
    # 0.33 and 0.24 of its words, as close as officers' paraphrases of answered questions.
    off = Evidence(0.33, 0.24, domain_score=-2.0)
    assert is_weak(off, SETTINGS)
    assert not is_weak(replace(off, dense_score=0.6), SETTINGS), "a passage on its subject"
    assert not is_weak(replace(off, domain_score=0.1), SETTINGS), "on the subject"
    assert not is_weak(replace(off, domain_score=None), SETTINGS), "not judged"


def test_a_question_past_what_guidance_holds_is_weak_unless_a_passage_is_close() -> None:
    # pdfs4.tune pdf4-018, "Do we need a directed surveillance authorisation before running
    # drone footage through object detection software?": on the subject, and its best
    # passage (on drones) at cosine 0.31
    near = Evidence(0.31, 0.4, domain_score=3.0, near_domain_score=-0.5)
    assert is_weak(near, SETTINGS)
    assert not is_weak(replace(near, dense_score=0.6), SETTINGS), "a passage on its subject"
    assert not is_weak(replace(near, near_domain_score=0.2), SETTINGS), "what guidance holds"
    assert not is_weak(replace(near, near_domain_score=None), SETTINGS), "not judged"


def test_a_question_on_the_corpus_subject_may_sit_further_from_its_passages() -> None:
    # pdfs.tune pdf-040, "Which of the four parts is supposed to run underneath all the
    # others?", is in scope, and its best passage is at cosine 0.17.
    on = Evidence(0.17, 0.24, domain_score=0.4)
    assert not is_weak(on, SETTINGS)
    assert is_weak(replace(on, domain_score=None), SETTINGS), "not judged: the usual floor"
    assert is_weak(replace(on, domain_score=-0.1), SETTINGS), "off the subject"
    assert is_weak(replace(on, dense_score=0.14), SETTINGS), "below the subject's floor"


# -- measure_evidence --------------------------------------------------------------------
def test_coverage_is_full_when_the_passages_hold_the_question_terms() -> None:
    evidence = measure_evidence(
        "What does proportionality mean for AI systems?",
        [passage(TEXTS[0], 0.55), passage(TEXTS[3], 0.7)],
        KEYWORD,
        VOCABULARY,
    )
    assert evidence == Evidence(0.7, 1.0, ())


def test_coverage_drops_when_the_specific_terms_are_missing() -> None:
    """The question is about "facial recognition"; "agency" is only scaffolding."""
    evidence = measure_evidence(
        "Does the agency use facial recognition?", [passage(TEXTS[3])], KEYWORD, VOCABULARY
    )
    assert evidence.term_coverage == 0.0
    assert is_weak(evidence, SETTINGS)


def test_question_scaffolding_is_not_missing_evidence() -> None:
    evidence = measure_evidence(
        "Please explain and summarize what the toolkit document says about proportionality",
        [passage(TEXTS[0])],
        KEYWORD,
        VOCABULARY,
    )
    assert evidence.term_coverage == 1.0


def test_titles_and_sections_count_as_evidence_but_only_of_the_top_passages() -> None:
    question = "Is there officer training?"
    in_section = passage("Sessions last one day.", section="Officer training")
    assert measure_evidence(question, [in_section], KEYWORD, VOCABULARY).term_coverage > 0.9
    buried = [passage(TEXTS[i]) for i in (0, 2, 3, 4)]  # TEXTS[4] is about training
    assert measure_evidence(question, buried, KEYWORD, VOCABULARY).term_coverage == 0.0
    promoted = buried[-1:] + buried[:-1]
    assert measure_evidence(question, promoted, KEYWORD, VOCABULARY).term_coverage == 1.0


def test_no_passages_is_no_evidence() -> None:
    evidence = measure_evidence("What did the FBI decide?", [], KEYWORD, VOCABULARY)
    assert evidence == Evidence(0.0, 0.0, ("FBI",), known_terms=False)
    assert is_weak(evidence, SETTINGS)


# -- unknown names -------------------------------------------------------------------------
def test_names_the_corpus_never_mentions_are_reported() -> None:
    question = "What did the FBI say about Whisper and the AI Act?"
    assert unknown_names(question, VOCABULARY) == ("FBI", "Whisper")


def test_the_first_word_and_lower_case_words_are_not_names() -> None:
    assert unknown_names("Explain quantum entanglement to me", VOCABULARY) == ()
    assert unknown_names("Which Facial Recognition rules apply?", VOCABULARY) == ()


@pytest.mark.parametrize(
    "question",
    [
        "Is it OK to use facial recognition at a protest?",
        "The Sergeant asked whether facial recognition matches are confirmed.",
        "Our Chief wants the training records. Who keeps them?",
        "We keep records of every deployment. Which records matter?",
        "Does an AI-powered tool need training?",
        "Should the CIO or the legal team keep the training records?",
        "Explain training records as if I'm a sergeant.",
        # pdfs5.tune pdf5-076: a day is a date, not a name
        "How should we test the training records on a busy Saturday night?",
        "Were the training records kept in March?",
    ],
)
def test_capitals_that_say_nothing_about_a_name_are_not_names(question: str) -> None:
    """An officer's "OK", a rank, "our Chief", a later sentence's first word and a compound
    of known parts were each enough to refuse a question the corpus answers."""
    assert unknown_names(question, VOCABULARY) == ()


def test_names_stay_names_beside_those_exceptions() -> None:
    assert unknown_names("Does our EU office need training?", VOCABULARY) == ("EU",)
    assert unknown_names("What does the U.S. DOJ keep?", VOCABULARY) == ("DOJ",)
    assert unknown_names("See e.g. NEC records. Which ones?", VOCABULARY) == ("NEC",)
    assert unknown_names("Is GDPR-style consent a record?", VOCABULARY) == ("GDPR-style",)
    assert unknown_names("What did the Detroit Chief decide?", VOCABULARY) == ("Detroit",)


def test_a_designation_whose_number_the_corpus_lacks_is_an_unknown_name() -> None:
    """pdfs3.tune p3-093, p3-080: the corpus names executive orders and ISO standards, but
    not these; the passages about AI Act obligations do not say what those texts require."""
    vocabulary = VOCABULARY | {"executive", "order", "iso/iec", "iso", "iec", "13960", "27001"}
    vocabulary |= {"executive order"}  # a law the corpus names (`law_names`)
    question = "What does Executive Order 14110 require agencies to do about AI risk?"
    assert unknown_names(question, vocabulary) == ("Order 14110",)
    question = "Which ISO/IEC 42001 clauses match the AI Act's obligations?"
    assert unknown_names(question, vocabulary) == ("ISO/IEC 42001",)
    assert unknown_names("What does Executive Order 13960 require?", vocabulary) == ()
    assert unknown_names("Does ISO 27001 cover training records?", vocabulary) == ()
    # a figure after a word that is no name, and a one-digit subcategory number, are not
    assert unknown_names("We're a 40-officer force with 300 records.", vocabulary) == ()
    assert unknown_names("What does GOVERN 1 cover?", vocabulary | {"govern"}) == ()
    # a year after the word opening the question
    assert unknown_names("In 2025, will the guidance on training be revised?", vocabulary) == ()


def test_a_law_the_corpus_never_names_is_an_unknown_name() -> None:
    """pdfs4.tune pdf4-036, pdf4-084: every word of "Equality Act" and "Data Protection
    Act" is in the corpus (it names the "National Artificial Intelligence Initiative Act"),
    the laws are not; the passages on bias and automated decisions do not say what they
    require."""
    cited = "As directed by the National Artificial Intelligence Initiative Act of 2020, ..."
    assert law_names(cited) == ["national artificial intelligence initiative act"]
    known = frozenset(law_names(cited, suffixes=True))
    assert "initiative act" in known and "intelligence initiative act" in known
    vocabulary = VOCABULARY | known | {"equality", "data", "protection", "act", "part"}
    vocabulary |= {"initiative", "nist", "ethics", "2010", "2018"}
    question = "Which section of the Equality Act 2010 covers algorithmic bias in policing?"
    assert unknown_names(question, vocabulary) == ("equality act",)
    question = "What does Part 3 of the Data Protection Act 2018 say about automated decisions?"
    assert unknown_names(question, vocabulary) == ("data protection act",)
    # the corpus's own law, by a shorter name; a law's title alone; a code of one's own
    assert unknown_names("What does the Initiative Act direct NIST to do?", vocabulary) == ()
    assert unknown_names("Which Act directed the framework?", vocabulary) == ()
    assert unknown_names("Does our Code of Ethics cover it?", vocabulary) == ()
    assert law_names("Does the Freedom of Information Act apply?") == ["freedom of information act"]


def test_an_owner_is_a_name_the_corpus_must_write_with_its_capital() -> None:
    """pdfs4.tune pdf4-070: "the Met's current policy": the corpus has "met" in lower case
    only. An owner the corpus writes with its capital is known."""
    vocabulary = VOCABULARY | {"met", "current", "policy", "nist", "playbook"}
    vocabulary |= {"NIST", "Playbook", "INTERPOL"}
    question = "What's the Met's current policy on facial recognition?"
    assert unknown_names(question, vocabulary) == ("Met's",)
    for question in (
        "What is NIST's advice on facial recognition?",
        "What is the Playbook's advice on facial recognition?",
        "What is the Interpol's advice on facial recognition?",  # "INTERPOL" as written
        "Our Chief's view on facial recognition?",  # an opening word, a rank
        "What is our Chief's view on facial recognition?",  # after "our"
    ):
        assert unknown_names(question, vocabulary | {"interpol", "view"}) == (), question


def test_an_unknown_name_weakens_otherwise_strong_evidence() -> None:
    evidence = measure_evidence(
        "How does Detroit confirm facial recognition matches?",
        [passage(TEXTS[1], 0.8)],
        KEYWORD,
        VOCABULARY,
    )
    assert evidence.dense_score == 0.8 and evidence.term_coverage > 0.5
    assert evidence.unknown_names == ("Detroit",)
    assert is_weak(evidence, SETTINGS)


# -- permission ---------------------------------------------------------------------------
EMOTION = "Does the framework allow us to use emotion recognition during suspect interviews?"


def test_a_permission_question_answered_by_neighbouring_guidance_is_not_answered() -> None:
    # pdfs3.tune p3-060: guidance on security and privacy risks, none deciding the use;
    # "may not" and "cannot" hedge, they do not forbid
    assert asks_permission(EMOTION)
    assert not states_permission(
        EMOTION,
        [
            "Organizations may consider leveraging available standards and guidance.",
            "The data may not be a true representation of the context, and cannot be checked.",
        ],
    )


@pytest.mark.parametrize(
    "stating",
    [
        "It prohibits the use of the agency's name in marketing without written approval.",
        "Emotion recognition is not permitted in interviews.",
        "Such uses are banned.",
        "Only uses authorised by the board may go ahead.",
    ],
)
def test_a_sentence_that_permits_or_forbids_answers_a_permission_question(stating: str) -> None:
    assert states_permission(EMOTION, ["Training comes first.", stating])


@pytest.mark.parametrize(
    "question",
    [
        "How do I decide whether an AI system should be allowed to go ahead to deployment?",
        "Are we legally obliged to follow this framework?",
        "Which uses of AI does the policy prohibit absolutely?",
        "We are not allowed to share data. How do we test the tool?",
        "Does the framework allow for adapting it to a small force?",
    ],
)
def test_other_questions_ask_no_permission(question: str) -> None:
    """A procedure, an obligation, a list of what is forbidden, a statement before the
    question: none is answered yes or no by a sentence that permits."""
    assert not asks_permission(question)
    assert states_permission(question, ["No sentence permits anything."])


def test_a_later_sentence_of_the_question_can_ask_permission() -> None:
    assert asks_permission("A firm wants our crest in its brochures. Are they allowed to?")


# -- a figure the question puts forward ---------------------------------------------------
def test_a_figure_put_to_the_documents_must_be_in_the_answer() -> None:
    # pdfs3.tune p3-098: sentences on privacy risks, none about 31 days
    question = "Should camera footage analysed by AI be deleted after 31 days to manage privacy?"
    assert not states_figure(question, ["AI systems can present new risks to privacy."])
    assert states_figure(question, ["Footage is deleted after 31 days unless it is evidence."])


@pytest.mark.parametrize(
    "question",
    [
        "Should we retrain every 24 hours or once a week?",
        "Is a 5% error rate acceptable for face matching?",
    ],
)
def test_each_kind_of_figure_is_one_put_forward(question: str) -> None:
    assert not states_figure(question, ["Models are retrained regularly."])


def test_a_score_on_a_scale_is_a_figure_put_forward() -> None:
    # pdfs5.tune pdf5-097: answered with sentences on senior commitment to risk management
    question = "What risk score out of 25 does the framework say should trigger escalation?"
    assert not states_figure(question, ["Risk management needs commitment at senior levels."])
    assert states_figure(question, ["A score of 15 out of 25 is escalated."])
    # Not a scale: a share of alerts in the scene
    assert states_figure("If 3 out of 10 alerts are wrong, what then?", ["Review it."])


def test_a_figure_in_the_scene_before_the_question_is_not_put_forward() -> None:
    question = "We bought the tool 2 years ago. Should we review how it performs?"
    assert states_figure(question, ["Performance is reviewed regularly."])
    assert states_figure("We're a 40-officer force. How do we test it?", ["Test it."])


# -- names -------------------------------------------------------------------------------
PROVIDER = "Which cloud provider does NIST recommend for storing AI training data?"


def test_a_vendor_question_answered_by_sentences_naming_none_is_not_answered() -> None:
    # pdfs.tune pdf-193: passages about training data, none naming a provider
    assert expected_name_kind(PROVIDER) == "provider"
    assert not states_name(
        PROVIDER,
        [
            "Training data may also be subject to copyright.",
            "NIST will review the content and usefulness of the Framework regularly.",
        ],
    )
    # "provide" is not "provider", though the two share a stem: a sentence providing
    # guidance beside the NIST Privacy Framework names no provider.
    guidance = (
        "Organizations may consider standards that provide broad guidance, such as the "
        "NIST Cybersecurity Framework and the NIST Privacy Framework."
    )
    assert not states_name(PROVIDER, [guidance])
    assert states_name(PROVIDER, ["The data is stored with Acme, a cloud provider."])


def test_a_name_beside_the_kind_answers_a_vendor_question() -> None:
    question = "Which vendor won the image triage contract in the procurement example?"
    assert states_name(question, ["The contract was awarded to Vendor B."])
    assert not states_name(question, ["The vendor keeps the software for court."])


def test_a_place_question_needs_a_place_named() -> None:
    question = "Which US states have made the AI RMF a legal requirement for police?"
    assert expected_name_kind(question) == "states"
    assert not states_name(question, ["Legal and regulatory requirements involving AI."])
    assert states_name(question, ["It is required in Colorado and two other states."])


def test_a_law_question_needs_a_law_title() -> None:
    question = "Which law requires agencies to publish their algorithms?"
    assert expected_name_kind(question) == "law"
    assert not states_name(question, ["Legal requirements involving AI are documented."])
    assert states_name(question, ["Development is called for by the National AI Initiative Act."])


@pytest.mark.parametrize(
    "question",
    [
        "What vendor questions should we ask?",  # "vendor" is not the head noun
        "What must the vendor do with agency data at the end of the contract?",
        "Which explainability tool uses Shapley values?",  # "SHAP ... uses": no "tool"
        "Which two organizations developed the AI Toolkit?",
        "How do we pick a vendor?",
    ],
)
def test_other_questions_need_no_name(question: str) -> None:
    assert expected_name_kind(question) is None
    assert states_name(question, ["No sentence names anything."])


# -- quantities ----------------------------------------------------------------------------
FINE = "What is the maximum fine under the AI Act?"


def test_a_fine_question_without_a_number_in_the_evidence_is_not_answered() -> None:
    assert expected_quantity_anchor(FINE) == "fine"
    assert not states_quantity(FINE, ["The AI Act sets obligations for providers."])


def test_a_number_about_something_else_does_not_state_the_fine() -> None:
    assert not states_quantity(FINE, ["The AI Act has 113 articles and 13 annexes."])


def test_a_number_next_to_the_anchor_states_the_fine() -> None:
    assert states_quantity(FINE, ["Fines reach 35 million euros or 7% of turnover."])
    assert states_quantity(FINE, ["Nothing here.", "The maximum fine is fifteen million."])


def test_a_fine_asked_with_what_is_an_amount() -> None:
    # pdfs3.tune p3-092
    question = "What fine can a police force face for deploying a biased AI system?"
    assert expected_quantity_anchor(question) == "fine"
    assert not states_quantity(question, ["AI systems can amplify harmful bias."])


def test_a_hyphenated_word_is_not_what_a_quantity_question_counts() -> None:
    # pdfs3.tune p3-092 was answered with a query encoder tried on 2026-12-07 (evening): a
    # quoted list held "trained in one domain and then “fine-tuned” for another".
    question = "What fine can a police force face for deploying a biased AI system?"
    fine_tuned = "Models may be trained in one domain and then “fine-tuned” for another."
    assert not states_quantity(question, [fine_tuned])
    assert states_quantity(question, ["A fine of up to 20 million euros applies."])


def test_fine_as_an_adjective_asks_for_no_quantity() -> None:
    question = "Is it fine to use facial recognition at a protest?"
    assert expected_quantity_anchor(question) is None
    assert states_quantity(question, ["No sentence states a number."])


def test_how_much_of_asks_a_share_not_an_amount() -> None:
    """pdfs4.tune pdf4-024 was refused for want of a number: "how much of the reasoning"
    asks for a degree. A share of an amount still asks for the amount (pdfs2.tune pdf2-075)."""
    question = (
        "Officers on the ground want to know why the tool flagged a particular person. "
        "How much of the reasoning should we be able to give them?"
    )
    assert expected_quantity_anchor(question) is None
    question = "How much of our annual IT budget should be ring-fenced for AI risk management?"
    assert expected_quantity_anchor(question) is not None


@pytest.mark.parametrize(
    ("question", "anchor", "stating", "not_stating"),
    [
        (
            "How many countries piloted the toolkit?",
            "countries piloted the",
            "Some 15 countries piloted it.",
            "Countries piloted it widely.",
        ),
        (
            "How long are records kept?",
            "time",
            "Records are kept for five years.",
            "Records are kept in 3 secure rooms.",
        ),
        (
            "What was the budget of the pilot?",
            "budget",
            "The budget was 2 million euros.",
            "The pilot had 12 staff.",
        ),
    ],
)
def test_quantity_questions_need_a_number_about_what_they_count(
    question: str, anchor: str, stating: str, not_stating: str
) -> None:
    assert expected_quantity_anchor(question).strip() == anchor
    assert states_quantity(question, [stating])
    assert not states_quantity(question, [not_stating])


def test_other_questions_need_no_quantity() -> None:
    question = "What does proportionality mean?"
    assert expected_quantity_anchor(question) is None
    assert states_quantity(question, [])


@pytest.mark.parametrize(
    "question",
    [
        "In high-stakes calls like arrests, how much should we lean on the machine?",
        "Nobody in our sector has said how much AI risk is acceptable. How do we decide?",
        "How much error can we tolerate in a triage tool?",
        "Apart from the price tag, what costs should we think about before adopting a tool?",
        # A quantity noun mentioned, not asked for; a count in the context, not the question.
        "How do we rank risks when there isn't the budget to fix all of them?",
        "Is there guidance on scaling the amount of checking to how risky a tool is?",
        "Nobody can tell me how many algorithms we run. Does the playbook say anything about it?",
        # Inside a question another question word opens: how to do it is asked (pdfs5.tune
        # pdf5-067, pdfs3.tune p3-037)
        "How should we set and write down how much risk the force is prepared to live with?",
        "How should we work out how much risk we're willing to accept from an AI tool?",
        "How do I find out how many AI systems we have?",
        # How far, in words: pdfs6.tune pdf6-046, and training questions the documents answer
        "How much emphasis does the guidance put on getting people from different backgrounds?",
        "If an AI system could put lives or property at risk, how much testing does it need?",
        "How much detail should the system write-up give the people who rely on it?",
    ],
)
def test_a_degree_or_a_kind_is_not_a_quantity(question: str) -> None:
    assert expected_quantity_anchor(question) is None
    assert states_quantity(question, ["Oversight matters most in high-stakes settings."])


@pytest.mark.parametrize(
    "question",
    [
        "How much is the uniform allowance this year?",
        "How much budget should a pilot of a triage tool have?",
        "How much data is kept, and is that enough for an audit?",
        "What is the annual budget of the lab?",
        "What's the U.S. budget for AI audits?",
        "We have forty officers. How many appendices does the framework have?",
        "Can you tell me how many appendices the framework has?",  # no question word opens it
        "At what altitude may we fly a drone over a protest?",
        "What speed should a patrol drone keep to?",
        # pdfs6.tune pdf6-031: three words describe the rate
        "What's the highest false alarm rate we should accept from automated 999 call triage?",
    ],
)
def test_an_amount_stays_a_quantity_question(question: str) -> None:
    assert expected_quantity_anchor(question) is not None


def test_a_fine_asked_with_can_is_an_amount() -> None:
    question = "How much can our data protection authority fine us for misusing biometric data?"
    assert expected_quantity_anchor(question) == "fine"
    assert not states_quantity(question, ["Biometric data deserve special care."])
    assert states_quantity(question, ["The authority can fine an agency up to 20 million."])


def test_any_figure_counts_parts_the_officer_cannot_name() -> None:
    # pdfs5.tune pdf5-006: the document calls them functions
    question = "How many main headings does the framework split the actual risk work into?"
    assert states_quantity(question, ["The Core is composed of four functions: A, B, C and D."])
    assert not states_quantity(question, ["The Core is composed of functions."])
    # A thing the document would name still needs its own word beside the figure
    assert not states_quantity("How many drones does the lab fly?", ["It has four functions."])


def test_any_figure_counts_qualities_the_officer_cannot_name() -> None:
    # pdfs6.tune pdf6-091: the document calls them characteristics
    question = "How many qualities does NIST say an AI system needs to be trustworthy?"
    assert states_quantity(question, ["Trustworthy AI has seven characteristics: A, B and C."])
    assert not states_quantity(question, ["Trustworthy AI has characteristics: A, B and C."])


def test_what_is_counted_ends_at_the_verb() -> None:
    question = "How many drones does INTERPOL's Innovation Centre operate?"
    assert expected_quantity_anchor(question) == "drones"
    # A number next to INTERPOL is not a count of drones.
    assert not states_quantity(question, ["INTERPOL has 195 member countries."])
    assert states_quantity(question, ["The Centre operates 4 drones."])


@pytest.mark.parametrize(
    ("question", "stating"),
    [
        (
            "What word error rate did the police service require?",
            "It requires a word error rate below eight percent on its own recordings.",
        ),
        (
            "What false alert rate did the vendor report?",
            "The vendor reports a false alert rate of about 1 in 6,000 faces.",
        ),
        ("What is the rate of false matches?", "False matches occur at a rate of 0.3%."),
    ],
)
def test_a_rate_question_needs_a_rate(question: str, stating: str) -> None:
    """Found on `pdfs.tune`: a standard's number beside "false negative rates" answered
    "What was the false match rate of the best algorithm in NIST's latest test?"."""
    assert expected_quantity_anchor(question) == "rate"
    assert states_quantity(question, [stating])
    assert not states_quantity(
        question,
        ["Measures of accuracy (ISO/IEC TS 5723:2022) should consider false negative rates."],
    )


def test_rate_as_a_verb_asks_for_no_quantity() -> None:
    assert expected_quantity_anchor("How do we rate the risk of a new tool?") is None


def test_how_often_is_answered_by_a_cadence_or_a_period() -> None:
    question = "Our metrics were chosen two years ago. How often should we check them?"
    assert states_quantity(question, ["Metrics are regularly assessed and updated."])
    assert states_quantity(question, ["Metrics are reviewed every 6 months."])
    assert not states_quantity(question, ["Metrics are chosen by the measurement team."])


@pytest.mark.parametrize(
    ("question", "stating", "not_stating"),
    [
        (
            "How many hours of AI training per year does NIST require for each officer?",
            "Officers complete 20 hours of training.",
            "AI training covers 7 trustworthiness characteristics.",
        ),
        (
            "What's the maximum number of false alerts per shift the framework allows?",
            "No more than 3 false alerts per shift are tolerated.",
            "The framework was released in 2023.",
        ),
    ],
)
def test_what_is_counted_is_the_noun_asked_about(
    question: str, stating: str, not_stating: str
) -> None:
    assert states_quantity(question, [stating])
    assert not states_quantity(question, [not_stating])


# -- the topic of a "what does it say about X" question ------------------------------------
@pytest.mark.parametrize(
    ("question", "topic"),
    [
        (
            "What does the Playbook say about flying drones over protests?",
            "flying drones over protests",
        ),
        ("Does the toolkit say anything about watermarking?", "watermarking"),
        ("Is there any guidance about body-worn cameras?", "body-worn cameras"),
        (
            "Does the AI RMF explain how to get a warrant for data held by an AI company?",
            "get a warrant for data held by an AI company",
        ),
        ("Does the Playbook describe how the map function works?", "the map function works"),
        ("How should I think about risk?", None),  # no "say about": a question of its own
        ("Which biases does the primer describe?", None),  # what, not how: a list question
        ("What does it say?", None),
        # The topic points back to the sentence before it: its words are not the subject's.
        (
            "Analysts fear questioning a new tool. Does the playbook say anything about "
            "making room for that kind of challenge?",
            None,
        ),
        ("Does the guide explain how to handle it?", None),
    ],
)
def test_the_topic_asked_about_is_what_follows_say_about(question: str, topic: str | None) -> None:
    assert asked_topic(question) == topic


def test_a_say_about_question_whose_topic_the_passages_lack_is_weak() -> None:
    """Passages on training and records hold "AI" and "agency", never the drones asked about."""
    question = "What does the agency guidance say about flying drones over protests?"
    evidence = measure_evidence(
        question, [passage(TEXTS[3]), passage(TEXTS[4])], KEYWORD, VOCABULARY
    )
    assert evidence.topic_coverage == 0.0
    assert is_weak(evidence, AnswerSettings())


def test_a_say_about_question_whose_topic_the_passages_hold_is_not_weak() -> None:
    evidence = measure_evidence(
        "What does the guide say about facial recognition matches?",
        [passage(TEXTS[1]), passage(TEXTS[3])],
        KEYWORD,
        VOCABULARY,
    )
    assert evidence.topic_coverage == 1.0
    assert not is_weak(evidence, AnswerSettings())


def test_passages_in_another_language_do_not_count_against_the_topic() -> None:
    """An English question about a French guide: its words cannot show the topic."""
    french = Passage(
        "fr1", "d", "guide.fr.pdf", "Guide", 1, "", "Les drones sont encadrés.", 0.9, 0.6
    )
    question = "What does the French guide say about drones over crowds?"
    assert (
        measure_evidence(question, [french], KEYWORD, VOCABULARY, frozenset({"fr1"})).topic_coverage
        == 1.0
    )
    assert measure_evidence(question, [french], KEYWORD, VOCABULARY).topic_coverage < 1.0


def test_a_measure_asked_for_needs_a_figure_beside_it() -> None:
    """ "At what altitude ...?" asks a number: guidance on drones that gives none does not
    answer it (a near-domain question the corpus does not answer)."""
    question = "At what altitude are we allowed to fly a drone over a protest?"
    assert expected_quantity_anchor(question) == "altitude"
    assert not states_quantity(question, ["Drones over crowds are tested before deployment."])
    assert states_quantity(question, ["Drones keep an altitude of at least 50 metres."])
    assert expected_quantity_anchor("Does the age of a suspect matter for bias?") is None


def test_a_threshold_asked_for_needs_a_sentence_that_sets_one() -> None:
    # sample-blind.tune smp-076: answered with sentences on stop-and-search statistics.
    question = (
        "What's the legal threshold for a stop-and-search when a predictive tool flags someone?"
    )
    statistics = [
        "An agency could publish stop and search statistics by area.",
        "P2 Over-policing.",
    ]
    assert asks_threshold(question)
    assert not states_threshold(question, statistics), '"P2" is no figure'
    assert states_threshold(question, ["The threshold is reasonable suspicion."])
    assert states_threshold(question, ["A score of 12 or more is reviewed."])
    assert not states_what_is_asked(question, statistics)


@pytest.mark.parametrize(
    "question",
    [
        "What do we do when the score passes the threshold?",
        "Is there a threshold for reviewing the tool?",
        "Who sets the cut-off?",
    ],
)
def test_a_threshold_mentioned_is_not_one_asked_for(question: str) -> None:
    assert not asks_threshold(question)


@pytest.mark.parametrize(
    ("sentence", "sets"),
    [
        ("Where the law changes, the Board reviews this policy within three months.", True),
        ("High risks are mitigated before deployment.", True),
        ("The Board reviews the policy every two years.", True),
        ("Inventories are to be complete by 31 March.", True),
        # A date that is no time limit (pdfs4.tune pdf4-021), and no date at all (pdf6-060)
        ("Its development is called for by the National AI Initiative Act of 2020.", False),
        ("An AI system inventory is an organized database of artifacts.", False),
    ],
)
def test_a_deadline_asked_for_is_answered_by_a_time_limit(sentence: str, sets: bool) -> None:
    question = "What's the deadline for having our AI inventory finished under the framework?"
    assert states_deadline(question, [sentence]) is sets
    assert states_what_is_asked(question, [sentence]) is sets
    # Another question needs no time limit.
    assert states_deadline("What is an AI system inventory?", [sentence])
