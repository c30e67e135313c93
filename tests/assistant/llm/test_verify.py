"""Verification of generated sentences against the sources they cite (real encoder)."""

from __future__ import annotations

import pytest

from assistant.llm.verify import Claim, Verifier, split_claims
from ingest.embedding import Embedder
from ingest.settings import GenerationSettings

PRINCIPLES = (
    "Proportionality means that the use of an AI system must be necessary and balanced "
    "against its intrusion on the rights of the people affected. An agency documents this "
    "assessment before deployment."
)
PROCUREMENT = (
    "The procurement checklist asks the vendor for the accuracy figures of the system, the "
    "data it was trained on, and who may audit it. Contracts run for 24 months."
)


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(Embedder(), min_support=GenerationSettings().min_support)


def test_markers_are_parsed_and_taken_out_of_the_sentence() -> None:
    claims = split_claims("Proportionality is required [1][2]. An agency documents it. [3]")
    assert claims == [
        Claim("Proportionality is required.", (1, 2)),
        Claim("An agency documents it.", (3,)),
    ]
    assert split_claims("- a listed item [2, 4]")[0] == Claim("a listed item", (2, 4), True)


def test_a_sentence_drawn_from_its_source_is_supported(verifier: Verifier) -> None:
    claim = "Proportionality means that the use of an AI system must be necessary and balanced."
    assert verifier.support(claim, 1, PRINCIPLES).score >= verifier.min_support


def test_the_same_sentence_against_another_passage_is_not(verifier: Verifier) -> None:
    claim = "Proportionality means that the use of an AI system must be necessary and balanced."
    assert verifier.support(claim, 2, PROCUREMENT).score < verifier.min_support


def test_a_changed_number_is_not_supported(verifier: Verifier) -> None:
    assert verifier.support("Contracts run for 24 months.", 1, PROCUREMENT).score > 0
    assert verifier.support("Contracts run for 36 months.", 1, PROCUREMENT).score == 0


def test_the_source_words_recombined_with_new_ones_are_not_supported(verifier: Verifier) -> None:
    claim = "The procurement checklist is the vendor's training guidebook for auditors' salaries."
    assert verifier.support(claim, 1, PROCUREMENT).score == 0


def test_a_wrong_citation_is_never_moved_to_the_right_source(verifier: Verifier) -> None:
    sources = {1: PRINCIPLES, 2: PROCUREMENT}
    cited_wrong = Claim("Contracts run for 24 months.", (1,))
    uncited = Claim("Contracts run for 24 months.", ())
    wrong, attributed = verifier.check([cited_wrong, uncited], sources)
    assert not wrong.verified
    assert [s.source for s in attributed.supported_by] == [2]


def test_a_claim_stitched_from_distant_sentences_is_not_supported(verifier: Verifier) -> None:
    passage = (
        "The single largest miss was four calls. The model was trained on two years of data. "
        "Analysts reviewed the output every week. The root mean squared error is 2.74 calls."
    )
    assert (
        verifier.support("The root mean squared error is 2.74 calls.", 1, passage).score
        >= verifier.min_support
    )
    stitched = "The single largest miss was about 2.74 calls."
    assert verifier.support(stitched, 1, passage).score < verifier.min_support


def test_the_prompts_example_marker_copied_into_a_sentence_is_not_supported(verifier) -> None:
    claim = "The [n] score is the average of the answers in the domain."
    source = "The domain score is the average of the answers in the domain."
    assert verifier.support(claim, 1, source).score == 0


# What a 135M model wrote on the sample set, against the sentence it cited (sample corpus).
ESCROW = (
    "Where the agency depends on the vendor's software for evidence already produced, the "
    "vendor keeps that software available for court proceedings after the contract ends, or "
    "deposits it with an escrow agent."
)
PROPOSAL = (
    "The Harbourside Police Service proposes to use live facial recognition at the main "
    "concourse of Central Station for six hours on the day of a cup final."
)
METRICS = (
    "Precision is the share of flagged cases that were truly positive: of the people the "
    "model points at, how many deserve attention."
)
DOMAINS = (
    "The readiness self-assessment asks an agency to score itself. It covers five domains: "
    "people and skills, data, technical infrastructure, governance and policy, and "
    "partnerships."
)


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        # "after" became "before", and the escrow clause lost its condition
        (
            "The agency depends on the vendor's software for evidence before the contract "
            "ends, and it deposits it with an escrow agent.",
            ESCROW,
        ),
        # proposed, not approved
        (
            "The Proposal for Live Facial Recognition at Central Station is approved by the "
            "Harbourside Police Service.",
            PROPOSAL,
        ),
        # a subject swapped for another the passage also names
        ("Accuracy is the share of flagged cases that were truly positive.", METRICS),
        # a negation dropped
        (
            "Computer vision is used for facial recognition.",
            "Computer vision is not used for facial recognition in this pilot.",
        ),
        # words of the source recombined into a claim it does not make
        (
            "The practical tools are the supporting documents.",
            "The resources are grouped into three categories: Primary Guidance Documents, "
            "Practical Tools and Supporting Documents.",
        ),
    ],
)
def test_a_rewrite_that_changes_the_claim_is_not_supported(
    verifier: Verifier, claim: str, source: str
) -> None:
    assert verifier.support(claim, 1, source).score < verifier.min_support


@pytest.mark.parametrize(
    "claim",
    [
        # "It" spelled out in the passage's own words
        "The readiness self-assessment covers five domains: people and skills, data, "
        "technical infrastructure, governance and policy, and partnerships.",
        # shortened, with a connective added
        "It covers five domains, which are people and skills, data and partnerships.",
    ],
)
def test_a_faithful_rewrite_is_supported(verifier: Verifier, claim: str) -> None:
    assert verifier.support(claim, 1, DOMAINS).score >= verifier.min_support


def test_two_claims_joined_are_each_read_off_their_own_sentence(verifier: Verifier) -> None:
    joined = "Contracts run for 24 months, and the checklist asks who may audit it."
    support = verifier.support(joined, 1, PROCUREMENT)
    assert support.score >= verifier.min_support
    assert len(support.evidence) == 2  # both source sentences are quoted


def test_american_spelling_of_a_british_source_is_the_same_word(verifier: Verifier) -> None:
    source = "Computer vision is the field of AI that analyses images and video."
    claim = "Computer vision is the field of AI that analyzes images and video."
    assert verifier.support(claim, 1, source).score >= verifier.min_support
