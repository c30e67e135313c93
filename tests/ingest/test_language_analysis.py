"""Per-language keyword analysis, diacritics folding and language detection."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.keyword_index import TOKENIZER_VERSION, KeywordIndex, terms
from ingest.language import detect_language, normalise_language


def test_diacritics_are_folded_in_latin_scripts() -> None:
    assert terms("Naïve Bayes") == terms("Naive Bayes")
    assert terms("la política de datos", "es") == terms("la politica de datos", "es")
    assert terms("Les données personnelles", "fr") == terms("Les donnees personnelles", "fr")


def test_british_and_american_spellings_are_one_term_in_english_only() -> None:
    assert terms("Organisations analyse the behaviour of the programme") == terms(
        "Organizations analyze the behavior of the program"
    )
    index = KeywordIndex.build(
        [("us", "The organization analyzes its AI systems.", "en"), *_FILLER]
    )
    assert index.search("How should an organisation analyse its tools?", 1)[0][0] == "us"
    # French keeps its own words: "centre" is not the American "center" there.
    assert terms("le centre", "fr") != terms("le center", "fr")


_FILLER = [(f"f{n}", f"Procurement clause {n} covers payment dates.", "en") for n in range(4)]


def test_french_and_spanish_are_stemmed_and_stop_words_dropped() -> None:
    assert terms("Quels sont les principes fondamentaux ?", "fr") == terms(
        "principe fondamental", "fr"
    )
    assert "les" not in terms("les principes", "fr")
    assert terms("¿Cuáles son los principios?", "es") == terms("principio", "es")


def test_arabic_is_stemmed_and_stop_words_dropped() -> None:
    question = terms("ما هي المبادئ الأساسية؟", "ar")
    assert question and "ما" not in question
    assert set(terms("المبادئ", "ar")) <= set(question)


def test_each_chunk_is_analysed_in_its_language_and_searched_in_the_question_s() -> None:
    index = KeywordIndex.build(
        [
            ("en1", "The principles of responsible innovation", "en"),
            ("fr1", "Les principes de l'innovation responsable", "fr"),
            ("es1", "Los principios de la innovación responsable"),  # detected
        ]
    )
    assert index.language_of("fr1") == "fr"
    assert index.language_of("es1") == "es"
    assert index.language_of("en1") == "en"
    assert index.search("Quels sont les principes ?", 3, "fr")[0][0] == "fr1"
    assert index.search("¿Cuáles son los principios?", 3, "es")[0][0] == "es1"


def test_languages_survive_save_and_load(tmp_path: Path) -> None:
    index = KeywordIndex.build([("a", "Les principes", "fr"), ("b", "The principles", "en")])
    index.save(tmp_path)
    loaded = KeywordIndex.load(tmp_path)
    assert loaded is not None and loaded.language_of("a") == "fr"


def test_an_index_of_the_previous_tokenizer_is_rebuilt(tmp_path: Path) -> None:
    KeywordIndex.build([("a", "The principles", "en")]).save(tmp_path)
    (tmp_path / "tokenizer_version.txt").write_text("3")
    assert TOKENIZER_VERSION != "3"
    assert KeywordIndex.load(tmp_path) is None
    assert json.loads((tmp_path / "chunk_ids.json").read_text()) == ["a"]


def test_questions_are_detected_offline_and_short_ones_are_english() -> None:
    assert detect_language("Quels sont les cinq principes fondamentaux ?") == "fr"
    assert detect_language("¿Cuáles son los cinco principios fundamentales?") == "es"
    assert detect_language("ما هي المبادئ الخمسة الأساسية؟") == "ar"
    assert detect_language("What are the five core principles?") == "en"
    assert detect_language("AI?") == "en"
    assert detect_language("Wie heißen die Grundsätze der Verantwortung?") == "en"


def test_manifest_language_codes_are_normalised() -> None:
    assert normalise_language("FR") == "fr"
    assert normalise_language("es-MX") == "es"
    assert normalise_language("de") == ""
