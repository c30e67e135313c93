"""Write the interface's gettext catalogues from tools/i18n_strings.json.

assistant/i18n/locales/<lang>/LC_MESSAGES/messages.po, one per language (fr, es, ar), via
Babel. The JSON holds each English message with its French, Spanish and Arabic
translations; translators may also edit the .po files directly (then regenerate the JSON
from them, or stop using this script).
Usage: python tools/i18n_catalogues.py
"""

from __future__ import annotations

import json
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
STRINGS = Path(__file__).with_name("i18n_strings.json")
LOCALES = ROOT / "assistant" / "i18n" / "locales"
ORDER = ("fr", "es", "ar")


def main() -> None:
    strings = json.loads(STRINGS.read_text(encoding="utf-8"))
    for index, language in enumerate(ORDER):
        catalogue = Catalog(locale=language, project="toolkit-assistant", fuzzy=False)
        for message, translations in strings.items():
            catalogue.add(message, translations[index])
        out = LOCALES / language / "LC_MESSAGES" / "messages.po"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as handle:
            write_po(handle, catalogue, omit_header=False, sort_output=True, width=100)
        print(f"{out.relative_to(ROOT)}: {len(strings)} messages")


if __name__ == "__main__":
    main()
