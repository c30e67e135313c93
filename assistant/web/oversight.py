"""The chat's accountability steps: the purpose of a conversation and an officer's verdict on
an answer. Plain logic on the chat's session dict; `assistant.web.app` wires the components.

- Purpose (Law Enforcement Directive Art. 25, "why"): with `audit.require_purpose`, a
  conversation's first question waits until the officer gives a case reference or a
  purpose. It is recorded once (a `purpose` event) and goes with every question event of
  the conversation, so an inspector can tell why each answer was asked for.
- Oversight (EU AI Act Art. 14): an officer marks the latest answer "disregarded" or
  "wrong", with an optional reason. The `oversight` event names that answer's id, which
  its `question` event carries, so the verdict and the answer it overrules are joined in
  the trail (`toolkit-assistant audit` shows both).

A conversation id is made the first time a session needs one, not when the session is
made: Gradio copies a `gr.State`'s first value into every new session, so an id made
there would be shared by every officer.
"""

from __future__ import annotations

import uuid

from assistant.access.audit import MAX_PURPOSE_CHARS, MAX_REASON_CHARS, VERDICTS, AuditLog

PURPOSE_FIRST = (
    "Give a case reference or the purpose of this conversation first (the box above the "
    "question), then ask: this installation records why each conversation was held."
)
_NOT_WRITTEN = (
    "The audit trail cannot be written on the server just now, so this was not recorded; "
    "tell the administrator."
)
NO_ANSWER_YET = "Ask a question first: the verdict applies to the latest answer."


class OversightError(ValueError):
    """What the officer gave cannot be recorded; the message says what to change."""


class ChatAccountability:
    """Purpose and verdicts for the chat sessions of one app."""

    def __init__(self, audit: AuditLog, require_purpose: bool) -> None:
        self.audit = audit
        self.require_purpose = require_purpose

    # -- purpose ----------------------------------------------------------------------------
    def refusal(self, session: dict) -> str | None:
        """Why a question cannot be asked yet in this session, or None."""
        if self.require_purpose and not session.get("purpose"):
            return PURPOSE_FIRST
        return None

    def give_purpose(self, user: str | None, session: dict, text: str) -> str:
        """Record the conversation's purpose (once); the confirmation for the officer."""
        if session.get("purpose"):
            raise OversightError(
                "This conversation already has a purpose; start a new chat for another case."
            )
        text = " ".join((text or "").split())
        if not text:
            raise OversightError("Type a case reference or the purpose of this conversation.")
        if len(text) > MAX_PURPOSE_CHARS:
            raise OversightError(
                f"The purpose is {len(text):,} characters; keep it under {MAX_PURPOSE_CHARS}."
            )
        if not self.audit.record_purpose(user, _conversation(session), text):
            raise OversightError(_NOT_WRITTEN)
        session["purpose"] = text
        return f"Purpose recorded for this conversation: {text}"

    def question_context(self, session: dict) -> dict:
        """What `AuditLog.question` records about the conversation a question belongs to."""
        return {"conversation": _conversation(session), "purpose": session.get("purpose")}

    # -- oversight --------------------------------------------------------------------------
    def answered(self, session: dict, answer_id: str | None) -> None:
        """The answer the next verdict applies to (None: its audit event was not written)."""
        session["answer_id"] = answer_id

    def mark(self, user: str | None, session: dict, verdict: str, reason: str | None) -> str:
        """Record the officer's verdict on the latest answer; the confirmation."""
        if verdict not in VERDICTS:
            raise OversightError(f"Choose {' or '.join(VERDICTS)}.")
        answer_id = session.get("answer_id")
        if not answer_id:
            raise OversightError(NO_ANSWER_YET)
        reason = " ".join((reason or "").split())
        if len(reason) > MAX_REASON_CHARS:
            raise OversightError(
                f"The reason is {len(reason):,} characters; keep it under {MAX_REASON_CHARS:,}."
            )
        if not self.audit.record_oversight(user, answer_id, verdict, reason or None):
            raise OversightError(_NOT_WRITTEN)
        return f"Recorded: the latest answer is marked {verdict}."


def _conversation(session: dict) -> str:
    if not session.get("audit_conversation"):
        session["audit_conversation"] = uuid.uuid4().hex
    return session["audit_conversation"]
