"""The generative answerer: a chat model writes, verification decides what is shown.

It runs the extractive answerer first (tens of milliseconds): its quotes are both the
model's context (setting `generation.context`) and the answer shown whenever the model's
text cannot be used: the endpoint is down or fails, or too few of its sentences pass
verification (`generation.min_supported`). The officer is told which one they are reading.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, replace

from langchain_core.language_models.chat_models import BaseChatModel

from assistant.llm.prompt import Source, build_messages
from assistant.llm.verify import MARKERS, CheckedClaim, Verifier, split_claims
from assistant.qa.answer import ExtractiveAnswerer
from assistant.qa.models import QUOTE_SEPARATOR, Answer, AnswerTrace, Citation, Passage
from assistant.qa.refusal import states_quantity
from ingest.embedding import Embedder
from ingest.keyword_index import terms
from ingest.language import detect_language
from ingest.settings import GenerationSettings

log = logging.getLogger(__name__)

UNREACHABLE_NOTICE = (
    "The language model could not be reached, so this answer quotes the documents directly."
)
UNVERIFIED_NOTICE = (
    "The model's answer could not be checked against the documents, so this answer quotes "
    "them directly."
)
UNANSWERED_NOTICE = (
    "The model's answer did not give the figure asked for, so this answer quotes the "
    "documents directly."
)
MARKED_NOTICE = "Sentences marked \u201cunverified\u201d are not supported by the sources cited."
UNVERIFIED_MARK = "(unverified)"
# The prompt's own words coming back: the model has started a new turn of its own.
_ECHO = re.compile(r"(^|\n)\s*Question\s*:|Answer from the sources above|</?source")
_PIECES = re.compile(r"\n+|(?<=[.!?])\s+")


@dataclass(frozen=True)
class _Grounding:
    """A numbered source of the prompt and the retrieved passage it comes from."""

    source: Source
    passage: Passage


class GenerativeAnswerer:
    """Streams the model's text, then yields the verified `Answer` (always last)."""

    def __init__(
        self,
        settings: GenerationSettings,
        extractive: ExtractiveAnswerer,
        verifier: Verifier,
        chat_model: Callable[[], BaseChatModel],
    ) -> None:
        self.settings = settings
        self.extractive = extractive
        self.verifier = verifier
        self.chat_model = chat_model

    def answer(self, question: str, passages: list[Passage], history: list[str]) -> Answer:
        final = None
        for item in self.stream(question, passages, history):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(
        self, question: str, passages: list[Passage], history: list[str]
    ) -> Iterator[str | Answer]:
        quoted = self.extractive.answer(question, passages, history)
        if quoted.refused:
            yield quoted
            return
        grounding = self._grounding(passages, quoted)
        # The quoting answerer leaves the language to the service: it is found here again.
        language = detect_language(question)
        quoted = replace(quoted, language=language)
        sources = [g.source for g in grounding]
        messages = build_messages(question, sources, history, language)
        written: list[str] = []
        try:
            with closing(self.chat_model().stream(messages)) as chunks:
                for chunk in chunks:
                    if chunk.text:
                        written.append(chunk.text)
                        yield chunk.text
                    if _runs_off("".join(written)):
                        break  # closing the stream stops the model too
        except Exception as err:  # any backend failure: the officer still gets an answer
            log.warning("generation failed, extractive answer shown: %s", err)
            yield replace(quoted, notice=UNREACHABLE_NOTICE)
            return
        text = "".join(written)
        echo = _ECHO.search(text)
        yield self._verified(question, text[: echo.start()] if echo else text, grounding, quoted)

    def _grounding(self, passages: list[Passage], quoted: Answer) -> list[_Grounding]:
        if self.settings.context == "passages":
            return [
                _Grounding(Source(n, p.title, p.text), p)
                for n, p in enumerate(passages[: self.settings.passages], start=1)
            ]
        by_text = {p.text: p for p in passages}
        # The main answer's excerpts only, not "More from the sources": a small model's
        # context is short, and the main answer is what it should say in its own words.
        cited = {int(n) for m in MARKERS.finditer(quoted.answer) for n in re.findall(r"\d+", m[1])}
        return [
            _Grounding(Source(c.n, c.title, c.quote.replace(QUOTE_SEPARATOR, " ")), by_text[c.text])
            for c in quoted.citations
            if c.text in by_text and c.n in cited
        ]

    def _verified(
        self, question: str, text: str, grounding: list[_Grounding], quoted: Answer
    ) -> Answer:
        by_number = {g.source.n: g.passage for g in grounding}
        if quoted.language != "en" and detect_language(text) != quoted.language:
            # Asked to write in the question's language, SmolLM2-135M mostly copies its
            # sources in theirs (docs/languages.md): such an answer is no better than the
            # quotes, and the verifier's English-only encoder cannot check a translation.
            return replace(quoted, notice=UNVERIFIED_NOTICE)
        claims = [c for c in split_claims(text) if not _restates(c.text, question)]
        checked = _distinct(self.verifier.check(claims, {n: p.text for n, p in by_number.items()}))
        verified = [c for c in checked if c.verified]
        if not verified or len(verified) / len(checked) < self.settings.min_supported:
            return replace(quoted, notice=UNVERIFIED_NOTICE)
        # "How many ...?" answered without the number: the quotes, which state it, are better.
        if not states_quantity(question, [c.claim.text for c in verified]):
            return replace(quoted, notice=UNANSWERED_NOTICE)
        shown = checked if self.settings.unsupported == "mark" else verified
        return _compose(question, shown, by_number, quoted.language)


def _runs_off(text: str) -> bool:
    """The model has left the answer: it echoes the prompt, or repeats a line or sentence."""
    if _ECHO.search(text):
        return True
    done = [s.strip().lower() for s in _PIECES.split(text)[:-1] if len(s.split()) >= 3]
    return len(done) != len(set(done))


def _restates(sentence: str, question: str) -> bool:
    """The question said back ("The V of big data most directly affects ..."): no answer."""
    words, asked = set(terms(sentence)), set(terms(question))
    return bool(words) and len(words - asked) <= 1


def _distinct(checked: list[CheckedClaim]) -> list[CheckedClaim]:
    """Small models repeat themselves: each sentence once."""
    seen: set[str] = set()
    kept = []
    for claim in checked:
        key = " ".join(claim.claim.text.lower().split())
        if key not in seen:
            seen.add(key)
            kept.append(claim)
    return kept


def _compose(
    question: str, shown: list[CheckedClaim], by_number: dict[int, Passage], language: str
) -> Answer:
    """The shown sentences with citations renumbered 1.. in order of first use; the
    assistant's own words (labels, notices) in the question's `language`."""
    renumber: dict[int, int] = {}
    evidence: dict[int, list[str]] = {}
    lines = []
    for checked in shown:
        prefix = "- " if checked.claim.is_list_item else ""
        if not checked.verified:
            lines.append(f"{prefix}{checked.claim.text} {UNVERIFIED_MARK}")
            continue
        markers = []
        for support in checked.supported_by:
            number = renumber.setdefault(support.source, len(renumber) + 1)
            markers.append(f"[{number}]")
            quotes = evidence.setdefault(support.source, [])
            quotes.extend(q for q in support.evidence if q not in quotes)
        lines.append(f"{prefix}{checked.claim.text} {''.join(markers)}")
    citations = []
    for source, number in sorted(renumber.items(), key=lambda item: item[1]):
        passage = by_number[source]
        quotes = sorted(evidence[source], key=lambda q: passage.text.find(q))
        citations.append(
            Citation.from_passage(number, passage, f" {QUOTE_SEPARATOR} ".join(quotes))
        )
    marked = any(not c.verified for c in shown)
    return Answer(
        question=question,
        answer="\n".join(lines),
        refused=False,
        citations=citations,
        answerer="generative",
        notice=MARKED_NOTICE if marked else "",
        trace=AnswerTrace(sentences_verified=sum(c.verified for c in shown)),
        language=language,
    )


class GenerativeFactory:
    """Wraps each generation's quoting answerer in a `GenerativeAnswerer`.

    The chat model (and with the `local` backend, its llama.cpp server) is built on first
    use and kept across corpus generations.
    """

    def __init__(self, settings: GenerationSettings) -> None:
        self.settings = settings
        self._chat_model: BaseChatModel | None = None

    def chat_model(self) -> BaseChatModel:
        if self._chat_model is None:
            from assistant.llm.backends import build_chat_model

            self._chat_model = build_chat_model(self.settings)
        return self._chat_model

    def __call__(self, extractive: ExtractiveAnswerer, embedder: Embedder) -> GenerativeAnswerer:
        verifier = Verifier(embedder, self.settings.min_support)
        return GenerativeAnswerer(self.settings, extractive, verifier, self.chat_model)
