"""The answer contract: what `ask` returns to the CLI (`--json`), the app and the Python API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

REFUSAL_TEXT = "The corpus does not cover this question."
# Joins the non-adjacent sentences of one passage in a `Citation.quote`; the UI splits on it.
QUOTE_SEPARATOR = "\u2026"


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its retrieval evidence."""

    chunk_id: str
    doc_id: str
    source: str
    title: str
    page: int | None
    section: str
    text: str
    score: float  # fused relevance, 0..1, best first
    dense_score: float  # cosine similarity of the chunk to the question
    # Its sentences that a training question close to this one was written for: one of
    # them opens the answer (`HybridRetriever.suggest_openers`).
    suggested: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """A numbered citation: `text` is the whole passage, `quote` the cited sentence(s)."""

    n: int
    source: str
    title: str
    page: int | None
    section: str
    text: str
    quote: str
    score: float
    # The quote comes from a worked example, scenario or case study: shown as an example,
    # never as a rule.
    example: bool = False

    @classmethod
    def from_passage(
        cls, n: int, passage: Passage, quote: str = "", example: bool = False
    ) -> Citation:
        return cls(
            n=n,
            source=passage.source,
            title=passage.title,
            page=passage.page,
            section=passage.section,
            text=passage.text,
            quote=quote,
            score=passage.dense_score,
            example=example,
        )

    @property
    def file_name(self) -> str:
        return self.source.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class AnswerTrace:
    """What an answer was made from, for the audit trail; not part of the JSON contract."""

    generation: str | None = None  # the index generation retrieved from
    embedding_model: str | None = None
    model: str | None = None  # the chat model asked, when the answerer is generative
    model_version: str | None = None
    chunk_ids: tuple[str, ...] = ()  # of the passages cited, in citation order
    sentences_verified: int | None = None  # generative: sentences shown that passed checks


@dataclass
class Answer:
    """The reply to one question. `to_dict` is the JSON contract of `ask --json`."""

    question: str
    answer: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    # "More from the sources": other relevant quotes, in the answer's line format, citing
    # the same numbered citations. Empty when there are none.
    more: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Nearest documents when refused: pointers, not evidence. Not part of the JSON contract.
    pointers: list[Citation] = field(default_factory=list)
    # Who wrote the text shown: "extractive" (quotes) or "generative" (a verified model text).
    answerer: str = "extractive"
    # Said to the officer above the answer, e.g. why the quoted answer stands in for a model's.
    notice: str = ""
    # Provenance for the audit trail (`AnswerTrace`). Not part of the JSON contract.
    trace: AnswerTrace | None = None
    # The question's language (en, fr, es, ar): what the assistant's own words are in.
    language: str = "en"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["timings_ms"] = {k: round(v, 1) for k, v in self.timings_ms.items()}
        data.pop("pointers")
        data.pop("trace")
        if not self.notice:
            data.pop("notice")
        if self.language == "en":
            data.pop("language")
        if self.refused:
            data["nearest"] = [
                {"source": p.source, "title": p.title, "page": p.page, "section": p.section}
                for p in self.pointers
            ]
        return data


# -- what `Assistant.ask_stream` yields, in this order -------------------------------------
@dataclass(frozen=True)
class Retrieved:
    """Retrieval is done: the passages the answer will be drawn from, best first."""

    question: str
    passages: list[Passage]


@dataclass(frozen=True)
class Draft:
    """A piece of the text a model is writing; unverified until `Final` arrives."""

    text: str


@dataclass(frozen=True)
class Final:
    """The answer as shown: verified, renumbered, or the extractive one with a notice."""

    answer: Answer


StreamEvent = Retrieved | Draft | Final
