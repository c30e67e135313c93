"""The multilingual side: fusion, vectors per generation, refusal and the English-only notice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.qa.models import Passage
from assistant.qa.multilingual import (
    english_only_answer,
    fuse,
    is_weak_multilingual,
    multilingual_evidence,
    states_quantity_any_language,
    unknown_names_any_script,
)
from ingest import multilingual
from ingest.settings import Settings


def test_fuse_weights_each_list() -> None:
    assert fuse([["a", "b"], ["b", "c"]], [0.5, 0.5]) == ["b", "a", "c"]
    assert fuse([["a", "b"], ["b", "c"]], [1.0, 0.0]) == ["a", "b"]
    assert fuse([["a"], ["c"]], [0.2, 0.8])[0] == "c"


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", "anglais"), ("es", "inglés"), ("ar", "الإنجليزية")],
)
def test_english_only_notice_is_in_the_question_s_language_and_not_a_refusal(
    language: str, words: str
) -> None:
    answer = english_only_answer("question", language)
    assert not answer.refused
    assert words in answer.answer
    assert answer.notice == answer.answer


def _passage(score: float) -> Passage:
    return Passage("c", "d", "s", "t", 1, "", "text", 1.0, score)


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_multilingual_refusal_uses_the_language_s_e5_threshold(language: str) -> None:
    settings = Settings()
    threshold = settings.answer.min_multilingual_score[language]
    low = multilingual_evidence("q", [_passage(threshold - 0.01)], frozenset())
    high = multilingual_evidence("q", [_passage(threshold + 0.01)], frozenset())
    assert is_weak_multilingual(low, settings, language)
    assert not is_weak_multilingual(high, settings, language)
    assert is_weak_multilingual(multilingual_evidence("q", [], frozenset()), settings, language)


def test_names_the_corpus_never_uses_are_found_in_any_script() -> None:
    vocabulary = frozenset({"interpol", "secretariat", "ia"})
    assert unknown_names_any_script("Quelle est la capitale de l'Australie ?", vocabulary) == (
        "Australie",
    )
    assert (
        unknown_names_any_script("Que fait le Secrétariat d'INTERPOL pour l'IA ?", vocabulary) == ()
    )
    assert unknown_names_any_script("ما معدل الخطأ في Whisper ؟", vocabulary) == ("Whisper",)


def test_amount_questions_need_a_stated_amount_in_any_language() -> None:
    quotes = ["The Toolkit was funded by the European Union."]
    assert not states_quantity_any_language("Combien d'euros l'UE a-t-elle versés ?", "fr", quotes)
    assert not states_quantity_any_language("ما الغرامة القصوى؟", "ar", quotes)
    assert states_quantity_any_language("Quels sont les principes ?", "fr", quotes)
    # An English question is read by `states_quantity` alone: "budget" is English too.
    english = "How do we rank risks when there isn't the budget to fix all of them?"
    assert states_quantity_any_language(english, "en", quotes)


needs_e5 = pytest.mark.skipif(
    multilingual.unavailable_reason() is not None,
    reason=f"the multilingual encoder cannot run here: {multilingual.unavailable_reason()}",
)


@needs_e5
def test_vectors_are_reused_by_content_hash(tmp_path: Path) -> None:
    rows = [("a", "The five core principles."), ("b", "Les cinq principes fondamentaux.")]
    first = multilingual.build_vectors(tmp_path, "g1", rows, None)
    assert (first.chunks, first.embedded) == (2, 2)
    changed = [rows[0], ("c", "Los cinco principios fundamentales.")]
    second = multilingual.build_vectors(tmp_path, "g2", changed, "g1")
    assert (second.chunks, second.embedded) == (2, 1)  # only the new text was encoded
    one = multilingual.MultilingualVectors.load(multilingual.vectors_dir(tmp_path, "g1"))
    two = multilingual.MultilingualVectors.load(multilingual.vectors_dir(tmp_path, "g2"))
    assert one is not None and two is not None
    assert two.ids == ["a", "c"]
    np.testing.assert_array_equal(one.vectors[0], two.vectors[0])
    # Cross-lingual: the French query is nearest the French and English passages, in meaning.
    query = multilingual.MultilingualEncoder().embed_query("Quels sont les principes clés ?")
    assert float(one.vectors[1] @ query) > 0.8


def test_a_damaged_vectors_folder_is_not_loaded(tmp_path: Path) -> None:
    folder = multilingual.vectors_dir(tmp_path, "g1")
    multilingual.MultilingualVectors(["a"], ["h"], np.zeros((1, multilingual.DIM))).save(folder)
    (folder / "vectors.npy").write_bytes(b"not numpy")
    assert multilingual.MultilingualVectors.load(folder) is None
