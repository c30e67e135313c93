"""The interface in the officer's language: gettext catalogues (`.po`) read with Babel.

English strings are the message ids; `locales/<lang>/LC_MESSAGES/messages.po` holds French,
Spanish and Arabic. The `.po` files are read as they are (Babel's reader), so there is no
compile step to forget; a missing translation shows the English text.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
# English names: the message ids of the languages' names ("The quoted passages are in ...").
LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "ar": "Arabic"}
RIGHT_TO_LEFT = frozenset({"ar"})


@lru_cache(maxsize=len(LANGUAGES))
def _catalogue(language: str) -> dict[str, str]:
    from babel.messages.pofile import read_po

    path = LOCALES / language / "LC_MESSAGES" / "messages.po"
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    return {m.id: m.string for m in catalogue if m.id and isinstance(m.string, str) and m.string}


def translate(message: str, language: str) -> str:
    """`message` in `language` (en, fr, es, ar); the English text when there is none."""
    if language == "en" or language not in LANGUAGES:
        return message
    return _catalogue(language).get(message, message)


def direction(language: str) -> str:
    """The HTML `dir` of the language: "rtl" for Arabic, else "ltr"."""
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"
