"""The keyword (BM25) side of hybrid retrieval, built per generation beside the Chroma one.

bm25s rather than LangChain's BM25Retriever: the latter wraps rank_bm25, which scores every
document in Python on each query (tens of ms at 10k chunks); bm25s uses sparse matrices.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_IDS_FILE = "chunk_ids.json"
_DF_FILE = "document_frequencies.json"
_VERSION_FILE = "tokenizer_version.txt"
_LANGUAGES_FILE = "chunk_languages.json"
# Bump when `terms` changes: an index built with other terms is rebuilt on load.
# 3: per-language analysis (fr, es, ar) and diacritics folded ("Naïve" == "Naive").
# 4: British spellings read as American ("organisation" == "organization").
TOKENIZER_VERSION = "4"
# Snowball stemmers (PyStemmer) for the four working languages; others are analysed as English.
_STEMMERS = {"en": "english", "fr": "french", "es": "spanish", "ar": "arabic"}


@lru_cache(maxsize=len(_STEMMERS))
def _stemmer(language: str = "en"):
    import Stemmer

    return Stemmer.Stemmer(_STEMMERS.get(language, "english"))


# bm25s's English list (33 words, Lucene's) keeps question words; questions are full of them.
_QUESTION_WORDS = (
    "what which who whom whose when where why how do does did doing done have has had having "
    "can could should would shall may might must am been being i me my we our us you your he "
    "she him her its them those from about any all also than so up out some each other only "
    "own same very just over under again further once here both few more most"
)


# bm25s's French and Spanish lists are function words; questions add their own words.
_QUESTION_WORDS_FR = (
    "quel quelle quels quelles qui que quoi quand comment pourquoi combien est-ce sont peut "
    "doit doivent fait faire selon dont lequel laquelle lesquels lesquelles aux ces cette"
)
_QUESTION_WORDS_ES = (
    "qué que cuál cuáles quién quiénes cuándo cómo dónde cuánto cuántos cuántas cuánta por "
    "son puede deben debe hace según cuyo cuya"
)
# PyStemmer ships no stop words; these are the Arabic function and question words.
_STOPWORDS_AR = (
    "في من على إلى الى عن مع هو هي هم ما ماذا لماذا كيف متى أين اين هل كم أي اي التي الذي "
    "الذين ذلك تلك هذا هذه هؤلاء أو او و ثم لا لم لن قد كان كانت يكون تكون أن ان إن بين "
    "عند كل بعض غير حول أيضا ايضا وفق وفقا حسب يجب ينبغي يمكن تم"
)


@lru_cache(maxsize=len(_STEMMERS))
def _stopwords(language: str = "en") -> frozenset[str]:
    from bm25s import stopwords

    match language:
        case "fr":
            words = set(stopwords.STOPWORDS_FRENCH) | set(_QUESTION_WORDS_FR.split())
        case "es":
            words = set(stopwords.STOPWORDS_SPANISH) | set(_QUESTION_WORDS_ES.split())
        case "ar":
            words = set(_STOPWORDS_AR.split())
        case _:
            words = set(stopwords.STOPWORDS_EN) | set(_QUESTION_WORDS.split())
    return frozenset(words | {fold_diacritics(w) for w in words})


def fold_diacritics(word: str) -> str:
    """Latin letters without their accents ("naïve" -> "naive", "política" -> "politica").

    Applied before stemming, so that a question typed without accents, as officers often
    do, reaches the same stems (the Snowball stemmers handle unaccented words as well).
    """
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _american_spellings() -> Mapping[str, str]:
    """British English word -> its American spelling (the `eng` package's 1,878 pairs)."""
    from eng import Fixer, Target

    return Fixer(target=Target.US, content="").words


def american_spelling(word: str) -> str:
    """`word` as American English spells it ("organisation" -> "organization", "analyse"
    -> "analyze"), else `word`. Officers write British English, the NIST documents American
    and the Toolkit British: unfolded, their stems differ ("organis" against "organiz"), so
    a question missed the keyword hits of every passage spelled the other way and counted
    its own words as missing evidence ("analyse" made a question look out of scope)."""
    return _american_spellings().get(word, word)


def stem_words(words: list[str]) -> list[str]:
    """The English stems `terms` uses, for words already split and lower-cased."""
    return _stemmer().stemWords(words)


def terms(text: str, language: str = "en") -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms: the one tokenization used everywhere.

    `language` picks the stemmer and stop words (en, fr, es, ar; anything else is English).
    Arabic keeps its marks: its stemmer normalises them itself.
    """
    stop = _stopwords(language)
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    if language == "ar":
        return _stemmer(language).stemWords(words)
    # Folded before stemming too: "données" and "donnees" must reach the same stem.
    folded = [fold_diacritics(w) for w in words]
    if language not in _STEMMERS or language == "en":
        folded = [american_spelling(w) for w in folded]
    return _stemmer(language).stemWords(folded)


class KeywordIndexDamagedError(ValueError):
    """The saved index cannot be read (a truncated file, say); rebuild it from the chunks."""


class KeywordIndex:
    """BM25 over chunk texts, plus document frequencies for weighting question terms."""

    def __init__(
        self,
        ids: list[str],
        retriever: bm25s.BM25 | None,
        df: dict[str, int],
        languages: dict[str, str] | None = None,
    ) -> None:
        self.ids = ids
        self._retriever = retriever
        self._df = df
        self._vocab = set(retriever.vocab_dict) if retriever is not None else set()
        # Chunk id -> language, for chunks not in English (most are: kept sparse).
        self.languages = languages or {}

    def language_of(self, chunk_id: str) -> str:
        return self.languages.get(chunk_id, "en")

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str] | tuple[str, str, str]]) -> KeywordIndex:
        """Index (id, text) or (id, text, language) rows.

        Each chunk is analysed in its own language: the manifest's or its document's when
        given, else detected from the text (fast, and right for a document in one language).
        """
        from ingest.language import detect_language

        ids: list[str] = []
        tokenized: list[list[str]] = []
        df: Counter[str] = Counter()
        languages: dict[str, str] = {}
        for row in chunks:
            chunk_id, text = row[0], row[1]
            language = (row[2] if len(row) > 2 else "") or detect_language(text)
            tokens = terms(text, language)
            ids.append(chunk_id)
            tokenized.append(tokens)
            df.update(set(tokens))
            if language != "en":
                languages[chunk_id] = language
        if not ids:
            return cls([], None, {})
        retriever = bm25s.BM25()
        retriever.index(tokenized, show_progress=False)
        return cls(ids, retriever, dict(df), languages)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)
        (folder / _DF_FILE).write_text(json.dumps(self._df))
        (folder / _LANGUAGES_FILE).write_text(json.dumps(self.languages))
        (folder / _VERSION_FILE).write_text(TOKENIZER_VERSION)
        # Written last: its presence marks a complete index.
        (folder / _IDS_FILE).write_text(json.dumps(self.ids))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The saved index; None when there is none (or an outdated one) to load.

        KeywordIndexDamagedError when its files cannot be read: the caller rebuilds it from
        the chunks, which Chroma holds (`rebuild` below).
        """
        version_file = folder / _VERSION_FILE
        if not (folder / _IDS_FILE).exists() or not version_file.exists():
            return None
        try:
            if version_file.read_text().strip() != TOKENIZER_VERSION:
                return None
            ids = json.loads((folder / _IDS_FILE).read_text())
            df = json.loads((folder / _DF_FILE).read_text())
            languages = json.loads((folder / _LANGUAGES_FILE).read_text())
            if not all(isinstance(v, dict) for v in (df, languages)) or not isinstance(ids, list):
                raise ValueError("unexpected content")
            retriever = bm25s.BM25.load(str(folder), show_progress=False) if ids else None
        except (OSError, ValueError, KeyError, TypeError, EOFError) as err:
            raise KeywordIndexDamagedError(
                f"the keyword index in {folder} is damaged ({err.__class__.__name__}: {err})"
            ) from None
        if retriever is not None and len(ids) != retriever.scores["num_docs"]:
            raise KeywordIndexDamagedError(
                f"the keyword index in {folder} is damaged (its files disagree on the count)"
            )
        return cls(ids, retriever, df, languages)

    def __len__(self) -> int:
        return len(self.ids)

    def knows(self, term: str) -> bool:
        """Whether any chunk holds `term` (a `terms` output)."""
        return term in self._vocab

    def idf(self, term: str) -> float:
        n = max(1, len(self.ids))
        return math.log(1 + (n - self._df.get(term, 0) + 0.5) / (self._df.get(term, 0) + 0.5))

    def search(self, query: str, k: int, language: str = "en") -> list[tuple[str, float]]:
        """Top chunks as (id, BM25 score), best first; empty when no query term is known.

        The query is analysed in `language`, so it matches the chunks analysed in it.
        """
        query_terms = [t for t in terms(query, language) if t in self._vocab]
        if not query_terms or self._retriever is None:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve(
            [query_terms], k=k, show_progress=False, n_threads=1
        )
        return [
            (self.ids[int(i)], float(s))
            for i, s in zip(np.asarray(docs)[0], np.asarray(scores)[0], strict=True)
            if s > 0
        ]
