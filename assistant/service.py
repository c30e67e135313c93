"""Deprecated import path, kept for one release: use `assistant.compose.build_assistant`.

`from assistant.service import Assistant` still gives an assistant that answers with the
answerer named in the settings, as before the package was split (see CHANGELOG.md).
"""

from __future__ import annotations

from assistant.compose import answerer_wrapper
from assistant.qa.answer import Answerer
from assistant.qa.service import Assistant as _Assistant
from assistant.qa.service import QuestionError, clean_question
from ingest.settings import Settings

__all__ = ["Assistant", "QuestionError", "clean_question"]


class Assistant(_Assistant):
    def __init__(self, settings: Settings, answerer: Answerer | None = None) -> None:
        super().__init__(settings, answerer, wrap_answerer=answerer_wrapper(settings))
