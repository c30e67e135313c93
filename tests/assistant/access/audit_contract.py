"""The audit trail's JSON keys, in order, as docs/cli.md's `audit` section documents them.

Keys are only ever added (at the end, before the chain fields), never renamed or removed.
"""

CHAIN_KEYS = ["seq", "prev", "hash"]
QUESTION_KEYS = [
    "time",
    "event",
    "user",
    "question",
    "question_sha256",
    "sources",
    "refused",
    "latency_ms",
    "answer_id",
    "question_hmac",
    "answerer",
    "model",
    "model_version",
    "generation",
    "embedding_model",
    "chunk_ids",
    "sentences_verified",
    "conversation",
    "purpose",
    *CHAIN_KEYS,
]
CORPUS_KEYS = [
    "time",
    "event",
    "user",
    "action",
    "source",
    "sha256_before",
    "sha256_after",
    *CHAIN_KEYS,
]
OVERSIGHT_KEYS = ["time", "event", "user", "answer_id", "verdict", "reason", *CHAIN_KEYS]
PURPOSE_KEYS = ["time", "event", "user", "conversation", "purpose", *CHAIN_KEYS]
ACCOUNT_KEYS = ["time", "event", "user", "action", "account", "role", *CHAIN_KEYS]
SIGN_IN_KEYS = ["time", "event", "user", "outcome", "client", "method", *CHAIN_KEYS]
