"""Verification of generated sentences against the sources they cite (real encoder)."""

from __future__ import annotations

import pytest

from assistant.verify import Claim, Verifier, split_claims
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
    claim = (
        "The use of an AI system must be necessary and balanced against its intrusion on rights."
    )
    assert verifier.support(claim, 1, PRINCIPLES).score >= verifier.min_support


def test_the_same_sentence_against_another_passage_is_not(verifier: Verifier) -> None:
    claim = (
        "The use of an AI system must be necessary and balanced against its intrusion on rights."
    )
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
