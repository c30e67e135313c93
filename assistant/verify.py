"""Verification of generated text: is each sentence supported by the source it cites?

A sentence is scored against a source by three measures, averaged:
- word overlap: the share of the sentence's content words (stemmed, stop words out) that
  occur in two neighbouring sentences of the source, the best such pair, which must also
  hold every number of the sentence: a claim stitched from words spread over a passage
  ("the single miss ... is about 2.74 calls", the figure taken from another sentence) is
  not what the passage says;
- pair overlap: the same for pairs of neighbouring content words, which catches a sentence
  that recombines the source's words into a claim it does not make ("the supporting
  documents are the practical tools");
- embedding similarity: the cosine similarity of the sentence to the closest sentence of
  the source, with the same encoder that retrieval uses (already loaded, cached).
Two hard rules come first, each scoring 0: a number in the sentence that the source does
not contain (small models change figures while keeping every other word), and more than
one content word that the source does not contain (a sentence built from the source's
words plus a few of the model's own, "the primary guidance documents are the primary
guidebooks", otherwise scores as well as a faithful one). The acceptance threshold
(`generation.min_support`) is calibrated by `python -m evals.calibrate_support`, not chosen
by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from assistant.models import Answer
from assistant.sentences import split_units
from ingest.embedding import Embedder
from ingest.keyword_index import terms

MARKERS = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MIN_CONTENT_WORDS = 2  # "Yes [1]." states nothing that can be checked
_MAX_NEW_WORDS = 1  # content words of the sentence that are not in the source
_PROMPT_ECHO = "[n]"  # the prompt's own example marker, copied into a sentence


@dataclass(frozen=True)
class Claim:
    """One sentence (or list item) of a generated answer, its [n] markers taken out."""

    text: str
    cited: tuple[int, ...]
    is_list_item: bool = False


@dataclass(frozen=True)
class Support:
    """How well one source supports one claim; `evidence` is the source's closest sentence."""

    source: int
    score: float
    overlap: float
    pair_overlap: float
    similarity: float
    evidence: str


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


def _pairs(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:], strict=False))


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


class Verifier:
    """Scores claims against sources with the retrieval encoder; accepts at `min_support`."""

    def __init__(self, embedder: Embedder, min_support: float) -> None:
        self.embedder = embedder
        self.min_support = min_support

    def support(self, claim: str, source_number: int, source_text: str) -> Support:
        claim_terms = terms(claim)
        units = [u.text for u in split_units(source_text)] or [source_text]
        words = set(claim_terms)
        if len(words) < _MIN_CONTENT_WORDS or not _numbers(claim) <= _numbers(source_text):
            return Support(source_number, 0.0, 0.0, 0.0, 0.0, units[0])
        if _PROMPT_ECHO in claim:
            return Support(source_number, 0.0, 0.0, 0.0, 0.0, units[0])
        in_source = words & set(terms(source_text))
        if len(words) - len(in_source) > _MAX_NEW_WORDS:
            return Support(source_number, 0.0, len(in_source) / len(words), 0.0, 0.0, units[0])
        # The best pair of neighbouring sentences must hold the claim's words and its numbers.
        windows = [" ".join(units[i : i + 2]) for i in range(max(1, len(units) - 1))]
        coverage = [len(words & set(terms(w))) for w in windows]
        best_window = windows[int(np.argmax(coverage))]
        if not _numbers(claim) <= _numbers(best_window):
            return Support(source_number, 0.0, 0.0, 0.0, 0.0, units[0])
        overlap = max(coverage) / len(words)
        # Pairs within one sentence of the source: "... Documents. Primary ..." is no pair.
        source_pairs = set().union(*(_pairs(terms(u)) for u in units))
        pairs = _pairs(claim_terms)
        pair_overlap = len(pairs & source_pairs) / len(pairs)
        vectors = self.embedder.embed_short([claim, *units])
        similarities = vectors[1:] @ vectors[0]
        best = int(np.argmax(similarities))
        similarity = max(0.0, float(similarities[best]))
        score = (overlap + pair_overlap + similarity) / 3
        return Support(source_number, score, overlap, pair_overlap, similarity, units[best])

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
