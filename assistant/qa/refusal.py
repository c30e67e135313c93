"""When the evidence is weak, say so instead of guessing.

Checks, each explainable to an officer, thresholds calibrated on out-of-scope
questions (`toolkit-assistant eval --calibrate`):
- `dense_score`: the best passage is not close to the question in meaning (off-topic);
- `term_coverage`: the top passages lack most of the question's specific vocabulary;
- `known_terms`: no word of the question is a word of the corpus at all ("五项核心原则是什么？",
  in a language the installation does not read);
- `domain_score`, `near_domain_score`: the question is off the corpus's subject, or on it
  but asks what general guidance never holds (a figure, a law, a vendor, a step of police
  legal procedure), and no passage is close in meaning (`assistant/qa/domain.py`);
- `unknown_names`: the question names something the corpus never mentions ("Whisper",
  "FBI", "Detroit", "Executive Order 14110"): related passages exist, but not about that;
- `topic_coverage`: a question that asks what the documents say *about* something ("What
  does the Playbook say about flying drones over protests?"), or whether they explain *how
  to* do something, needs that topic's own words in the top passages: passages on
  neighbouring topics hold the rest of the question;
- the expected answer type: a "how many", "budget", "fine" or "rate" question needs a quoted
  sentence holding a number next to what was asked about ("the maximum fine under the AI
  Act" retrieves passages about the AI Act, none of which states a fine), for a rate a
  figure written as one (a percentage, "1 in 6,000"); a "which vendor / provider / company /
  country / state" question needs a quoted sentence naming one of that kind, and a "which
  law" question one naming a law ("... the National AI Initiative Act of 2020"); a yes/no
  question on whether something is permitted needs a sentence that permits or forbids, and
  one that puts forward a figure of its own ("deleted after 31 days?") a sentence holding it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from assistant.qa.models import Passage
from ingest.keyword_index import KeywordIndex, terms
from ingest.settings import AnswerSettings

_EVIDENCE_PASSAGES = 3
# How people phrase a question, not what it is about: never counted as missing evidence.
_QUESTION_SCAFFOLDING = (
    "tell explain explained describe described mean means meaning say says give list summarize "
    "summarise know need needs define definition example examples please kind kinds type types "
    "way ways thing things main role purpose according document documents corpus toolkit guide "
    "officer officers police agency agencies"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]+")
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# Capitalised in officers' questions without being names the corpus must hold: ranks and
# titles ("the Sergeant asked ..."), the executive roles' initials ("Should the CIO own AI
# risk?"), "OK" ("Is it OK to ...?"), "I'm", "I've", ..., and days and months ("on a busy
# Saturday night"), which are dates, not names.
_NOT_NAMES = frozenset(
    {
        "ok", "okay", "chief", "sergeant", "sheriff", "inspector", "constable", "detective",
        "lieutenant", "captain", "commander", "superintendent", "commissioner", "deputy",
        "officer", "marshal", "trooper", "corporal",
        "ceo", "cio", "cto", "cfo", "coo", "ciso", "cdo", "dpo", "siro",
        "i'm", "i've", "i'd", "i'll",
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
        *_MONTH_NAMES,
    }
)  # fmt: skip
# A name with a number, as laws, orders and standards are designated: "Executive Order
# 14110", "ISO/IEC 42001". The corpus may name the series ("ISO") but not that number: the
# question then asks about a text the corpus does not hold.
_DESIGNATION = re.compile(r"\b([A-Z][A-Za-z/]*)\s+(\d{2,})\b")
_OPENING_QUESTION_WORDS = frozenset({"how", "what", "why", "which", "who", "where", "when"})
# A capital opening the question is no name: "In 2025, will the Playbook be revised?"
_NOT_DESIGNATIONS = _OPENING_QUESTION_WORDS | frozenset(
    {
        "in", "by", "since", "from", "until", "before", "after", "of", "on", "at", "for",
        "to", "about", "over", "under", "within", "than", "per", "every", "each", "the",
        "a", "an", "and", "or", "but", "is", "are", "was", "were", "do", "does", "did",
        "our", "my", "we", "i",
    }
)  # fmt: skip
_POSSESSIVES = frozenset({"our", "my", "your", "their", "his", "her"})
_QUOTES_AND_MARKS = "\"'\u201c\u201d\u2018\u2019()[].,;:!?-"
NUMBER = re.compile(  # a figure, in digits or words
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|half|dozen)\b",
    re.IGNORECASE,
)
_HOW_MANY = re.compile(r"\bhow (?:many|much)\s+(?P<anchor>(?:[\w'-]+\s*){1,3})", re.IGNORECASE)
# What follows "how much" says whether it asks for an amount. Read as words, not by a
# regex: no backtracking over a long question.
# - A money verb within a few words asks an amount, whatever else follows: "How much can
#   our data protection authority fine us?"
# - "how much" straight before a verb of the question asks a degree: "How much should we
#   lean on the machine?"; so does an acceptability word within a few words: "How much
#   AI risk is acceptable?"
_MONEY_VERBS = frozenset({"fine", "fines", "cost", "costs", "charge", "charges", "pay", "spend"})
_AMOUNT_WINDOW = 7
_MODALS = frozenset(
    {
        "do", "does", "did", "can", "could", "should", "shall", "would", "will", "must",
        "may", "might",
    }
)  # fmt: skip
_ACCEPTABILITY = frozenset(
    {
        "acceptable", "tolerable", "reasonable", "appropriate", "enough", "sufficient",
        "accept", "tolerate", "allowed", "ok", "okay",
    }
)  # fmt: skip
_DEGREE_WINDOW = 5
# "How much emphasis / weight / detail / testing ...?" asks how far, not how many: the
# documents answer it in words, not figures.
_DEGREE_NOUNS = frozenset(
    {
        "emphasis", "importance", "weight", "attention", "priority", "focus", "say",
        "influence", "trust", "detail", "thought", "reliance", "confidence", "scrutiny",
        "oversight", "testing",
    }
)  # fmt: skip
# "How many drones does INTERPOL's Innovation Centre operate?" counts drones: the counted
# words end where the question's verb starts (else "INTERPOL" in any sentence with a number
# would answer it).
_ANCHOR_ENDS = _MODALS | {"is", "are", "was", "were", "has", "have", "had"}
# What a document's parts are called when the officer does not know their name.
# So are the qualities something must have ("How many qualities does NIST say a system
# needs before it counts as trustworthy?": the document says "characteristics").
_GENERIC_PARTS = frozenset(
    {
        "parts", "pieces", "headings", "sections", "areas", "components", "elements",
        "buckets", "bits", "blocks", "strands", "pillars", "themes", "chunks", "qualities",
        "traits", "attributes", "properties", "features", "aspects", "characteristics",
    }
)  # fmt: skip
_HOW_LONG = re.compile(r"\bhow (?:long|often|old|soon)\b", re.IGNORECASE)
_HOW_OFTEN = re.compile(r"\bhow often\b", re.IGNORECASE)
# "What's the maximum number of false alerts ...?" counts like "how many false alerts".
_NUMBER_OF = re.compile(
    r"^\s*what(?:'s|\s+is|\s+was)\s+the\s+(?:[\w-]+\s+)?number\s+of\s+"
    r"(?P<anchor>[\w'-]+(?:\s+[\w'-]+)?)",
    re.IGNORECASE,
)
# "How many hours of AI training": what is counted is "hours", not "AI" (in every sentence).
_OF = re.compile(r"\s+of\b.*$", re.IGNORECASE)
_QUANTITY_NOUNS = re.compile(
    r"\b(?P<anchor>budget|cost|costs|price|salary|salaries|fee|fees|percentage|headcount|"
    r"turnover|revenue|amount|altitude|height|distance|speed|age|duration)\b"
    # "What word error rate did ...", "the false match rate of ...": a rate is a figure.
    # Only as a noun after a determiner and at most three words ("the highest false alarm
    # rate"): not "how do we rate risk".
    r"|\b(?:the|a|what|which)\s+(?:[\w-]+\s+){0,3}(?P<rate>rates?)\b"
    # "fine" only as a noun: "the maximum fine", "what fine can ...", not "is it fine to"
    r"|\b(?:the|a|what|which|maximum|minimum|highest|largest)\s+(?:\w+\s+)?"
    r"(?P<penalty>fines?|penalt(?:y|ies))\b",
    re.IGNORECASE,
)
# A sentence ends at a mark after a lower-case word or a figure, before a capital: not in
# "U.S. budget" (one split would leave "budget?" without its "What's").
_SENTENCE_BREAK = re.compile(r"(?<=[a-z0-9][.!?])\s+(?=[A-Z])")
# A quantity noun is asked for when a question word comes at most this many words before it.
_ASKED_WITHIN = 5
# "How should we ...", "What are we ...", "How do I ...": a question word and its verb
_AUXILIARIES = _ANCHOR_ENDS | {"we", "i"}
_QUESTION_WORDS = frozenset({"what", "what's", "which", "how"})
# "What costs should we think about?" asks which kinds, not how much.
_WHICH_KINDS = re.compile(r"\b(?:what|which)\s+(?:other\s+)?(?:costs|fees|penalties|fines)\b", re.I)
_TIME_UNITS = re.compile(
    r"\b(seconds?|minutes?|hours?|days?|weeks?|months?|years?|annual|daily|weekly|monthly)\b", re.I
)
# A rate is stated as one: "below eight percent", "1 in 6,000 faces", "0.2", "10 per shift";
# not by any figure ("ISO/IEC TS 5723:2022 ... false positive rates").
_RATE_FIGURE = re.compile(
    r"%|\bper\s?cent|\bper\b|\b[\d,.]+\s+in\s+\d|\bone\s+in\b|\b0?\.\d", re.IGNORECASE
)
# "How often?" is answered by a cadence as well as by a number: "assessed regularly".
_CADENCE = re.compile(
    r"\b(regular|regularly|periodic|periodically|continual|continually|continuous|continuously|"
    r"ongoing|routinely|frequency|annually|quarterly)\b",
    re.IGNORECASE,
)


# "What does the Playbook say about X?", "Is there any guidance about X?": X is the topic.
# So is Y in "Does the AI RMF explain how to Y?". Found by words, not a regex: no
# backtracking over a long question.
_ASKS_ABOUT = frozenset(
    {
        "say", "says", "said", "mention", "mentions", "mentioned", "cover", "covers",
        "covered", "anything", "guidance", "advice", "recommend", "recommends",
    }
)  # fmt: skip
_POINTS_BACK = frozenset({"that", "this", "these", "those", "such", "it", "them"})
_EXPLAINS = frozenset(
    {
        "explain", "explains", "describe", "describes", "cover", "covers", "discuss",
        "discusses", "address", "addresses", "show", "shows", "tell", "tells",
    }
)  # fmt: skip


# "Which cloud provider does NIST recommend?", "Which US states have made it law?": the answer
# is a name of that kind. Policy documents seldom name vendors or places, and passages about
# cloud storage or legal requirements otherwise answer such questions with no name at all.
# Only these kinds: "Which tool uses Shapley values?" is answered by "SHAP ... uses Shapley
# values", which never says "tool", and "Which two organizations ..." by names without
# "organization"; a law is told by its title ("Act", "Regulation") instead.
_KIND_PAIRS = (
    ("vendor", "vendors"), ("provider", "providers"), ("company", "companies"),
    ("supplier", "suppliers"), ("manufacturer", "manufacturers"), ("brand", "brands"),
    ("firm", "firms"), ("product", "products"), ("country", "countries"), ("state", "states"),
    ("city", "cities"),
)  # fmt: skip
_NAME_KINDS = frozenset(form for pair in _KIND_PAIRS for form in pair)
# A sentence must hold the kind's own word, singular or plural, not a word sharing its stem
# ("provide broad guidance" names no provider).
_KIND_FORMS = {form: frozenset(pair) for pair in _KIND_PAIRS for form in pair}
_LAW_KINDS = frozenset({"law", "laws", "statute", "statutes", "legislation"})
_LAW_TITLES = frozenset(
    {
        "Act", "Law", "Regulation", "Directive", "Convention", "Charter", "Code", "Bill",
        "Statute", "Treaty", "Order",
    }
)  # fmt: skip
# After "which" or "what", the kind noun is the head only when the question's verb follows:
# "Which vendor won ...?", not "What vendor questions should we ask?".
_KIND_FOLLOWERS = frozenset(
    {
        "is", "are", "was", "were", "does", "do", "did", "has", "have", "had", "should",
        "would", "will", "can", "could", "must", "may", "might", "won", "make", "makes",
        "made", "sell", "sells", "offer", "offers", "supply", "supplies", "provide",
        "provides", "recommend", "recommends", "recommended", "require", "requires",
        "required", "approve", "approves", "approved", "allow", "allows", "allowed", "ban",
        "bans", "banned", "use", "uses", "used",
    }
)  # fmt: skip
_ASKED_KINDS = _NAME_KINDS | _LAW_KINDS
_NAME_JOINERS = frozenset({"of", "on", "and", "for"})
_LAW_NAME_WORDS = 8  # "National Artificial Intelligence Initiative Act": five
_KIND_MODIFIERS = 2  # "Which cloud provider", "which US states", "what facial-recognition company"


@dataclass(frozen=True)
class Evidence:
    dense_score: float
    term_coverage: float
    unknown_names: tuple[str, ...] = field(default_factory=tuple)
    topic_coverage: float = 1.0  # 1.0 when the question names no topic ("say about X")
    domain_score: float | None = None  # below 0: off the corpus's subject; None: not judged
    # Whether some word of the question is a word of the corpus (True for a question of
    # scaffolding only, "What is it?": nothing to judge).
    known_terms: bool = True
    # Below 0: on the subject, but asking what such guidance never holds (a figure, a law,
    # a vendor, a step of police legal procedure); None: not judged.
    near_domain_score: float | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "dense_score": self.dense_score,
            "term_coverage": self.term_coverage,
            "unknown_names": list(self.unknown_names),
            "topic_coverage": self.topic_coverage,
            "domain_score": self.domain_score,
            "known_terms": self.known_terms,
            "near_domain_score": self.near_domain_score,
        }


def asked_topic(question: str) -> str | None:
    """X in "What does the Playbook say about X?" and in "Does it explain how to X?"; None
    when the question is not of either form, or when X points back to what the officer said
    before it ("... Does the playbook say anything about making room for that kind of
    challenge?"): the words of such a topic are not its subject's."""
    words = question.rstrip(" ?.!").split()
    lowered = [w.lower().strip(",;:") for w in words]
    asked = False
    for i, word in enumerate(lowered):
        start = None
        if asked and word == "about":
            start = i + 1
        elif word in _EXPLAINS and lowered[i + 1 : i + 2] == ["how"]:
            start = i + 3 if lowered[i + 2 : i + 3] == ["to"] else i + 2
        if start is not None:
            if _POINTS_BACK & set(lowered[start:]):
                return None
            return " ".join(words[start:]) or None
        asked = asked or word in _ASKS_ABOUT
    return None


def _content_terms(question: str) -> set[str]:
    return set(terms(question)) - set(terms(_QUESTION_SCAFFOLDING))


def unknown_names(question: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """Capitalised words and acronyms that the corpus never uses, except where the capital
    says nothing about a name: a word that opens a sentence, a rank or title ("the
    Sergeant"), a title-case word after "our" ("our Chief wants ..."), "OK", and a
    compound whose capitalised parts the corpus uses ("AI-powered"); an owner the corpus
    never writes with its capital ("the Met's", `_owner_unknown`); and a law or a
    designation the corpus never names ("the Equality Act", "Executive Order 14110")."""
    names = []
    previous = ""
    for word, name, opens_sentence in _read_words(question):
        after_possessive = previous in _POSSESSIVES and not name.isupper()
        if (
            name[0].isupper()
            and not opens_sentence
            and not after_possessive
            and name.lower() not in _NOT_NAMES
            and name.lower() not in vocabulary
            and any(p[:1].isupper() and p.lower() not in vocabulary for p in name.split("-"))
        ) or _owner_unknown(word, name, opens_sentence or after_possessive, vocabulary):
            names.append(word)
        previous = word.lower()
    # A law the corpus never names, by the name the question gives it: each of its words
    # may be in the corpus ("equality", "data", "protection", "act"), the law is not.
    names += [law for law in law_names(question) if law not in vocabulary]
    names += [
        m.group()
        for m in _DESIGNATION.finditer(question)
        if m[2] not in vocabulary and m[1].lower() not in _NOT_DESIGNATIONS
    ]
    return tuple(names)


def law_names(text: str, suffixes: bool = False) -> list[str]:
    """The laws `text` names, lower-cased: the capitalised words before a law's title
    ("Equality Act", "Data Protection Act", "National Artificial Intelligence Initiative
    Act"), with "of", "on", "and" or "for" between them ("Freedom of Information Act"). A word that
    opens a sentence is not part of the name. With `suffixes`, each name's shorter endings
    too ("initiative act"): what a question may call a law the corpus names in full. Read
    as words, not by a regex: no backtracking over a long text."""
    names = []
    run: list[str] = []
    for _, name, opens in _read_words(text):
        if name in _LAW_TITLES and not opens and run:
            while run and run[0].lower() in _NAME_JOINERS:
                run = run[1:]
            starts = range(len(run)) if suffixes else range(min(1, len(run)))
            names += [
                " ".join([*run[i:], name]).lower()
                for i in starts
                if run[i].lower() not in _NAME_JOINERS
            ]
            run = []
        elif opens or not (name[0].isupper() or (run and name in _NAME_JOINERS)):
            run = []
        else:
            run = [*run, name][-_LAW_NAME_WORDS:]
    return names


def _owner_unknown(word: str, name: str, exempt: bool, vocabulary: frozenset[str]) -> bool:
    """ "What's the Met's current policy on ...?": a capitalised word with a possessive is a
    name, an owner's, even when the corpus has the word in lower case ("met"); it is known
    only as the corpus writes it with its capital ("NIST's", "the Playbook's")."""
    return (
        word != name
        and not exempt
        and name[0].isupper()
        and name.lower() not in _NOT_NAMES
        and name not in vocabulary
        and name.upper() not in vocabulary
    )


def _read_words(text: str) -> Iterator[tuple[str, str, bool]]:
    """Each word of `text` as (word, name, opens a sentence). The name is the word without
    a possessive: "Playbook's" is the name "Playbook"."""
    previous_end = -1
    for match in _WORD.finditer(text):
        word = match.group()
        opens = previous_end < 0 or _ends_sentence(text[previous_end : match.start()])
        yield word, word.removesuffix("'s").removesuffix("\u2019s"), opens
        previous_end = match.end()


def _ends_sentence(gap: str) -> bool:
    """The text between two words closes a sentence: "... staff. How do we ...". Not a
    gap holding letters, as "e.g. NEC" or "U.S. DOJ" do (one-letter words are not words
    to `_WORD`)."""
    stripped = gap.rstrip()
    return stripped[-1:] in (".", "?", "!") and not any(c.isalpha() for c in stripped)


def measure_evidence(
    question: str,
    passages: list[Passage],
    keyword: KeywordIndex,
    vocabulary: frozenset[str],
    other_language: frozenset[str] = frozenset(),
) -> Evidence:
    """`other_language`: ids of passages not in the question's language, whose words cannot
    show whether the topic is covered (an English question about a French guide)."""
    names = unknown_names(question, vocabulary)
    question_terms = _content_terms(question)
    known = not question_terms or any(keyword.knows(t) for t in question_terms)
    if not passages:
        return Evidence(0.0, 0.0, names, known_terms=known)
    evidence_terms: set[str] = set()
    same_language_terms: set[str] = set()
    for passage in passages[:_EVIDENCE_PASSAGES]:
        found = terms(f"{passage.title} {passage.section} {passage.text}")
        evidence_terms.update(found)
        if passage.chunk_id not in other_language:
            same_language_terms.update(found)
    coverage = _weighted_share(question_terms, evidence_terms, keyword)
    topic = asked_topic(question)
    topic_coverage = (
        _weighted_share(_content_terms(topic), same_language_terms, keyword)
        if topic and same_language_terms
        else 1.0
    )
    return Evidence(
        max(p.dense_score for p in passages),
        round(coverage, 4),
        names,
        round(topic_coverage, 4),
        known_terms=known,
    )


def _weighted_share(wanted: set[str], found: set[str], keyword: KeywordIndex) -> float:
    """The share of `wanted` terms, weighted by rarity (IDF), that `found` holds."""
    weights = {t: keyword.idf(t) for t in wanted}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in found) / total if total else 1.0


def is_weak(evidence: Evidence, settings: AnswerSettings) -> bool:
    on_domain = evidence.domain_score is not None and evidence.domain_score >= 0
    return (
        evidence.dense_score
        < (settings.min_dense_score_on_domain if on_domain else settings.min_dense_score)
        or evidence.term_coverage < settings.min_term_coverage
        # Off-corpus words only: the domain model and the dense floor read such a question's
        # vector, which for a script MiniLM does not know lands anywhere (0.23-0.27 of cosine
        # and "on the subject" for "五项核心原则是什么？" over the sample corpus).
        or not evidence.known_terms
        or evidence.topic_coverage < settings.min_topic_coverage
        or bool(evidence.unknown_names)
        or (
            evidence.dense_score < settings.domain_dense_ceiling
            and any(
                score is not None and score < 0
                for score in (evidence.domain_score, evidence.near_domain_score)
            )
        )
    )


def expected_quantity_anchor(question: str) -> str | None:
    """What a quantity question counts ("euros", "budget", "time"), or None for other questions."""
    # Only what is asked: "Nobody can tell me how many algorithms we run. Does the playbook
    # say anything about that?" asks no number; the statement before it is context.
    question = _asking_part(question)
    if _HOW_OFTEN.search(question):
        return "frequency"
    if (match := _HOW_MANY.search(question)) and not _embedded(question, match.start()):
        following = _after_how_much(question)
        if money := next((w for w in following[:_AMOUNT_WINDOW] if w in _MONEY_VERBS), None):
            return money
        if not _asks_a_degree(following):
            return _OF.sub("", _counted(match["anchor"])).lower()
    if match := _NUMBER_OF.search(question):
        return match["anchor"].lower()
    if _HOW_LONG.search(question):
        return "time"
    if _WHICH_KINDS.search(question):
        return None
    if (match := _QUANTITY_NOUNS.search(question)) and _asked_for(question, match.start()):
        return "rate" if match["rate"] else (match["anchor"] or match["penalty"]).lower()
    return None


def _embedded(question: str, start: int) -> bool:
    """Whether the "how many" or "how much" at `start` is inside a question that another
    question word opens: "How should we set and write down how much risk the force is
    prepared to live with?" asks how to do it, not an amount."""
    sentence_start = max(question.rfind(mark, 0, start) for mark in ".?!") + 1
    words = question[sentence_start:start].lower().split()
    return (
        bool(words) and words[0] in _OPENING_QUESTION_WORDS and bool(_AUXILIARIES & set(words[1:3]))
    )


def _asked_for(question: str, start: int) -> bool:
    """Whether the quantity noun at `start` is what the question asks for: a question word
    shortly before it ("What is the annual budget ...?", "How big a fine ..."), not a
    mention ("How do we rank risks when there isn't the budget to fix all of them?", "Is
    there guidance on scaling the amount of checking ...?")."""
    # The match may start with its question word: "What false match rate ...".
    words = question[:start].lower().split()[-_ASKED_WITHIN:] + question[start:].lower().split()[:1]
    return any(w.strip(",;:'\"") in _QUESTION_WORDS for w in words)


def _asking_part(question: str) -> str:
    """The sentences of `question` that ask (end with "?"), or all of it when none does."""
    parts = _SENTENCE_BREAK.split(question.strip())
    asking = [p for p in parts if p.rstrip().endswith("?")]
    return " ".join(asking) if asking else question


def _after_how_much(question: str) -> list[str]:
    """The lower-cased words after the first "how much"; none when there is no "how much"."""
    words = [w.lower().strip(",;:?!.") for w in question.split()]
    for i in range(len(words) - 1):
        if words[i] == "how" and words[i + 1] == "much":
            return words[i + 2 :]
    return []


def _asks_a_degree(following: list[str]) -> bool:
    """ "How much should we lean on ...", "how much AI risk is acceptable", "how much of the
    reasoning should we give them", "how much emphasis does the guidance put on ...": no
    amount asked; "how much of our annual IT budget" is one (a `_QUANTITY_NOUNS` noun
    follows)."""
    return bool(following) and (
        following[0] in _MODALS
        or following[0] in _DEGREE_NOUNS
        or (
            following[0] == "of"
            and not _QUANTITY_NOUNS.search(" ".join(following[1:_DEGREE_WINDOW]))
        )
        or bool(_ACCEPTABILITY & set(following[:_DEGREE_WINDOW]))
    )


def _counted(anchor: str) -> str:
    """The counted words: up to the question's verb ("drones does INTERPOL's" -> "drones")."""
    words = anchor.split()
    for i, word in enumerate(words):
        if word.lower() in _ANCHOR_ENDS:
            return " ".join(words[:i]) or anchor
    return anchor


def states_quantity(question: str, sentences: list[str]) -> bool:
    """Whether some quoted sentence gives the quantity the question asks for."""
    anchor = expected_quantity_anchor(question)
    return anchor is None or gives_quantity(anchor, sentences)


def gives_quantity(anchor: str, sentences: list[str]) -> bool:
    """Whether some sentence gives a quantity of `anchor` (`expected_quantity_anchor`)."""
    anchor_terms = set(terms(anchor))
    # "How many main headings does the framework split the risk work into?": the officer
    # does not know what the document calls its parts ("four specific functions"), so any
    # figure counts them.
    counted = anchor.split()
    any_parts = bool(counted) and counted[-1] in _GENERIC_PARTS
    for sentence in sentences:
        if anchor == "frequency" and _CADENCE.search(sentence):
            return True
        if not NUMBER.search(sentence):
            continue
        if anchor == "rate" and not _RATE_FIGURE.search(sentence):
            continue
        if anchor in ("time", "frequency") and _TIME_UNITS.search(sentence):
            return True
        if any_parts or anchor_terms & set(terms(_without_compounds(sentence))):
            return True
    return False


def _without_compounds(sentence: str) -> str:
    """`sentence` without its hyphenated words: a "fine-tuned" model is not a fine. Only the
    anchor's words are read here (a "31-day" period still gives the figure, and a time
    question is settled by its units above); split on spaces, not by a regex."""
    return " ".join(w for w in sentence.split() if "-" not in w.strip(_QUOTES_AND_MARKS))


def expected_name_kind(question: str) -> str | None:
    """The kind of name a "which X does ...?" question asks for ("provider", "law"), or None.

    Read as words, not by a regex: no backtracking over a long question."""
    words = [w.strip(",;:?!.\"'()").lower() for w in question.split()]
    for i, word in enumerate(words):
        if word not in ("which", "what"):
            continue
        for j in range(i + 1, min(i + 2 + _KIND_MODIFIERS, len(words) - 1)):
            if words[j] in _ASKED_KINDS and words[j + 1] in _KIND_FOLLOWERS:
                return "law" if words[j] in _LAW_KINDS else words[j]
            if words[j] in _KIND_FOLLOWERS or words[j] in ("the", "a", "an", "of"):
                break
    return None


def states_name(question: str, sentences: list[str]) -> bool:
    """Whether some quoted sentence names what a "which vendor / law ..." question asks for:
    a capitalised word the question does not use (not one opening the sentence), with the
    kind's own word beside it ("The contract was awarded to Vendor B."), or, for a law, a
    law's title ("... the National AI Initiative Act of 2020")."""
    kind = expected_name_kind(question)
    if kind is None:
        return True
    asked = set(_WORD.findall(question))
    kind_forms = _KIND_FORMS.get(kind, frozenset())
    for sentence in sentences:
        names = set(_capitalised(sentence)) - asked
        if kind == "law":
            if names & _LAW_TITLES:
                return True
        elif names and kind_forms & {word.lower() for word in _WORD.findall(sentence)}:
            return True
    return False


# "Does the framework allow us to use emotion recognition in interviews?", "Are we permitted
# to ...?": a yes/no question on whether something is permitted needs a quoted sentence
# that permits or forbids (the sample policy's "it prohibits the use of the agency's name
# ... without written approval"); guidance on neighbouring risks does not decide it.
_YES_NO_OPENERS = frozenset(
    {"is", "are", "am", "does", "do", "can", "may", "will", "would", "could", "should"}
)
_PERMISSION_WORDS = frozenset(
    {
        "allow", "allows", "allowed", "permit", "permits", "permitted", "permissible",
        "forbid", "forbids", "forbidden", "prohibit", "prohibits", "prohibited", "ban",
        "bans", "banned", "lawful", "unlawful", "illegal",
    }
)  # fmt: skip
# "Does the framework allow for local adaptation?": "allow for" enables, it does not permit.
_ENABLES = frozenset({"allow", "allows"})
_PERMITS = re.compile(  # not "may not", "cannot": hedges, in any guidance
    r"\b(?:allow|permi[st]|forbid|prohibit|lawful|unlawful|illegal|authori[sz])\w*|"
    r"\bban(?:s|ned)?\b",
    re.IGNORECASE,
)


def asks_permission(question: str) -> bool:
    """Whether a sentence of the question asks, yes or no, whether something is permitted."""
    for part in _SENTENCE_BREAK.split(_asking_part(question)):
        words = [w.strip(",;:?!.\"'()").lower() for w in part.split()]
        if (
            words
            and words[0] in _YES_NO_OPENERS
            and any(
                word in _PERMISSION_WORDS
                and not (word in _ENABLES and words[i + 1 : i + 2] == ["for"])
                for i, word in enumerate(words)
            )
        ):
            return True
    return False


def states_permission(question: str, sentences: list[str]) -> bool:
    """Whether some quoted sentence permits or forbids, when the question asks whether it may."""
    return not asks_permission(question) or any(_PERMITS.search(s) for s in sentences)


# "Should footage analysed by AI be deleted after 31 days?": a question that puts a figure
# of its own to the documents (a period, a percentage) asks about that figure; a quoted
# sentence must hold it, or the documents do not decide it.
# A score on a scale is such a figure too: "What risk score out of 25 should trigger
# escalation?" (only after a scoring word: "3 out of 10 alerts" is a scene, not a scale).
_ASKED_FIGURE = re.compile(
    r"\b(\d[\d,.]*)\s*(?:%|per\s?cent\b|(?:second|minute|hour|day|week|month|year)s?\b)"
    r"|\b(?:score|scored|rating|rated|points?|marks?)\s+out\s+of\s+(\d[\d,.]*)",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"\d[\d,.]*")


def states_figure(question: str, sentences: list[str]) -> bool:
    """Whether some quoted sentence holds each figure the question puts forward."""
    asked = {(m[1] or m[2]).rstrip(".,") for m in _ASKED_FIGURE.finditer(_asking_part(question))}
    found = {f.rstrip(".,") for s in sentences for f in _FIGURE.findall(s)}
    return asked <= found


# "What's the legal threshold for a stop-and-search when a predictive tool flags someone?":
# a threshold asked for is answered only by a sentence that sets one, with a figure or the
# word itself; sentences on stop-and-search statistics do not. Asked: the word within five
# words after "what" or "which" in the asking clause, not "What do we do when the score
# passes the threshold?". Read by words, not a regex: no backtracking.
_THRESHOLD_WORDS = frozenset({"threshold", "thresholds", "cut-off", "cut-offs", "cutoff"})
_SETS_THRESHOLD = re.compile(r"\b(?:threshold|cut-?off)s?\b|\b\d", re.I)  # not "P2"


def asks_threshold(question: str) -> bool:
    """Whether the question asks what a threshold or cut-off is."""
    words = [w.strip("?.,;:'\"").lower() for w in _asking_part(question).split()]
    return any(
        word in ("what", "which", "what's") and _THRESHOLD_WORDS & set(words[i + 1 : i + 6])
        for i, word in enumerate(words)
    )


def states_threshold(question: str, sentences: list[str]) -> bool:
    """Whether some quoted sentence sets a threshold, when the question asks for one."""
    return not asks_threshold(question) or any(_SETS_THRESHOLD.search(s) for s in sentences)


# "What's the deadline for having our AI inventory finished under the framework?": a
# deadline asked for is answered by a sentence that sets a time limit ("before deployment",
# "within three months", "every two years", "by 31 March"), not by any date ("the National
# AI Initiative Act of 2020"). No nested quantifiers.
_ASKS_DEADLINE = re.compile(r"\bdeadlines?\b|\bby when\b|\bby what date\b|\bdue date\b", re.I)
_SETS_DEADLINE = re.compile(
    r"\b(?:before|until|within|no later than|at the latest|prior to|every|deadlines?)\b"
    r"|\bdue\b(?!\s+to\b)"  # not "due to drift"
    rf"|\bby\s+(?:the\s+)?(?:end\s+of\s+)?(?:\d|{'|'.join(_MONTH_NAMES)})",
    re.I,
)


def states_deadline(question: str, sentences: list[str]) -> bool:
    """Whether some quoted sentence sets a time limit, when the question asks a deadline."""
    return not _ASKS_DEADLINE.search(_asking_part(question)) or any(
        _SETS_DEADLINE.search(s) for s in sentences
    )


def states_what_is_asked(question: str, sentences: list[str], english: bool = True) -> bool:
    """Whether the quoted sentences give the kind of answer the question asks for, beyond a
    quantity (`states_quantity`): the name of a kind (`states_name`) and whether something
    is permitted (`states_permission`), a threshold (`states_threshold`) and a time limit
    (`states_deadline`), read in English wording only, and a figure the question puts
    forward (`states_figure`), in any language."""
    if english and not (
        states_name(question, sentences)
        and states_permission(question, sentences)
        and states_threshold(question, sentences)
        and states_deadline(question, sentences)
    ):
        return False
    return states_figure(question, sentences)


def _capitalised(sentence: str) -> list[str]:
    """Capitalised words and acronyms of a sentence, except one that opens it."""
    return [name for _, name, opens in _read_words(sentence) if name[0].isupper() and not opens]
