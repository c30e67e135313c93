"""Sentence vectors for small-to-big retrieval: a chunk is found by its best sentence.

A chunk's single vector blurs its 180 word pieces together, so a question that one of
its sentences answers is often closer to some other chunk's average. Scoring each chunk
by its best sentence, then returning the whole chunk, raised page-level hit@5 on
`evals/sets/pdfs.tune.jsonl` from 0.68 to 0.77 when fused with the chunk vectors and BM25
(`assistant/qa/retrieve.py`).

Questions inside the documents ("Did your organization ...?", checklists) are kept out:
they are phrased like the officer's question but never answer it.

With `ingest.sentence_vectors` in_context, a sentence's vector is pooled from its chunk's
own encoding instead (late chunking, `Embedder.embed_in_context`): the sentence read in its
passage's context, at no encoding cost beyond the chunk's. Measured 2026-12-05, it helps
`pdfs.tune` (hit@5 0.911 -> 0.933) and `sample-blind.heldout` (0.849 -> 0.909) but costs
`pdfs.heldout` (0.798 -> 0.774, MRR@10 0.651 -> 0.609), so it is not the default. A chunk
the build did not encode (a store whose sentence index was lost) has its sentences encoded
alone.

Stored per generation beside the keyword index: the vectors as float16 (384 x 2 bytes a
sentence), the owning chunk of each row, and a key per row so that the next refresh
re-encodes only sentences it has not seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np

from ingest.sentences import split_units

_VECTORS_FILE = "sentence_vectors.npy"
_KEYS_FILE = "sentence_keys.npy"
_OWNERS_FILE = "sentence_owners.json"  # written last: its presence marks a complete index
_MIN_WORDS = 3
# The sentence index version: bump when what is indexed changes, so old ones are rebuilt.
SENTENCE_INDEX_VERSION = 1

log = logging.getLogger(__name__)

Encode = Callable[[list[str]], np.ndarray]


class SentenceIndexDamagedError(ValueError):
    """The saved sentence index cannot be read; rebuild it from the chunks."""


def _key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def indexed_spans(text: str) -> list[tuple[int, int]]:
    """Where in `text` the sentences that can answer are: statements of a few words or more."""
    return [
        (u.start, u.end)
        for u in split_units(text)
        if len(u.text.split()) >= _MIN_WORDS and not u.text.rstrip().endswith("?")
    ]


def indexed_sentences(text: str) -> list[str]:
    """The sentences of a chunk that can answer, in the order of `indexed_spans`."""
    return [text[start:end] for start, end in indexed_spans(text)]


class SentenceIndex:
    """Rows of (owning chunk, sentence vector); `best` scores chunks by their best row."""

    def __init__(self, chunk_ids: list[str], owners: np.ndarray, keys: np.ndarray, vectors):
        self.chunk_ids = chunk_ids
        self.owners = owners
        self.keys = keys
        self.vectors = vectors

    @classmethod
    def build(
        cls,
        chunks: Iterable[tuple[str, str]],
        encode: Encode,
        previous: SentenceIndex | None = None,
        in_context: Mapping[str, np.ndarray] | None = None,
    ) -> SentenceIndex:
        """Index `(chunk_id, text)` pairs.

        A chunk in `in_context` takes its rows from there: its sentences' vectors pooled from
        its own encoding (`Embedder.embed_in_context`), one row per `indexed_spans` entry.
        Other rows are taken from `previous` by their sentence, and only the rest encoded.
        """
        in_context = in_context or {}
        chunk_ids: list[str] = []
        owners: list[int] = []
        texts: list[str] = []
        given: dict[int, np.ndarray] = {}  # row -> its in-context vector
        for chunk_id, text in chunks:
            sentences = indexed_sentences(text)
            pooled = in_context.get(chunk_id)
            if pooled is not None and len(pooled) == len(sentences):
                given.update(
                    zip(range(len(texts), len(texts) + len(sentences)), pooled, strict=True)
                )
            for sentence in sentences:
                owners.append(len(chunk_ids))
                texts.append(sentence)
            chunk_ids.append(chunk_id)
        keys = np.array([_key(t) for t in texts], dtype=np.uint64)
        vectors = np.zeros((len(texts), 384), dtype=np.float16)
        known = previous.rows_by_key() if previous is not None else {}
        missing: dict[int, list[int]] = {}  # key -> its rows: a sentence is encoded once
        for i, k in enumerate(keys.tolist()):
            if i in given:
                vectors[i] = given[i]
            elif k in known:
                vectors[i] = previous.vectors[known[k]]
            else:
                missing.setdefault(k, []).append(i)
        if missing:
            # Chunks overlap, so a sentence at a boundary is in two of them (6% of NIST's
            # sentences, 21% of the Playbook's): one encoding serves every row that holds it.
            firsts = [rows[0] for rows in missing.values()]
            encoded = encode([texts[i] for i in firsts]).astype(np.float16)
            for vector, rows in zip(encoded, missing.values(), strict=True):
                vectors[rows] = vector
        log.info(
            "sentence index: %d sentences, %d pooled in context, %d encoded",
            len(texts),
            len(given),
            len(missing),
        )
        return cls(chunk_ids, np.array(owners, dtype=np.int32), keys, vectors)

    def rows_by_key(self) -> dict[int, int]:
        return {k: i for i, k in enumerate(self.keys.tolist())}

    def __len__(self) -> int:
        return len(self.owners)

    def best(self, query_vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The `n` chunks whose best sentence is closest to the query, best first."""
        if not len(self.owners):
            return []
        similarities = self.vectors @ query_vector.astype(np.float16)
        per_chunk = np.full(len(self.chunk_ids), -1.0, dtype=np.float32)
        np.maximum.at(per_chunk, self.owners, similarities.astype(np.float32))
        n = min(n, len(per_chunk))
        top = np.argpartition(-per_chunk, n - 1)[:n]
        top = top[np.argsort(-per_chunk[top])]
        return [(self.chunk_ids[i], float(per_chunk[i])) for i in top if per_chunk[i] > -1.0]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / _VECTORS_FILE, self.vectors)
        np.save(folder / _KEYS_FILE, self.keys)
        (folder / _OWNERS_FILE).write_text(
            json.dumps(
                {
                    "version": SENTENCE_INDEX_VERSION,
                    "chunk_ids": self.chunk_ids,
                    "owners": self.owners.tolist(),
                }
            )
        )

    @classmethod
    def load(cls, folder: Path) -> SentenceIndex | None:
        """The saved index; None when there is none, or one of an older version."""
        if not (folder / _OWNERS_FILE).exists():
            return None
        try:
            meta = json.loads((folder / _OWNERS_FILE).read_text())
            if meta.get("version") != SENTENCE_INDEX_VERSION:
                return None
            vectors = np.load(folder / _VECTORS_FILE, allow_pickle=False)
            keys = np.load(folder / _KEYS_FILE, allow_pickle=False)
            owners = np.array(meta["owners"], dtype=np.int32)
            chunk_ids = list(meta["chunk_ids"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise SentenceIndexDamagedError(
                f"the sentence index in {folder} is damaged ({err.__class__.__name__}: {err})"
            ) from None
        if not (len(vectors) == len(keys) == len(owners)) or (
            len(owners) and int(owners.max()) >= len(chunk_ids)
        ):
            raise SentenceIndexDamagedError(
                f"the sentence index in {folder} is damaged (its files disagree on the count)"
            )
        return cls(chunk_ids, owners, keys, vectors)
