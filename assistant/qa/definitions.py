"""What a definition question asks about, and where a text spells an acronym out.

Shared by retrieval, which raises the passages that spell out an acronym the question asks
about, and by the answer, which opens with the sentence that does.
"""

from __future__ import annotations

import re
from functools import lru_cache

# The term a definition question asks about: "What is TEVV?", "What's TEVV? It keeps coming
# up.", "What does 'risk tolerance' mean ...?", "Define residual risk". Bounded: at most
# eight words.
DEFINED_TERM = re.compile(
    r"^\s*(?:what(?:['\u2019]s|\s+(?:is|are))\s+(?:an?\s+|the\s+)?|define\s+|what\s+does\s+)"
    r"['\"\u2018\u201c]?(?P<term>[\w\-]+(?:\s[\w\-]+){0,7}?)['\"\u2019\u201d]?"
    r"(?:\s+(?:mean(?!\s+when\b)|stand for)\b|\s+in\s+the\b|\s+according\b|\s*\?|$)",
    re.I,
)

# The term of "What does NIST mean by 'risk'?", "What is meant by 'risk tolerance' in ...?":
# what follows "mean(t) by", not who means it. Bounded as above.
_MEANT_BY_TERM = re.compile(
    r"\bmeant?\s+by\s+['\"\u2018\u201c]?(?P<term>[\w\-]+(?:\s[\w\-]+){0,7}?)['\"\u2019\u201d]?"
    r"(?:\s+(?:in|for|when|according|here|there)\b|\s*[?,]|$)",
    re.I,
)
# "Risk tolerance - what does the framework mean by that?": the term opens the question.
_TERM_THEN_MEANING = re.compile(
    r"^\s*['\"\u2018\u201c]?(?P<term>[\w\-]+(?:\s[\w\-]+){0,5})['\"\u2019\u201d]?"
    r"(?:\s+-|\s*[\u2013\u2014:])\s*what\b[^?]{0,80}\bmeant?\s+by\s+(?:that|this|it)\b",
    re.I,
)
_POINTERS = frozenset({"that", "this", "it", "there", "those", "these"})


# Asked of every candidate sentence of an answer (`answer.defines`): read once a question.
@lru_cache(maxsize=256)
def defined_term(question: str) -> str | None:
    """The term a definition question asks about: "TEVV" in "What is TEVV?", "risk" in
    "What does NIST mean by 'risk'?" (not NIST), "Risk tolerance" in "Risk tolerance - what
    does the framework mean by that?". None for another question, or when the term only
    points back ("What does it mean by that?")."""
    for pattern in (_TERM_THEN_MEANING, _MEANT_BY_TERM, DEFINED_TERM):
        match = pattern.search(question)
        if match and match["term"].lower() not in _POINTERS:
            return match["term"]
    return None


# An acronym is defined where it is spelled out: "Test, Evaluation, Verification, and
# Validation (TEVV) tasks are ..." answers "What is TEVV?" though TEVV does not come first.
_ACRONYM_LETTERS = (2, 8)
_ACRONYM_LINKS = frozenset({"and", "of", "for", "the", "to", "in", "on", "a", "an", "by"})
_WORD_PARTS = re.compile(r"[A-Za-z]+")  # one character class: linear on any input
# An acronym in brackets, once quotes are dropped: "(TEVV)", "(“PETs”)".
_BRACKETED = re.compile(r"\(([A-Za-z]{2,8})\)")

# An acronym as an officer types it: capitals, perhaps a plural "s" ("TEVV", "PETs").
_TYPED_ACRONYM = re.compile(r"\b[A-Z]{2,8}s?\b")
# A question that asks for an expansion without making the acronym its term: "TEVV keeps
# coming up. What does it stand for?"
_ASKS_EXPANSION = re.compile(r"\bstands?\s+for\b|\bacronym\b|\babbreviation\b", re.I)


def asked_acronym(question: str) -> str | None:
    """The acronym a question asks to have spelled out, as typed: the term of "What is
    TEVV?" or "What does TEVV mean?", or the one acronym of a question asking what
    something "stands for". None when the term is not an acronym ("What is the AI
    lifecycle?") or when a "stands for" question names several."""
    term = defined_term(question)
    if term and _TYPED_ACRONYM.fullmatch(term):
        return term
    if _ASKS_EXPANSION.search(question):
        typed = set(_TYPED_ACRONYM.findall(question))
        if len(typed) == 1:
            return typed.pop()
    return None


def typed_acronyms(text: str) -> set[str]:
    """The acronyms typed in `text`, lower-cased as the corpus's vocabulary is: "tevv", "pets"."""
    return {acronym.lower() for acronym in _TYPED_ACRONYM.findall(text)}


def _unquoted(text: str) -> str:
    return text.replace("\u201c", "").replace("\u201d", "").replace('"', "")


def spelled_out_acronyms(text: str) -> set[str]:
    """The acronyms `text` spells out, lower-cased ("tevv" for "Test, Evaluation,
    Verification, and Validation (TEVV)")."""
    bracketed = {m.lower() for m in _BRACKETED.findall(_unquoted(text))}
    return {acronym for acronym in bracketed if spells_out(acronym, text)}


def spells_out(term: str, sentence: str, at_start: bool = False) -> bool:
    """Whether `sentence` spells out the acronym `term` just before it in brackets:
    "test, evaluation, verification, and validation (TEVV)", "Privacy-enhancing
    technologies (“PETs”)", "Organisation for Economic Co-operation and
    Development (OECD)". Any case as typed; a plural "s" is not a letter of it. With
    `at_start`, the spelled-out words open the sentence (an article may come first)."""
    letters = term.upper()
    low, high = _ACRONYM_LETTERS
    if not (low <= len(letters) <= high and letters.isalpha()):
        return False
    folded = _unquoted(sentence.lower())
    at = folded.find(f"({term.lower()})")
    if at < 0:
        return False
    wanted = {letters, letters[:-1]} if letters.endswith("S") else {letters}
    before = folded[:at]
    # Hyphens split a word into initials ("Privacy-enhancing": P, E) or not ("Co-operation").
    for words in (_WORD_PARTS.findall(before), before.replace("-", "").split()):
        initials = "".join(w[0] for w in words if w and w.lower() not in _ACRONYM_LINKS).upper()
        if any(initials == w if at_start else initials.endswith(w) for w in wanted):
            return True
    return False
