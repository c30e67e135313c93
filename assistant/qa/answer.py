"""Answerers: (question, passages, history) -> Answer.

The default is extractive: it quotes the sentences of the retrieved passages that answer
the question, so every sentence shown is a verbatim span of the passage it cites. A
generative backend can take its place behind the same `Answerer` protocol.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.qa.definitions import defined_term, spells_out
from assistant.qa.models import QUOTE_SEPARATOR, Answer, Citation, Passage
from assistant.qa.query_adapter import QueryAdapter
from assistant.qa.refusal import NUMBER, expected_quantity_anchor, gives_quantity
from assistant.qa.retrieve import in_references_section
from ingest.embedding import Embedder
from ingest.keyword_index import KeywordIndex, terms
from ingest.sentences import Unit, split_units
from ingest.settings import AnswerSettings

_MIN_WORDS = 4
_LIST_ITEMS_MAX = 10
# Share of the best unit's score another unit needs to join the answer.
_JOIN_RATIO = 0.72
_JOIN_RATIO_SAME_PASSAGE = 0.6
# Share of the best unit's score a quote needs for "More from the sources".
_MORE_RATIO = 0.55
# Questions that ask for a list ("What are the levels of ...", "Which checks ...") prefer
# a whole list over any one of its items.
_LIST_QUESTION = re.compile(
    r"^\s*(what|which)\s+(are|were)\b|^\s*(list|name)\b|\b(levels|stages|steps|types|kinds|"
    r"bands|categories|domains|roles|checks|elements|parts|criteria|conditions|Vs|features|"
    r"characteristics|techniques|options|principles|functions|components|factors|"
    r"requirements|practices|methods|measures|actions|qualities|properties|harms)\b",
    re.IGNORECASE,
)
_LIST_BONUS = 0.08
# Questions that ask for nothing but a list ("What are the ...?", "Which types of ...?",
# "List ..."): a candidate that gives one opens when it scores within the margin of one that
# does not (`_list_first`). 0.12 was chosen on `tune` against 0.06 (docs/evals.md).
_ASKS_FOR_A_LIST = re.compile(
    r"^\s*(?:(?:what|which)\s+(?:are|were)\b|(?:what|which)\s+(?:types|kinds|sorts|forms)\s+"
    r"of\b|(?:list|name)\b)",
    re.I,
)
_LIST_OPENER_MARGIN = 0.12
_LIST_MIN_ITEMS = 4
_COLON_ITEMS = re.compile(r",\s|\s(?:and|or)\s")
_LAST_ITEM = re.compile(r"(?:and|or)\s")
_ITEM_WORDS = 3
# A question asking for the kinds of something: its answer names them ("Risk response
# options can include mitigating, transferring, avoiding, or accepting."), so a sentence
# that introduces items is its cue, not one that says what something "is" or "are".
# The kinds are what is asked when their noun follows the question word: "What are the
# options ...", "List the ways ...", not "How do we check that our own ways of testing ...".
# Anchored, three words at most between (word and non-word classes do not overlap).
_KINDS_QUESTION = re.compile(
    r"^\s*(?:what|which|list|name)\W+(?:\w+\W+){0,3}?(?:types|kinds|options|ways|forms|"
    r"examples|sorts)\b",
    re.IGNORECASE,
)
_INTRODUCES_ITEMS = re.compile(
    r"\b(includes?|including|such as|consists? of|comprises?|are as follows|the following)\b",
    re.IGNORECASE,
)
# A chain of participles is what is done to one thing, not a list of things: "Responses
# ... are developed, planned, and documented."
_PARTICIPLE = re.compile(r"(?:and\s+|or\s+)?\w+ed\.?")
# A reply word opening a sentence, before the next sentence's capital: "No. A small ...",
# "Yes, the Board ...". Not "No. 17." nor "No matter how ...". Anchored (`match`), linear.
_REPLY_WORD = re.compile(r"(?:Yes|No)[.,!;:]\s+(?=[A-Z])")
# "How do I ...": the steps, which documents give as a list.
_STEPS_QUESTION = re.compile(r"^\s*how\s+(do|does|should|can|would)\b|\b(steps|process)\b", re.I)
_DEFINITION_QUESTION = re.compile(
    r"^\s*(what(['\u2019]s|\s+(is|are|does))\b(?!.*\b(role|purpose|difference)\b)|define\b|"
    r"what\s+do\s+(you|we)\s+mean\b)|\bmean(s|ing)?\b.*\?\s*$",
    re.I,
)
_DEFINES = re.compile(r"\b(is|are|refers to|means|is defined as|describes?)\b", re.I)
# A sentence that defines the term names it, then says what it is, within its first words:
# "Risk tolerance refers to ...", "Residual risk - defined as ...".
_DEFINING = re.compile(r"\b(is|are|refers? to|means|is defined as|defined as|denotes)\b", re.I)
_DEFINING_WITHIN_WORDS = 12
_DEFINING_GAP_WORDS = 4
_ARTICLES = frozenset({"a", "an", "the"})
_SETTING_OPENERS = frozenset({"in", "for", "within", "here,"})
_SETTING_WORDS = 8
_DEFINITION_BONUS = 0.12
# Bibliography lines quoted outside a references section: never the opening sentence.
_CITATION_LIKE = re.compile(
    # Not "(2022)" alone: "... five dimensions [OECD (2022) ...]" is a sentence that answers.
    r"\bet al\.|\barXiv\b|\bProceedings\b|\bdoi\b|\bRetrieved from\b|https?://|"
    # A dated entry ("(NIST), January 16, 2020."), a versioned title, a quoted title
    # closed by a comma before the next capitalised part of the entry ("“plainlanguage.gov
    # – Home,” The U.S. Government."); not a term quoted in prose, where the sentence goes
    # on ("For example, “effective challenge,” is a culture-based practice ...").
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\s+\d{1,2},\s+\d{4}(\.|$)|,\s+Version\s+\d[\d.]*\.?$|,\u201d(?!\s+[a-z])"
)
# A sentence that only says where something is written ("Practices related to managing AI
# risks are described in the NIST AI RMF Playbook."): it may be quoted, it does not answer,
# unless the question asks where. Short sentences only: a long one says more than where.
_POINTS_ELSEWHERE = re.compile(
    r"\b(?:is|are)\s+(?:also\s+|further\s+)?(?:described|discussed|detailed|outlined|"
    r"explained|covered|listed|presented)\s+(?:in\s+detail\s+)?in\s+(?:the\s+)?[A-Z]"
)
# "(For more information about bias, including the three categories, see NIST Special
# Publication 1270 ...)": a pointer at any length.
_SEE_ELSEWHERE = re.compile(
    r"^\(?(for (more|further) (information|detail|details)\b[^.;]*,\s*)?see\s", re.I
)
_POINTER_WORDS = 20
# A references section's lines (`in_references_section`: "Ben Green. "Escaping the
# Impossibility of Fairness ..."") say nothing about the topic, and no single-line pattern
# tells an author or a title from a sentence: quoted, but not opening, and never in the
# main answer, unless the question asks for a publication to read ("Which NIST special
# publication does the AI RMF point to for more on bias?").
_SOURCE_QUESTION = re.compile(
    r"\b(publications?|papers?|references?|articles?|reading|literature|cited?|citations?|"
    r"bibliograph\w*)\b",
    re.I,
)
# "Table\n1 lists the GOVERN function's categories ...": a sentence whose start the PDF's
# line layout cut off begins with the bare number of a figure or table and a verb.
_CUT_AT_START = re.compile(r"^\d+\s+[a-z]")
_WHERE_QUESTION = re.compile(r"\bwhere\b", re.I)
# Figure and table captions: they name a topic, they do not say anything about it, so they
# are never quoted.
# Numbered ("Fig. 2 Lifecycle and ...", "Table 1:") or a short "<Noun> of ..." line
# ("Characteristics of trustworthy AI systems.", "Examples of potential harms ..."); with a
# verb it is a sentence ("Figure 3 shows ...").
_NUMBERED_CAPTION = re.compile(r"^(Fig\.|Figure|Table)\s*\d")
# "Figure 1 provides examples of potential harms ...", "Table 3 lists the MEASURE
# function's categories ...": a caption's number and a verb; what it points to is in the
# figure, which is not quoted.
_POINTS_TO_FIGURE = re.compile(
    _NUMBERED_CAPTION.pattern + r"\d*\s+(?:provides|shows|lists|illustrates|presents|"
    r"summari[sz]es|depicts|gives|outlines|describes)\b"
)
_NOUN_OF = re.compile(r"^[A-Z][a-z]+\s+of\s")
_CAPTION_WORDS = 10
_NUMBERED_CAPTION_WORDS = 20
_AUXILIARIES_AND_VERBS = (
    "is are was were be been being can could should may might must will would shall has "
    "have had do does did include includes provide provides require requires help helps "
    "describe describes show shows list lists"
)
_VERBS = frozenset(_AUXILIARIES_AND_VERBS.split())
# "Do we have to ...?", "Are we legally obliged to ...?", "Is following it a legal
# requirement?": the answer says whether it is an obligation ("The Framework is intended
# to be voluntary", "functions may be performed in any order", "neither a checklist nor
# ...").
_OBLIGATION_QUESTION = re.compile(
    r"^\s*(do|does|are|is|must|should)\b.*\b(have to|has to|must|obliged|obligated|required|"
    r"requirement|binding|mandatory|compulsory)\b",
    re.I,
)
_OBLIGATION = re.compile(
    r"\b(voluntary|optional|mandatory|compulsory|required|obligat\w*|must|need not|"
    r"any order|not necessarily|neither)\b",
    re.I,
)
# "Does openness make a system fair?", "Is it enough to test once?": documents decide such
# questions in the negative far more than in the positive ("A transparent system is not
# necessarily ... fair", "This Framework does not prescribe risk tolerance"), while the
# sentences that share the question's words only describe the topic.
_YES_NO_QUESTION = re.compile(
    r"\s*(is|are|does|do|can|could|should|must|will|would|may)\s+(?!there\b)", re.I
)
_DECIDES = re.compile(
    r"\b(not necessarily|not|cannot|never|neither|nor|no longer|counterproductive)\b", re.I
)
# A number that names a figure, a table or a part of a document: not the quantity a
# question asks for. Only the answer's cue ignores them; the refusal does not (a count
# answered by a list under "Figure 4" would then be refused).
_REFERENCE = re.compile(
    r"\b(?:Figure|Fig\.|Table|Section|Appendix|Annex|Part|Chapter|Box|Page|GOVERN|MAP|"
    r"MEASURE|MANAGE|Govern|Map|Measure|Manage)\s+\d+(?:\.\d+)*"
)
# Quantities ("how many", "budget") are recognised as refusal recognises them; dates too.
_DATE_QUESTION = re.compile(r"\bwhen\b|\bwhat\s+year\b", re.I)
_CUE_BONUS = 0.06
# A sentence's score: its meaning next to the question's, the question's words it holds,
# and its passage's rank (tuned on evals/sets/pdfs.tune.jsonl).
_SEMANTIC_WEIGHT = 0.5
_LEXICAL_WEIGHT = 0.3
_PRIOR_WEIGHT = 0.2
# Sentences about the document itself, and disclaimers: true, but never the answer.
# "The Toolkit helps them exercise that responsibility ..." too, for the nouns that name a
# document only ("the tool", "the policy", "the report" in a sentence are often a system's).
# The nouns that are a document's own name ("the Playbook", "the Toolkit").
_DOCUMENT_TITLES = (
    "guide", "document", "toolkit", "publication", "playbook", "framework", "booklet",
    "roadmap", "primer", "handbook", "manual", "glossary", "questionnaire", "factsheet",
)  # fmt: skip
_ABOUT_THE_DOCUMENT = re.compile(
    r"^(this|the present|these)\s+(?P<noun>guide|document|toolkit|section|chapter|publication|"
    r"playbook|framework|report|resource|annex|book|booklet|paper|material|tool|page|policy|"
    r"checklist|roadmap|primer|note|handbook|manual|glossary|questionnaire|brief|factsheet)s?\b"
    # also after a short lead-in ("Along with the AI RMF, the Playbook is part of ...")
    # and with its name's capitalised words ("An online companion resource to the AI RMF,
    # the NIST AI RMF Playbook, is available ...", "The AI Toolkit consists of ...").
    r"|^(?:[^,.;:]{1,60},\s+)?the\s+(?-i:(?:[A-Z][\w-]*\s+){0,4})"
    rf"(?P<title>{'|'.join(_DOCUMENT_TITLES)})\b"
    # how a document is to be used: "Playbook users can create tailored guidance ..."
    r"|^(?P<users>playbook|framework|toolkit|guide)\s+users\s+(?:can|may)\b"
    r"|\b(disclaimer|not intended to|does not constitute|should not be (construed|"
    r"interpreted)|for (general )?information(al)? purposes|not legal advice|"
    r"without prejudice)\b",
    re.I,
)
# What the publisher will do next ("NIST will continue to align the AI RMF ...", "Priority
# research ... will be captured in an associated ... Roadmap", "NIST plans to update the
# Playbook frequently"): about the document's future, not guidance; it opens only an answer
# to a question about what comes next.
_PLANS = re.compile(
    r"\b(?i:will\s+(?:be\s+)?(?:continue|review|reviewed|update|updated|revise|revised|align|"
    r"captured|published|released))\b"
    # "NIST plans to", not "Risk treatment comprises plans to respond": a name's plan.
    r"|\b[A-Z][A-Za-z]*\s+(?:plans|intends)\s+to\b"
)
_FUTURE_QUESTION = re.compile(
    r"\b(will|plans?|intends?|expected|future|next|update[sd]?|revis\w*|review|roadmap|"
    r"new version)\b",
    re.I,
)
# Worked examples, scenarios and case studies: quoted as examples, never as rules.
_EXAMPLE_HEADING = re.compile(
    r"\b(example|examples|scenario|scenarios|case stud(y|ies)|illustration|vignette|"
    r"fictional|hypothetical|worked)\b",
    re.I,
)
_SCENARIO_TEXT = re.compile(r"^(in this (example|scenario|case)|imagine|suppose)\b", re.I)
# "For example, ..." inside guidance illustrates the rule around it: labelled, but it may
# open like any sentence ("For example, AI system testing processes for bias measurement
# ... are not applied uniformly within the legal context.").
_ILLUSTRATION_TEXT = re.compile(r"^for (example|instance)\b", re.I)
# How much more of the question an example must match than any rule to open the answer.
_EXAMPLE_OPENS = 1.25
MAIN_SENTENCES = 5  # the main answer: about five sentences, or one list
_ANNOUNCES = re.compile(r"(as follows|the following)[.:]?$|:$", re.IGNORECASE)
_REFERS_BACK = re.compile(
    r"(They|These|This|Those|It|Its|Such|Both|Each of|In this|In that|In these)\b"
)
_REDUNDANT_JACCARD = 0.6
_SHORT_OPENER_WORDS = 16
# Weight of a question word found only in the section heading above a sentence.
_HEADING_WEIGHT = 0.5
_CONTEXT_WORDS = 60
_FRAGMENT_WORDS = 12
_SENTENCE_CLOSE = re.compile(r"[.!?:;][\"'\u201d)\]]*$")
# A citation mark, "[2]": at a line's end in quotes, anywhere in a generated sentence.
_MARKS = re.compile(r"\s*\[\d+\]")


class Answerer(Protocol):
    def answer(self, question: str, passages: list[Passage], history: list[str]) -> Answer: ...


@dataclass(frozen=True)
class _Candidate:
    """One sentence, one list item, or a whole list (its introduction and items)."""

    passage_index: int
    units: tuple[Unit, ...]
    lexical: float
    score: float
    can_open: bool = True  # not about the document, not a disclaimer, not an example

    @property
    def text(self) -> str:
        return " ".join(u.text for u in self.units)

    @property
    def first(self) -> Unit:
        return self.units[0]

    @property
    def is_list(self) -> bool:
        return len(self.units) > 1


# "What does the Playbook suggest for ...?", "according to the framework": the document is
# where the answer is, not what the question is about; its sentences about itself do not
# answer ("Along with the AI RMF, the Playbook is part of the NIST Trustworthy ...").
_DOCUMENT_NOUNS = (
    "guide|document|toolkit|publication|playbook|framework|booklet|roadmap|primer|handbook|manual"
)
_SOURCE_NOUNS = rf"(?:[\w-]+\s+){{0,3}}?(?:{_DOCUMENT_NOUNS})"
_DOCUMENT_AS_SOURCE = re.compile(
    r"\b(?:does|do|did|would|will|can)\s+(?:the|this)\s+"
    + _SOURCE_NOUNS
    + r"\s+(?:say|suggest|recommend|advise|propose|tell|mention|cover|offer|expect|want|ask)\b"
    r"|\baccording\s+to\s+the\s+" + _SOURCE_NOUNS + r"\b",
    re.I,
)

# "Who paid for this guidance to be written?": a question about the document itself, which
# the sentences about it answer ("The AI Toolkit was produced ... with European Union
# funding") whatever name they give it.
_THIS_DOCUMENT = re.compile(rf"\bthis\s+(?:guidance|{_DOCUMENT_NOUNS}|report)\b", re.I)
# "Does NIST provide a template for profiles?", "Is the NIST AI framework mandatory?": a
# yes/no question whose subject is the document or its publisher asks what the document
# does, which its sentences about itself decide ("This Framework does not prescribe
# profile templates", "The Framework is intended to be voluntary").
_DOCUMENT_DECIDES = re.compile(
    r"^\s*(?i:does|do|did|is|are|will|would)\s+"
    rf"(?:[A-Z]{{2,8}}\b|(?i:the\s+(?:[\w-]+\s+){{0,3}}?(?:{_DOCUMENT_NOUNS}|rmf))\b)"
)
_DOCUMENT_TERMS = frozenset(t for title in _DOCUMENT_TITLES for t in terms(title))


@dataclass(frozen=True)
class _Asks:
    """What the question asks for that lets an otherwise barred sentence open."""

    terms: frozenset[str]  # the question's `terms`
    about: frozenset[str]  # its `terms` but for a document named as the answer's source
    where: bool  # where a topic is written
    source: bool  # a publication to read
    future: bool  # what the publisher will do next

    @classmethod
    def read(cls, question: str) -> _Asks:
        unsourced = _DOCUMENT_AS_SOURCE.sub(" ", question)
        itself = _THIS_DOCUMENT.search(unsourced) or _DOCUMENT_DECIDES.match(unsourced)
        return cls(
            frozenset(terms(question)),
            frozenset(terms(unsourced)) | (_DOCUMENT_TERMS if itself else frozenset()),
            bool(_WHERE_QUESTION.search(question)),
            bool(_SOURCE_QUESTION.search(question)),
            bool(_FUTURE_QUESTION.search(question) or _DATE_QUESTION.search(question)),
        )


class ExtractiveAnswerer:
    """Selects, orders and cites sentences; never writes a word of its own."""

    def __init__(
        self,
        settings: AnswerSettings,
        embedder: Embedder,
        keyword: KeywordIndex,
        boilerplate: frozenset[str] = frozenset(),
        opener: QueryAdapter | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.keyword = keyword
        self.boilerplate = boilerplate
        self.opener = opener  # chooses the first sentence (assistant/qa/opener.py)

    def answer(self, question: str, passages: list[Passage], history: list[str]) -> Answer:
        asks = _Asks.read(question)
        candidates = self._score(question, history, passages, asks)
        if not candidates:
            return Answer(question=question, answer="", refused=True)
        # A references section's lines go under "More from the sources" only, unless the
        # question asks for a publication.
        side = (
            frozenset()
            if asks.source
            else frozenset(i for i, p in enumerate(passages) if in_references_section(p.section))
        )
        selected, more = self._select(candidates, side)
        selected, more = (
            [_without_stray_reply(question, passages, c) for c in chosen]
            for chosen in (selected, more)
        )
        return _compose(question, passages, selected, more)

    def sentence_texts(self, chunks: Iterable[tuple[str, str]]) -> list[str]:
        """Every text `_semantic` may embed for these (section, text) chunks, once each.

        Embedded ahead of questions, they turn a first-time question's ~12 sentence
        encodings into cache hits; the texts are exactly what `_score` builds.
        """
        texts = (
            encoded
            for section, text in chunks
            for _, encoded in quotable_texts(section, text, self.boilerplate)
        )
        return list(dict.fromkeys(texts))

    # -- scoring ---------------------------------------------------------------------
    def _score(
        self, question: str, history: list[str], passages: list[Passage], asks: _Asks
    ) -> list[_Candidate]:
        weights = {t: self.keyword.idf(t) for t in asks.terms}
        if history:  # a follow-up's own words matter most; the previous question's a little
            for t in set(terms(history[-1])) - weights.keys():
                weights[t] = 0.3 * self.keyword.idf(t)
        total = sum(weights.values()) or 1.0
        lexical: list[tuple[int, tuple[Unit, ...], float]] = []
        for index, passage in enumerate(passages):
            # The section heading is context every unit under it shares ("2.3 Scoring
            # scale" is what makes its list the answer to "the levels of the scale").
            heading = set(terms(passage.section.rsplit(">", 1)[-1]))
            for group in _quotable_groups(split_units(passage.text), self.boilerplate):
                group_terms = set().union(*(terms(u.text) for u in group))
                own = sum(w for t, w in weights.items() if t in group_terms)
                shared = sum(w for t, w in weights.items() if t in heading and t not in group_terms)
                lexical.append((index, group, (own + _HEADING_WEIGHT * shared) / total))
        if not lexical:
            return []

        def prior(index: int) -> float:
            return passages[index].dense_score - 0.03 * index

        # Re-score only the best few with the encoder: it costs ~10 ms a sentence on a CPU.
        lexical.sort(key=lambda c: c[2] + 0.5 * prior(c[0]), reverse=True)
        top = lexical[: max(1, self.settings.rerank_sentences)]
        texts = [_context(passages[i].section, g) for i, g, _ in top]
        semantic, vectors = self._semantic(question, history, texts)
        lists = bool(_LIST_QUESTION.search(question))
        wants_list = lists or bool(_STEPS_QUESTION.search(question))
        list_bonus = _LIST_BONUS if wants_list else 0.0
        quantity = expected_quantity_anchor(question)  # read once, not per sentence
        cue = _answer_cue(question, quantity)
        defining = bool(_DEFINITION_QUESTION.search(question))
        scored = [
            _Candidate(
                i,
                g,
                lex,
                _SEMANTIC_WEIGHT * sem
                + _LEXICAL_WEIGHT * lex
                + _PRIOR_WEIGHT * prior(i)
                + list_bonus * (len(g) > 1)
                + (_LIST_BONUS if lists and _enumerates(g[0].text) else 0.0)
                + (_CUE_BONUS if _gives_cue(quantity, cue, g[0].text) else 0.0)
                + (_definition_bonus(question, g[0].text) if defining else 0.0),
                _can_open(passages[i], g, asks),
            )
            for (i, g, lex), sem in zip(top, semantic, strict=True)
        ]
        scored += [
            _Candidate(
                i,
                g,
                lex,
                _LEXICAL_WEIGHT * lex + _PRIOR_WEIGHT * prior(i),
                _can_open(passages[i], g, asks),
            )
            for i, g, lex in lexical[len(top) :]
        ]
        ranked = sorted(scored, key=lambda c: c.score, reverse=True)
        if self.opener is not None and vectors is not None:
            ranked = self._adapted_opener_first(vectors, scored, semantic, ranked)

        def coverage(index: int) -> float:
            """The share of the question's weighted words in a passage and its heading."""
            found = set(terms(f"{passages[index].section} {passages[index].text}"))
            return sum(w for t, w in weights.items() if t in found) / total

        asks_list = bool(_ASKS_FOR_A_LIST.search(question))

        def gives_what_is_asked(candidate: _Candidate) -> bool:
            """The number a quantity or date question asks for, the definition of the term
            a definition question asks about, or the list a list question asks for."""
            text = candidate.first.text
            if cue is NUMBER and _gives_cue(quantity, cue, text):
                return True
            if asks_list and _gives_list(candidate):
                return True
            return defining and defines(question, text)

        if asks_list:
            ranked = _list_first(question, ranked)
        return _suggested_first(
            _opener_first(ranked, passages, coverage), passages, gives_what_is_asked
        )

    def _adapted_opener_first(
        self,
        vectors: np.ndarray,
        scored: list[_Candidate],
        semantic: np.ndarray,
        ranked: list[_Candidate],
    ) -> list[_Candidate]:
        """`ranked` with the candidate the opener adapter likes best first: its meaning
        score read as (1 - w) plain + w adapted (`answer.opener_weight`). Only the first
        place moves; the opener rules that follow (can it open, a suggested sentence) still
        apply. On the tune splits answer_first_rate rose on five of six sets and fell on
        none, key_fact_recall unchanged (docs/evals.md). `vectors`: the question's, then
        the re-scored candidates' (`_semantic`)."""
        assert self.opener is not None
        adapted = vectors[1:] @ self.opener.adapt(vectors[0])
        weight = _SEMANTIC_WEIGHT * self.settings.opener_weight
        best = max(
            range(len(semantic)),
            key=lambda j: scored[j].score + weight * (adapted[j] - semantic[j]),
        )
        return [scored[best], *(c for c in ranked if c is not scored[best])]

    def _semantic(
        self, question: str, history: list[str], texts: list[str]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Each text's meaning score, and for a question that stands alone the vectors it
        was read from, the question's first (the opener adapter reads them again)."""
        if self.settings.rerank_sentences == 0:
            return np.zeros(len(texts)), None
        if not history:
            vectors = self.embedder.embed_short([question, *texts])
            return vectors[1:] @ vectors[0], vectors
        # A follow-up is scored mostly on its own words: the previous question only says
        # what "it" or "that approval" refers to, and alone it pulls back the old answer.
        vectors = self.embedder.embed_short([question, f"{history[-1]} {question}", *texts])
        return 0.6 * (vectors[2:] @ vectors[0]) + 0.4 * (vectors[2:] @ vectors[1]), None

    # -- selection --------------------------------------------------------------------
    def _select(
        self, candidates: list[_Candidate], side: frozenset[int] = frozenset()
    ) -> tuple[list[_Candidate], list[_Candidate]]:
        """The main answer (short: an opener, what completes it, or one list), then the
        other relevant quotes for "More from the sources", where the sentences of the
        `side` passages (a references section's) go."""
        best = candidates[0]
        selected = [best]
        follower = _continuation(best, candidates)
        if follower is not None and self.settings.max_sentences > 1:
            selected.append(follower)
        limit = min(self.settings.max_sentences, MAIN_SENTENCES)
        more: list[_Candidate] = []
        for candidate in candidates[1:]:
            if len(more) >= self.settings.more_sentences:
                break
            # The opener's own passage is read in context, so its neighbours join more
            # easily than sentences from elsewhere.
            ratio = (
                _JOIN_RATIO_SAME_PASSAGE
                if candidate.passage_index == best.passage_index
                else _JOIN_RATIO
            )
            if candidate.score < _MORE_RATIO * best.score:
                continue
            if any(_overlaps(candidate, s) for s in selected + more):
                continue
            main_is_full = len(selected) >= limit or (best.is_list and candidate.is_list)
            aside = candidate.passage_index in side
            if main_is_full or aside or candidate.score < ratio * best.score:
                more.append(candidate)
            else:
                selected.append(candidate)
        return selected, more


def _gives_list(candidate: _Candidate) -> bool:
    """A whole list, or a sentence that is one: short items after a colon, with or without a
    comma before the last ("There are five core principles: lawfulness, ..., fairness and
    good governance."), or four inline items or more ("Risk response options can include
    mitigating, transferring, avoiding, or accepting."). Three inline items are as often a
    phrase ("organizational policies, processes, and procedures"), and commas inside
    brackets are an aside."""
    if candidate.is_list:
        return True
    text = candidate.first.text
    _, colon, items = text.partition(": ")
    if colon and "(" not in items:
        named = _COLON_ITEMS.split(items)
        if len(named) >= 3 and all(len(item.split()) <= _ITEM_WORDS + 1 for item in named):
            return True
    parts = text.split(", ")
    if not _enumerates(text) or any("(" in p or ")" in p for p in parts[1:]):
        return False
    return len(parts) >= _LIST_MIN_ITEMS


def _list_first(question: str, ranked: list[_Candidate]) -> list[_Candidate]:
    """For a question that asks for a list, the best candidate that gives one first, when
    the opener does not and the list scores within `_LIST_OPENER_MARGIN` of it.

    "What are the characteristics of trustworthy AI?" opened with "The characteristics of
    trustworthy AI are integrated into organizational policies, ...", which echoes the
    question, instead of the sentence that lists them. The issue asks that a list question
    open with the list. Only the opener moves: a larger list bonus in the score would also
    change which sentences are shown. Chosen on `tune` (docs/evals.md, "A list question
    opens with the list").
    """
    eligible = [c for c in ranked if c.can_open]
    if not eligible or _gives_list(eligible[0]):
        return ranked
    # A list question that names a count ("What are the five core principles?") is not
    # answered by a list that does not say it: "The seven resources of the Toolkit are the
    # following:" is another list.
    counts = _figures(question)
    floor = eligible[0].score - _LIST_OPENER_MARGIN
    for candidate in eligible[1:]:
        if candidate.score < floor:
            break
        if _gives_list(candidate) and (not counts or counts & _figures(candidate.text)):
            return [candidate, *(c for c in ranked if c is not candidate)]
    return ranked


def _figures(text: str) -> set[str]:
    """The figures `text` names, in digits or words, lower-cased."""
    return {m.group(0).lower() for m in NUMBER.finditer(text)}


def _enumerates(sentence: str) -> bool:
    """An inline list: "Risk response options can include mitigating, transferring,
    avoiding, or accepting." Short items between commas, the last joined by "and"/"or"."""
    parts = sentence.split(", ")
    if len(parts) < 3 or not _LAST_ITEM.match(parts[-1]):
        return False
    # parts[1] carries the verb ("are developed"); the items after it are bare participles.
    if all(_PARTICIPLE.fullmatch(part.strip()) for part in parts[2:]):
        return False
    return all(len(part.split()) <= _ITEM_WORDS for part in parts[1:-1])


def _answer_cue(question: str, quantity: str | None) -> re.Pattern | None:
    """What the opening sentence of a good answer to this kind of question looks like;
    `quantity`: the question's `expected_quantity_anchor`."""
    if quantity or _DATE_QUESTION.search(question):
        return NUMBER
    if _OBLIGATION_QUESTION.search(question):
        return _OBLIGATION
    if _KINDS_QUESTION.search(question):
        return _INTRODUCES_ITEMS
    if _DEFINITION_QUESTION.search(question):
        return _DEFINES
    if _YES_NO_QUESTION.match(question):
        return _DECIDES
    return None


def _gives_cue(quantity: str | None, cue: re.Pattern | None, sentence: str) -> bool:
    """Whether `sentence` looks like the opening of a good answer. For a quantity question
    (`quantity`, its `expected_quantity_anchor`), the quantity asked for, as the refusal
    reads it (`gives_quantity`): "How often should we check?" is answered by "regularly
    assessing", not by any sentence with a figure ("the metrics chosen in Measure 2.1
    through 2.12"), and "How many stages" by a number of stages, not by "characteristics
    (shown in Figure 4)"."""
    if cue is None:
        return False
    if cue is NUMBER and quantity is not None:
        return gives_quantity(quantity, [_REFERENCE.sub(" ", sentence)])
    return bool(cue.search(sentence))


def is_example(passage: Passage, group: tuple[Unit, ...]) -> bool:
    """A quote from a worked example, scenario or case study, by its heading or wording,
    or an illustration ("For example, ..."): labelled as an example where it is quoted."""
    return _is_worked_example(passage, group) or bool(_ILLUSTRATION_TEXT.search(group[0].text))


def _is_worked_example(passage: Passage, group: tuple[Unit, ...]) -> bool:
    """A quote from a worked example, scenario or case study: by its section heading, or a
    sentence that sets a scene ("Imagine ...", "In this scenario ...")."""
    return bool(_EXAMPLE_HEADING.search(passage.section) or _SCENARIO_TEXT.search(group[0].text))


def _can_open(passage: Passage, group: tuple[Unit, ...], asks: _Asks) -> bool:
    """Not a sentence about the document, unless the question names that document ("What
    are the five stages of the roadmap?": "This roadmap describes ... five stages: ...");
    not a disclaimer, a bibliography line or a caption; not a sentence that only says where
    a topic is written, unless the question asks where; not a line of a references section
    or a sentence cut at its start, unless the question asks for a publication; not what
    the publisher plans, unless the question asks what comes next.
    """
    # A sentence cut by a page or chunk end still opens: in PDFs the best answer often is
    # one ("... performed during the AI Model phase of the lifecycle in Figure"); dropping
    # them cost the NIST set 0.05 of answer_first_rate.
    text = group[0].text
    about = _ABOUT_THE_DOCUMENT.search(text)
    noun = about and (about["noun"] or about["title"] or about["users"])
    if about and not (noun and set(terms(noun)) <= asks.about):
        return False
    if not asks.where and _points_elsewhere(text):
        return False
    if not asks.source and (in_references_section(passage.section) or _CUT_AT_START.match(text)):
        return False
    if not asks.future and _PLANS.search(text):
        return False
    return not (_CITATION_LIKE.search(text) or is_caption(text))


def _points_elsewhere(text: str) -> bool:
    if _SEE_ELSEWHERE.search(text) or _POINTS_TO_FIGURE.match(text):
        return True
    return len(text.split()) <= _POINTER_WORDS and bool(_POINTS_ELSEWHERE.search(text))


def is_caption(text: str) -> bool:
    """A figure or table caption: see `_NUMBERED_CAPTION` and `_NOUN_OF`."""
    words = text.split()
    if _VERBS & {w.lower().strip(".,;:") for w in words}:
        return False
    if _NUMBERED_CAPTION.match(text):
        return len(words) <= _NUMBERED_CAPTION_WORDS
    return bool(_NOUN_OF.match(text)) and len(words) <= _CAPTION_WORDS


def defines(question: str, sentence: str) -> bool:
    """Whether `sentence` names the term a definition question asks about, then defines it."""
    term = defined_term(question)
    if term is None:
        return False
    if spells_out(term, sentence):
        return True
    wanted = set(terms(term))
    if not wanted:
        return False
    all_words = sentence.split()
    words = all_words[:_DEFINING_WITHIN_WORDS]
    # A setting first: "In the context of the AI RMF, risk refers to ...".
    if words and words[0].lower() in _SETTING_OPENERS:
        comma = next((i for i, w in enumerate(words[:_SETTING_WORDS]) if w.endswith(",")), None)
        if comma is not None:
            words = all_words[comma + 1 : comma + 1 + _DEFINING_WITHIN_WORDS]
    if words and words[0].lower() in _ARTICLES:
        words = words[1:]
    head = " ".join(words)
    verb = _DEFINING.search(head)
    if verb is None:
        return False
    # The term is the subject: it comes first ("Once the risk tolerance is agreed" is not).
    first_word = terms(words[0].strip("'\"\u2018\u201c")) if words else []
    if not (first_word and first_word[0] in wanted):
        return False
    subject = head[: verb.start()].split()
    seen: set[str] = set()
    for named, word in enumerate(subject):
        seen.update(terms(word))
        if wanted <= seen:
            # The verb follows the term ("Risk tolerance refers to ..."), not a clause
            # about it ("Risk tolerance reflects the level ... the organization is ...").
            return len(subject) - 1 - named <= _DEFINING_GAP_WORDS
    return False


def _definition_bonus(question: str, sentence: str) -> float:
    """The bonus of a sentence that `defines` the term asked about; twice it when the
    sentence opens by spelling out the acronym asked about, then says what it is ("Test,
    Evaluation, Verification, and Validation (TEVV) tasks are performed ..."): its definition
    for certain, enough to open from a lower-ranked passage. Not "Artificial intelligence
    (AI) technologies have significant potential" (no defining verb), nor "the importance of
    test, evaluation, ... (TEVV)" (not the subject): those get the plain bonus."""
    if not defines(question, sentence):
        return 0.0
    term = defined_term(question)
    assert term is not None  # `defines` found it
    head = " ".join(sentence.split()[:_DEFINING_WITHIN_WORDS])
    if spells_out(term, sentence, at_start=True) and _DEFINING.search(head):
        return 2 * _DEFINITION_BONUS
    return _DEFINITION_BONUS


def _opener_first(
    ranked: list[_Candidate], passages: list[Passage], coverage: Callable[[int], float]
) -> list[_Candidate]:
    """The best candidate that can open the answer first; the others keep their order.

    Sentences about the document never open. A worked example opens only when the question
    is about that example ("the vendor's false alert rate at Central Station"): when its
    passage holds clearly more of the question's weighted words than any rule's passage.
    Otherwise a rule opens and the example, labelled, follows. An illustration inside
    guidance ("For example, ...") is not a worked example: it opens when it scores best.
    """
    eligible = [c for c in ranked if c.can_open] or ranked
    opener = eligible[0]
    if _is_worked_example(passages[opener.passage_index], opener.units):
        rules = [c for c in eligible if not _is_worked_example(passages[c.passage_index], c.units)]
        if rules:
            best_rule = max(coverage(c.passage_index) for c in rules)
            if coverage(opener.passage_index) < _EXAMPLE_OPENS * best_rule:
                opener = rules[0]
    return [opener] + [c for c in ranked if c is not opener]


def _suggested_first(
    ranked: list[_Candidate],
    passages: list[Passage],
    gives_what_is_asked: Callable[[_Candidate], bool],
) -> list[_Candidate]:
    """The best candidate that is one of its passage's `suggested` sentences (the sentence
    a close training question was written for) first, when it may open; else unchanged.

    Not in place of an opener that gives what the question's type asks for (the number of
    a "how many", the definition of a "what is") when the suggested sentence does not:
    the training question was only near the officer's. "How many stages does the
    procurement checklist have?" opens with "It follows the procurement process in six
    stages: ..." rather than a suggested sentence on how each item is answered.
    """
    for candidate in ranked:
        suggested = passages[candidate.passage_index].suggested
        if suggested and candidate.can_open and candidate.units[0].text in suggested:
            if gives_what_is_asked(ranked[0]) and not gives_what_is_asked(candidate):
                return ranked
            return [candidate] + [c for c in ranked if c is not candidate]
    return ranked


def _continuation(opener: _Candidate, candidates: list[_Candidate]) -> _Candidate | None:
    """The sentence right after a non-list opener, when the opener does not stand alone.

    It does not when it is short ("The risk score is likelihood multiplied by severity."),
    announces what follows ("... works out as follows."), or the next sentence refers back
    to it ("In this sample assessment they are question 5, ...").
    """
    if opener.is_list:
        return None
    following = [
        c
        for c in candidates
        if c.passage_index == opener.passage_index and c.first.start > opener.first.start
    ]
    if not following:
        return None
    nearest = min(following, key=lambda c: c.first.start)
    if nearest.is_list or nearest.first.line != opener.first.line:
        return None
    text = opener.first.text
    if (
        len(text.split()) < _SHORT_OPENER_WORDS
        or _ANNOUNCES.search(text)
        or _REFERS_BACK.match(nearest.first.text)
    ):
        return nearest
    return None


def quotable_texts(
    section: str, text: str, boilerplate: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """(what would be quoted, what the encoder compares with the question) for each sentence
    or list of a passage: what `_score` weighs, for training on it (`evals/train_opener.py`)."""
    return [
        (" ".join(unit.text for unit in group), _context(section, group))
        for group in _quotable_groups(split_units(text), boilerplate)
    ]


def _quotable_groups(units: list[Unit], boilerplate: frozenset[str]) -> list[tuple[Unit, ...]]:
    """Each sentence and list item alone, and each list whole with its introduction.

    A list introduction ("It covers five domains:") is only quoted with its items.
    """
    groups: list[tuple[Unit, ...]] = []
    index = 0
    while index < len(units):
        unit = units[index]
        if unit.is_list_intro or unit.is_list_item:
            end = index + 1
            while end < len(units) and units[end].is_list_item and not units[end].is_list_intro:
                end += 1
            block = tuple(units[index : index + 1 + _LIST_ITEMS_MAX][: end - index])
            items = [u for u in block if u.is_list_item and u.text not in boilerplate]
            groups += [(u,) for u in items if len(u.text.split()) >= _MIN_WORDS]
            if len(block) > 1:
                groups.append(block)
            index = end
            continue
        if (
            unit.text not in boilerplate
            and len(unit.text.split()) >= _MIN_WORDS
            and not _is_fragment(unit.text)
            and not is_caption(unit.text)
        ):
            groups.append((unit,))
        index += 1
    return groups


def _is_fragment(text: str) -> bool:
    """A title or heading line cut by layout ("Risk Assessment Guide for AI Use Cases
    (Sample"): short and without a sentence's closing punctuation."""
    return len(text.split()) < _FRAGMENT_WORDS and not _SENTENCE_CLOSE.search(text)


def _without_stray_reply(question: str, passages: list[Passage], quote: _Candidate) -> _Candidate:
    """The quote without its leading "Yes." or "No." unless the officer asked the question
    that word replies to.

    An FAQ's reply ("No. A small agency that buys a single AI-enabled product ... faces the
    same basic questions") answers its heading ("Is the Toolkit only for large agencies?").
    Quoted under "Is any of this meant for us?", the bare "No." reads as the answer to the
    officer's question, the opposite of what the passage says. The rest of the sentence is
    still a verbatim span of the passage.
    """
    unit = quote.first
    reply = _REPLY_WORD.match(unit.text)
    if reply is None:
        return quote
    leaf = passages[quote.passage_index].section.rsplit(">", 1)[-1].strip()
    replied_to = {t for t in terms(leaf) if t.isalpha()} if leaf.endswith("?") else set()
    if replied_to and replied_to <= set(terms(question)):
        return quote
    trimmed = replace(unit, start=unit.start + reply.end(), text=unit.text[reply.end() :])
    return replace(quote, units=(trimmed, *quote.units[1:]))


def _context(section: str, group: tuple[Unit, ...]) -> str:
    """What the encoder compares with the question: heading, then the unit(s).

    Cut to a sentence's length: a long list would pad the whole encoder batch to its size
    (attention cost grows with the square of it) while its first lines carry the topic.
    """
    leaf = section.rsplit(">", 1)[-1].strip()
    words = " ".join(u.text for u in group).split()[:_CONTEXT_WORDS]
    text = " ".join(words)
    return f"{leaf}: {text}" if leaf else text


def _overlaps(a: _Candidate, b: _Candidate) -> bool:
    """Same units (an item inside a chosen list) or nearly the same words."""
    if a.passage_index == b.passage_index and set(a.units) & set(b.units):
        return True
    wa, wb = set(a.text.lower().split()), set(b.text.lower().split())
    return len(wa & wb) / max(1, len(wa | wb)) >= _REDUNDANT_JACCARD


def main_sentences(answer: Answer) -> list[str]:
    """The main answer's sentences, without their citation marks or "More from the sources".

    What the refusal checks read: a quantity asked for must be stated in the answer itself,
    not only in a further quote, whatever `answer.more_sentences` is set to.
    """
    return [unmarked(line).removeprefix("- ") for line in answer.answer.splitlines()]


def unmarked(line: str) -> str:
    """An answer line without its citation marks ("... agreed. [2]" -> "... agreed.")."""
    return _MARKS.sub("", line)


def _compose(
    question: str,
    passages: list[Passage],
    selected: list[_Candidate],
    more: list[_Candidate] = (),
) -> Answer:
    """Opener first, then the rest grouped by passage in reading order; lists kept whole.

    "More from the sources" follows the same rule and continues the citation numbers.
    """
    numbers: dict[int, int] = {}
    quotes: dict[int, list[Unit]] = {}
    used: set[tuple[int, int]] = set()
    examples: set[int] = set()

    def lines_of(chosen: list[_Candidate]) -> list[str]:
        if not chosen:
            return []
        opener, rest = chosen[0], chosen[1:]
        order = [opener.passage_index] + sorted(
            {c.passage_index for c in rest} - {opener.passage_index}
        )
        lines: list[str] = []
        for passage_index in order:
            group = [c for c in chosen if c.passage_index == passage_index]
            if passage_index == opener.passage_index:
                group = [opener] + sorted(
                    (c for c in group if c is not opener), key=lambda c: c.first.start
                )
            else:
                group.sort(key=lambda c: c.first.start)
            number = numbers.setdefault(passage_index, len(numbers) + 1)
            for candidate in group:
                if is_example(passages[passage_index], candidate.units):
                    examples.add(number)
                for unit in candidate.units:
                    if (passage_index, unit.start) in used:
                        continue
                    used.add((passage_index, unit.start))
                    quotes.setdefault(passage_index, []).append(unit)
                    prefix = "- " if unit.is_list_item else ""
                    lines.append(f"{prefix}{unit.text} [{number}]")
        return lines

    main = lines_of(selected)
    further = lines_of(list(more))
    citations = [
        Citation.from_passage(
            number,
            passages[i],
            f" {QUOTE_SEPARATOR} ".join(u.text for u in sorted(quotes[i], key=lambda u: u.start)),
            example=number in examples,
        )
        for i, number in sorted(numbers.items(), key=lambda item: item[1])
    ]
    return Answer(
        question=question,
        answer="\n".join(main),
        refused=False,
        citations=citations,
        more="\n".join(further),
    )
