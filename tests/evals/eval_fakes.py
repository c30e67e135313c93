"""A fake assistant with the `assistant.qa.service.Assistant` interface, for fast unit tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.qa.models import REFUSAL_TEXT, Answer, Citation, Passage


def passage(source: str, page: int | None = None, section: str = "", score: float = 0.5) -> Passage:
    return Passage(
        chunk_id=f"{source}:{page}:{section}",
        doc_id=source,
        source=source,
        title=source,
        page=page,
        section=section,
        text="text",
        score=score,
        dense_score=score,
    )


def citation(source: str, page: int | None = None, section: str = "") -> Citation:
    return Citation(
        n=1, source=source, title=source, page=page, section=section, text="t", quote="q", score=1.0
    )


@dataclass
class FakeAssistant:
    """Scripted replies: `answers[question]` and `passages[(question, mode)]`."""

    answers: dict[str, Answer] = field(default_factory=dict)
    passages: dict[tuple[str, str], list[Passage]] = field(default_factory=dict)
    calls: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def ask(self, question: str, history: list[str] | None = None, k: int | None = None) -> Answer:
        self.calls.append(("ask", question, tuple(history or ())))
        return self.answers.get(question) or Answer(question, REFUSAL_TEXT, refused=True)

    def retrieve(
        self, question: str, history: list[str] | None = None, k: int = 10, mode: str = "hybrid"
    ) -> list[Passage]:
        self.calls.append((f"retrieve:{mode}", question, tuple(history or ())))
        return self.passages.get((question, mode), [])[:k]
