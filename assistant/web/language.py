"""The officer's language in the app: the question's, or the selector's for the session.

Only what the assistant says itself changes language (labels, buttons, the banner,
notices, the refusal); quoted sentences stay as their document wrote them. With the
selector on Auto, the chat's words follow the latest answer's language: an officer who asks
in Arabic gets the whole chat in Arabic, right to left.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.i18n import LANGUAGES, translate
from assistant.qa.models import REFUSAL_TEXT, Answer
from assistant.qa.service import MAX_QUESTION_CHARS
from assistant.web.render import CHAT_PLACEHOLDER, QUESTION_LIMIT, QUESTION_LIMIT_NOTE

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


def shown(session: dict | None) -> str:
    """The language the chat's own words are in: the selector's, or with Auto the language
    of the latest answer (English before the first)."""
    language = chosen(session)
    if language != AUTO:
        return language
    answered = (session or {}).get("answer_language", "en")
    return answered if answered in LANGUAGES else "en"


# The chat tab's own words, by the key the app relabels them under.
_LABELS = {
    "question": "Your question",
    "placeholder": "Type a question and press Enter",
    "limit": QUESTION_LIMIT,
    "ask": "Ask",
    "stop": "Stop",
    "helpful": "Helpful",
    "not_helpful": "Not helpful",
    "new_chat": "New chat",
    "language": "Language",
    "conversation": "Conversation",
    "chat_placeholder": CHAT_PLACEHOLDER,
    "oversight": "Disregard or correct the latest answer",
    "verdict": "Your verdict",
    "reason": "Reason (optional)",
    "record": "Record the verdict",
    "examples": "Example questions",
    "conversations": "Conversations, copy and export",
    "copy": "Copy answer as Markdown",
    "export_md": "Export as Markdown",
    "export_pdf": "Export as PDF",
    "your_conversations": "Your conversations",
    "open": "Open",
    "delete": "Delete",
    "chat_tab": "Chat",
    "disregarded": "disregarded",
    "wrong": "wrong",
}


def labels(language: str) -> dict[str, str]:
    """The chat tab's own words in `language` (English for AUTO)."""
    language = "en" if language == AUTO else language
    words = {key: translate(text, language) for key, text in _LABELS.items()}
    # English groups thousands with a comma; French, Spanish and Arabic read it otherwise.
    words["limit"] = (
        QUESTION_LIMIT_NOTE if language == "en" else words["limit"].format(count=MAX_QUESTION_CHARS)
    )
    return words
