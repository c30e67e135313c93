"""The officer's language in the app: the question's, or the selector's for the session.

Only what the assistant says itself changes language (labels, buttons, notices, the
refusal); quoted sentences stay as their document wrote them.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.i18n import LANGUAGES, translate
from assistant.qa.models import REFUSAL_TEXT, Answer

AUTO = "auto"
# (label, value) pairs for the selector: each language named in itself.
CHOICES = [("Auto", AUTO), *((name, code) for code, name in LANGUAGES.items())]


def chosen(session: dict | None) -> str:
    """The session's selected language, or AUTO (follow each question's language)."""
    value = (session or {}).get("language", AUTO)
    return value if value in LANGUAGES else AUTO


def in_officer_language(answer: Answer, session: dict | None) -> Answer:
    """The answer as shown: in the selected language when one is chosen, else the question's."""
    language = chosen(session)
    if language == AUTO or language == answer.language:
        return answer
    shown = replace(answer, language=language)
    if answer.refused:
        shown.answer = translate(REFUSAL_TEXT, language)
    return shown


def labels(language: str) -> dict[str, str]:
    """The chat tab's labels in `language` (English for AUTO)."""
    t = (lambda text: text) if language == AUTO else (lambda text: translate(text, language))
    return {
        "question": t("Your question"),
        "ask": t("Ask"),
        "new_chat": t("New chat"),
        "language": t("Language"),
    }
