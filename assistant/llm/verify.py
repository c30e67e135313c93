"""Verification of generated text: does the source a sentence cites say what it says?

A small model rewrites what it reads: it keeps a source's words and changes the claim
("proposes to use" becomes "is approved", "after the contract ends" becomes "before",
a list of three categories becomes "the practical tools are the supporting materials").
Word overlap and embedding similarity both score such sentences as well as faithful ones.
So a sentence counts as supported only when it can be read off one sentence of the source:

- alignment: the sentence's words (stemmed; articles and punctuation out, but "before",
  "not", "are" kept, since they carry the claim) are aligned in order with the source
  sentence's (longest common subsequence); `containment` is the share aligned;
- no new words: a word of the sentence that is not aligned must be a connective ("and",
  "which", "is", ...), or part of a subject put in front of the aligned text where the
  source has a pronoun or nothing ("It covers five domains" -> "The readiness
  self-assessment covers five domains"); anything else, such as a subject swapped for
  another ("Precision is ..." -> "Accuracy is ..."), is a word the source did not say;
- no list turned into a statement: "is" or "are" put between two neighbouring words of
  the source that only a comma or "and" separates ("Primary Guidance Documents,
  Practical Tools" -> "the primary guidance documents are the practical tools");
- nothing dropped that turns the meaning: a negation, limit or approximation ("not",
  "unless", "at least", "about") inside the aligned stretch of the source must be kept,
  the sentence's frame in front of it may not be left out ("Necessity means that ...",
  "Below 1.5, not ready: ...") and neither may a condition after it ("... unless");
- every number of the sentence is in that source sentence.

A sentence that joins two claims ("X, and Y") is split at the join and each part must pass
on its own, against any sentence of the same source. The score of a passing sentence is
the mean of its containment and its embedding similarity to the stretch of source sentence
it was read from (the retrieval encoder, already loaded and cached); the acceptance threshold
(`generation.min_support`) is calibrated by `python -m evals.calibrate_support`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.qa.models import Answer
from ingest.embedding import Embedder
from ingest.keyword_index import stem_words
from ingest.sentences import split_units

MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")


def _stem_set(words: str) -> frozenset[str]:
    return frozenset(stem_words(words.split()))


_IZE = re.compile(r"([iy])z(e|es|ed|ing|ation|ations)$")
_ARTICLES = frozenset({"a", "an", "the", "s"})  # "s": the possessive, split off by _WORD
# Words a faithful rewrite adds without changing the claim (stemmed).
_CONNECTIVES = _stem_set(
    "and also that which who whom whose is are was were be been being it its they their "
    "this these those there of to in on for with as by at from such so then both"
)
_COPULAS = _stem_set("is are was were be")
_LIST_JOINS = _stem_set("and or")
# A source sentence's subject that a rewrite may spell out ("It covers" -> "The X covers").
_PRONOUNS = _stem_set("it its this these they their that those he she his her")
# Words whose loss changes the claim: dropped from inside the aligned source text, fatal.
_LIMITS = _stem_set(
    "not no never without unless except only neither nor cannot least most more less "
    "than until before after about approximately roughly nearly almost around"
)
# Words that make what follows them a condition or a reported content, not a fact.
_FRAMES = _stem_set("that if when whether where unless below above")
# Words after the read text that restrict it: an exception or a condition.
_CONDITIONS = _stem_set("unless except if only provided not no without")
# Where a sentence joins two claims; each part is checked on its own.
_JOINS = re.compile(r";\s+|,\s+(?:and|but|while|whereas|so)\s+|,\s+which\s+")
_MIN_WORDS = 2  # "Yes [1]." states nothing that can be checked
_PROMPT_ECHO = "[n]"  # the prompt's own example marker, copied into a sentence


@dataclass(frozen=True)
class Claim:
    """One sentence (or list item) of a generated answer, its [n] markers taken out."""

    text: str
    cited: tuple[int, ...]
    is_list_item: bool = False


@dataclass(frozen=True)
class Support:
    """How well one source supports one claim; `evidence`: the source sentences it rests on."""

    source: int
    score: float
    containment: float
    similarity: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class CheckedClaim:
    claim: Claim
    supported_by: tuple[Support, ...]  # the sources that pass, best first

    @property
    def verified(self) -> bool:
        return bool(self.supported_by)


def split_claims(text: str) -> list[Claim]:
    """Sentences and list items of `text`, each with the source numbers it cites.

    A marker standing alone after a sentence ("... rights. [2]") belongs to that sentence.
    """
    claims: list[Claim] = []
    for unit in split_units(text):
        cited = tuple(int(n) for m in MARKERS.finditer(unit.text) for n in re.split(r"\D+", m[1]))
        body = MARKERS.sub("", unit.text).strip()
        if not re.search(r"\w", body):
            if claims and cited:
                last = claims[-1]
                claims[-1] = Claim(last.text, tuple(dict.fromkeys(last.cited + cited)), False)
            continue
        claims.append(Claim(body, tuple(dict.fromkeys(cited)), unit.is_list_item))
    return claims


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def _words(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) of each word of `text`, articles left out."""
    found = [
        (m[0], m.start(), m.end())
        for m in _WORD.finditer(text.lower().replace("\u2019", "'"))
        if m[0] not in _ARTICLES
    ]
    # One spelling for -ise/-ize: models write American English, the documents British.
    stems = stem_words([_IZE.sub(r"\1s\2", w) for w, _, _ in found])
    return [(stem, start, end) for stem, (_, start, end) in zip(stems, found, strict=True)]


def _aligned(claim: list[str], source: list[str]) -> list[tuple[int, int]]:
    """(claim index, source index) pairs of a longest common subsequence, in order."""
    rows, cols = len(claim), len(source)
    # Plain lists: element access in a Python loop is several times faster than numpy's.
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        row, below = table[i], table[i + 1]
        for j in range(cols - 1, -1, -1):
            row[j] = below[j + 1] + 1 if claim[i] == source[j] else max(below[j], row[j + 1])
    pairs, i, j = [], 0, 0
    while i < rows and j < cols:
        if claim[i] == source[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


@dataclass(frozen=True)
class Reading:
    """A claim read off one source sentence: the share of it aligned, and the stretch used."""

    containment: float
    span: str  # the source sentence from its first aligned word to its last


_UNREAD = Reading(0.0, "")


def read_off(claim: str, sentence: str, passage_words: frozenset[str]) -> Reading:
    """How `claim` reads off the source `sentence`; containment 0 if a rule fails."""
    claim_words, source_words = _words(claim), _words(sentence)
    words, source = [w for w, _, _ in claim_words], [w for w, _, _ in source_words]
    if len(words) < _MIN_WORDS or not _numbers(claim) <= _numbers(sentence):
        return _UNREAD
    pairs = _aligned(words, source)
    if not pairs:
        return _UNREAD
    in_claim = {i for i, _ in pairs}
    (first_claim, first_source), (_, last_source) = pairs[0], pairs[-1]
    # Words in front of the aligned text may name what the source sentence calls "it" or
    # "this", in the passage's own words; where the source has no subject word left out,
    # one word may qualify the first ("The AI Toolkit" for "The Toolkit").
    before = source[:first_source]
    resolved = bool(before) and all(w in _PRONOUNS for w in before)
    added_in_front = [w for w in words[:first_claim] if w not in _CONNECTIVES]
    if added_in_front and not (
        (resolved and set(added_in_front) <= passage_words)
        or (not before and len(added_in_front) == 1 and added_in_front[0] in passage_words)
    ):
        return _UNREAD
    if any(
        i >= first_claim and i not in in_claim and w not in _CONNECTIVES
        for i, w in enumerate(words)
    ):
        return _UNREAD
    # "X is Y" read off "X, Y and Z": a copula put between two items of a list makes one
    # the other. Allowed where the source introduces what follows (a colon) or has words.
    for (i1, j1), (i2, j2) in zip(pairs, pairs[1:], strict=False):
        copula = any(words[i] in _COPULAS for i in range(i1 + 1, i2))
        gap = sentence[source_words[j1][2] : source_words[j2][1]]
        listed = all(source[j] in _LIST_JOINS for j in range(j1 + 1, j2))
        if copula and listed and ":" not in gap:
            return _UNREAD
    in_source = {j for _, j in pairs}
    if any(source[j] in _LIMITS for j in range(first_source, last_source) if j not in in_source):
        return _UNREAD
    # The source sentence's frame left unread: "Necessity means that [AI is needed]",
    # "Below 1.5, not ready: [the agency should ...]", "[X is allowed] unless ...".
    if any(w in _FRAMES or w in _LIMITS for w in before):
        return _UNREAD
    if any(w in _CONDITIONS for w in source[last_source + 1 :]):
        return _UNREAD
    span = sentence[source_words[first_source][1] : source_words[last_source][2]]
    return Reading(len(pairs) / len(words), span)


def _best_reading(
    claim: str, units: tuple[str, ...], passage_words: frozenset[str]
) -> tuple[str, Reading, str]:
    """(claim, its best reading, the sentence it is read off)."""
    readings = [read_off(claim, unit, passage_words) for unit in units]
    best = int(np.argmax([r.containment for r in readings]))
    return claim, readings[best], units[best]


@lru_cache(maxsize=64)
def _source(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """A passage's sentences and its words, once for all the sentences that cite it."""
    units = tuple(u.text for u in split_units(text)) or (text,)
    return units, frozenset(w for w, _, _ in _words(text))


def claim_parts(claim: str) -> list[str]:
    parts = [p.strip(" ,;") for p in _JOINS.split(claim)]
    return [p for p in parts if p]


class Verifier:
    """Scores claims against sources with the retrieval encoder; accepts at `min_support`."""

    def __init__(self, embedder: Embedder, min_support: float) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def support(self, claim: str, source_number: int, source_text: str) -> Support:
        units, passage_words = _source(source_text)
        unsupported = Support(source_number, 0.0, 0.0, 0.0, ())
        if _PROMPT_ECHO in claim:
            return unsupported
        readings = [_best_reading(claim, units, passage_words)]
        if readings[0][1].containment == 0:  # "X, and Y": each part off a sentence of its own
            parts = claim_parts(claim)
            readings = [_best_reading(p, units, passage_words) for p in parts if len(parts) > 1]
            if not readings or any(r.containment == 0 for _, r, _ in readings):
                return unsupported
        # The claim (or each part) against the stretch of source it was read from.
        vectors = self.embedder.embed_short([t for text, r, _ in readings for t in (text, r.span)])
        similarity = min(
            max(0.0, float(vectors[k] @ vectors[k + 1])) for k in range(0, len(vectors), 2)
        )
        containment = min(r.containment for _, r, _ in readings)
        evidence = tuple(dict.fromkeys(unit for _, _, unit in readings))
        score = (containment + similarity) / 2
        return Support(source_number, score, containment, similarity, evidence)

    def check(
        self, claims: list[Claim], sources: dict[int, str], attribute_uncited: bool = True
    ) -> list[CheckedClaim]:
        """Each claim against the sources it cites.

        A claim that cites nothing is checked against every source and attributed to the
        best one that supports it (`attribute_uncited`): small models often forget the
        marker. A claim that cites a source is never moved to another: if none of the
        sources it names supports it, it is unsupported.
        """
        checked = []
        for claim in claims:
            named = [n for n in claim.cited if n in sources]
            candidates = named if claim.cited else (list(sources) if attribute_uncited else [])
            supports = [self.support(claim.text, n, sources[n]) for n in candidates]
            passing = sorted(
                (s for s in supports if s.score >= self.min_support),
                key=lambda s: s.score,
                reverse=True,
            )
            if not claim.cited:
                passing = passing[:1]
            checked.append(CheckedClaim(claim, tuple(passing)))
        return checked

    def check_answer(self, answer: Answer) -> list[CheckedClaim]:
        """The sentences an answer shows, against the passages of its own citations.

        For evals: this is how `supported_sentence_rate` checks what an officer would read,
        whichever answerer wrote it. Uncited sentences count as unsupported here.
        """
        sources = {c.n: c.text for c in answer.citations}
        lines = "\n".join(line for line in answer.answer.splitlines() if line.strip())
        return self.check(split_claims(lines), sources, attribute_uncited=False)
