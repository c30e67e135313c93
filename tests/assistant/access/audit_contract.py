"""The audit trail's JSON keys, in order, as docs/cli.md's `audit` section documents them."""

QUESTION_KEYS = [
    "time",
    "event",
    "user",
    "question",
    "question_sha256",
    "sources",
    "refused",
    "latency_ms",
]
CORPUS_KEYS = ["time", "event", "user", "action", "source", "sha256_before", "sha256_after"]
