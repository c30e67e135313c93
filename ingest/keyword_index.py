"""The keyword (BM25) side of hybrid retrieval, built per generation beside the Chroma one.

bm25s rather than LangChain's BM25Retriever: the latter wraps rank_bm25, which scores every
document in Python on each query (tens of ms at 10k chunks); bm25s uses sparse matrices.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_IDS_FILE = "chunk_ids.json"
_DF_FILE = "document_frequencies.json"
_VERSION_FILE = "tokenizer_version.txt"
# Bump when `terms` changes: an index built with other terms is rebuilt on load.
TOKENIZER_VERSION = "2"


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


# bm25s's English list (33 words, Lucene's) keeps question words; questions are full of them.
_QUESTION_WORDS = (
    "what which who whom whose when where why how do does did doing done have has had having "
    "can could should would shall may might must am been being i me my we our us you your he "
    "she him her its them those from about any all also than so up out some each other only "
    "own same very just over under again further once here both few more most"
)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | frozenset(_QUESTION_WORDS.split())


def stem_words(words: list[str]) -> list[str]:
    """The stems `terms` uses, for words already split and lower-cased."""
    return _stemmer().stemWords(words)


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms: the one tokenization used everywhere."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _stopwords()]
    return _stemmer().stemWords(words)


class KeywordIndexDamagedError(ValueError):
    """The saved index cannot be read (a truncated file, say); rebuild it from the chunks."""


class KeywordIndex:
    """BM25 over chunk texts, plus document frequencies for weighting question terms."""

    def __init__(self, ids: list[str], retriever: bm25s.BM25 | None, df: dict[str, int]) -> None:
        self.ids = ids
        self._retriever = retriever
        self._df = df
        self._vocab = set(retriever.vocab_dict) if retriever is not None else set()

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str]]) -> KeywordIndex:
        ids: list[str] = []
        tokenized: list[list[str]] = []
        df: Counter[str] = Counter()
        for chunk_id, text in chunks:
            tokens = terms(text)
            ids.append(chunk_id)
            tokenized.append(tokens)
            df.update(set(tokens))
        if not ids:
            return cls([], None, {})
        retriever = bm25s.BM25()
        retriever.index(tokenized, show_progress=False)
        return cls(ids, retriever, dict(df))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)
        (folder / _DF_FILE).write_text(json.dumps(self._df))
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
            if not isinstance(ids, list) or not isinstance(df, dict):
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
        return cls(ids, retriever, df)

    def __len__(self) -> int:
        return len(self.ids)

    def idf(self, term: str) -> float:
        n = max(1, len(self.ids))
        return math.log(1 + (n - self._df.get(term, 0) + 0.5) / (self._df.get(term, 0) + 0.5))

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Top chunks as (id, BM25 score), best first; empty when no query term is known."""
        query_terms = [t for t in terms(query) if t in self._vocab]
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
