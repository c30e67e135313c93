"""A content-keyed cache of passage vectors, shared by every store that names it.

Off by default (`ingest.vector_cache` is empty). Set, a rebuilt or second store of the same
text, such as `ingest --rebuild`, an eval store, or the many stores of a test session, reads
the vectors instead of encoding again. A refresh already reuses its previous generation's
vectors; this reaches across stores.

Only corpus text is cached: passages, their sentences, and the quotable sentences the app
embeds ahead of questions. Never a question: the cache is a file on disk, and officers'
questions are kept out of files unless the audit settings say so.

One SQLite file, rows (model, SHA-256 of the text) -> float32 bytes. SQLite, not LangChain's
`CacheBackedEmbeddings` with a `LocalFileStore`: that store writes one JSON file per text,
not atomically, so a `kill -9` mid-write leaves a truncated file that breaks later reads, and
a sample corpus is about 6,000 files. A transaction here is all or nothing, several
processes can share the file (WAL, busy timeout), and a vector is 1,536 bytes.

The cache can only speed things up: when it cannot be read or written it is skipped with one
warning and the texts are encoded. Past `MAX_ROWS` vectors it starts over.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import numpy as np

MAX_ROWS = 400_000  # ~650 MB of 384-d vectors; past it the cache starts over
_SQL_VARIABLES = 500  # keys per lookup: below SQLite's smallest default limit (999)
_BUSY_MS = 30_000

log = logging.getLogger(__name__)
_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(path: Path, err: Exception) -> None:
    with _warned_lock:
        if str(path) in _warned:
            return
        _warned.add(str(path))
    log.warning("the vector cache %s is not used (%s); texts are encoded instead", path, err)


class VectorCache:
    """Vectors of one model, `dim` wide, in the SQLite file at `path`."""

    def __init__(self, path: Path, model: str, dim: int) -> None:
        self.path = Path(path)
        self.model = model
        self.dim = dim
        self._created = False

    def _connect(self) -> sqlite3.Connection:
        if not self._created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000)  # the busy timeout
        if not self._created:  # WAL and the table persist in the file: once per cache
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS vectors "
                "(model TEXT NOT NULL, key BLOB NOT NULL, vector BLOB NOT NULL, "
                "PRIMARY KEY (model, key)) WITHOUT ROWID"
            )
            self._created = True
        return connection

    def _key(self, text: str) -> bytes:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()

    def encode(self, texts: list[str], encoder: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """Vectors of `texts` in order: cached ones read, the rest encoded and stored."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        keys = [self._key(t) for t in texts]
        found = self._read(keys)
        missing = [i for i, key in enumerate(keys) if key not in found]
        if missing:
            fresh = np.asarray(encoder([texts[i] for i in missing]), dtype=np.float32)
            new = {keys[i]: vector for i, vector in zip(missing, fresh, strict=True)}
            found.update(new)
            self._write(new)
        return np.stack([found[key] for key in keys])

    def get(self, texts: list[str]) -> list[np.ndarray | None]:
        """The cached vector of each text, None where there is none."""
        keys = [self._key(t) for t in texts]
        found = self._read(keys)
        return [found.get(key) for key in keys]

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        self._write({self._key(t): v for t, v in zip(texts, vectors, strict=True)})

    def _read(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        try:
            with self._closing() as connection:
                for start in range(0, len(unique), _SQL_VARIABLES):
                    batch = unique[start : start + _SQL_VARIABLES]
                    rows = connection.execute(
                        "SELECT key, vector FROM vectors WHERE model = ? AND key IN "
                        f"({','.join('?' * len(batch))})",
                        [self.model, *batch],
                    ).fetchall()
                    for key, blob in rows:
                        if len(blob) == self.dim * 4:  # anything else is ignored, re-encoded
                            found[key] = np.frombuffer(blob, dtype=np.float32)
        except (sqlite3.Error, OSError) as err:
            _warn_once(self.path, err)
            return {}
        return found

    def _write(self, vectors: dict[bytes, np.ndarray]) -> None:
        try:
            with self._closing() as connection, connection:
                (count,) = connection.execute("SELECT count(*) FROM vectors").fetchone()
                if count + len(vectors) > MAX_ROWS:
                    connection.execute("DELETE FROM vectors")
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [
                        (self.model, key, v.astype(np.float32).tobytes())
                        for key, v in vectors.items()
                    ],
                )
        except (sqlite3.Error, OSError) as err:
            _warn_once(self.path, err)

    def _closing(self) -> closing[sqlite3.Connection]:
        return closing(self._connect())


def cached(
    path: Path | None, model: str, dim: int, encoder: Callable[[list[str]], np.ndarray]
) -> Callable[[list[str]], np.ndarray]:
    """`encoder` itself when no cache is set, else one that reads and fills the cache."""
    if path is None or not str(path):
        return encoder
    cache = VectorCache(path, model, dim)
    return lambda texts: cache.encode(texts, encoder)
