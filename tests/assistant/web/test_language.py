"""The chat's own words in the officer's language: which language, and every word translated."""

from __future__ import annotations

import pytest

from assistant.i18n import _catalogue
from assistant.web.language import _LABELS, AUTO, labels, shown
from assistant.web.render import banner_html


def test_auto_follows_the_latest_answer_and_a_choice_holds() -> None:
    assert shown(None) == "en"
    assert shown({"language": AUTO, "answer_language": "ar"}) == "ar"
    assert shown({"language": "fr", "answer_language": "ar"}) == "fr"
    assert shown({"language": AUTO, "answer_language": "xx"}) == "en"


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_every_word_of_the_chat_is_in_the_catalogue(language: str) -> None:
    catalogue = _catalogue(language)
    missing = [text for text in _LABELS.values() if text not in catalogue]
    assert missing == []
    translated = labels(language)
    assert translated.keys() == labels(AUTO).keys()
    assert "2000" in translated["limit"] and "{" not in translated["limit"]


def test_the_banner_is_in_the_officers_language_and_direction() -> None:
    arabic = banner_html("official+agency", 3, "ar")
    assert 'dir="rtl"' in arabic and 'lang="ar"' in arabic
    assert "مجموعة وثائق مختلطة" in arabic and "3" in arabic
    assert "Mixed corpus" not in arabic and "legal advice" not in arabic
    french = banner_html("<x>", 0, "fr")
    assert "Corpus : &lt;x&gt;." in french and "avis juridique" in french
