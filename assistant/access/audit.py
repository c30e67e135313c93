"""The audit trail: who asked what, who changed the corpus, who signed in, who overruled an
answer, and why, one JSON object a line, in two hash-chained streams.

- questions (`audit.file`, default `audit.jsonl`): one `question` event per answer shown.
  Anyone who can ask can fill it, so it is rotated by size and bounded by `audit.keep`.
- governance (`audit.governance.jsonl` beside it): `corpus`, `account`, `sign_in`,
  `oversight` and `purpose` events. Questions never rotate these away; rotated files are
  removed by age only (`audit.retention_days`).

Each stream is only ever appended to (one `write` of one line per event, then flush and
fsync), holds a thread lock and a file lock while appending (the app answers in worker
threads and `ingest` may run at the shell meanwhile), and is chained: `assistant.access.
audit_chain` has the details, `assistant.access.audit_verify` checks them. The files are
created 0600: questions can be operationally sensitive.

An audit that cannot be written must not cost an officer the answer: the failure is
reported once on stderr, and the app carries on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from filelock import Timeout

from assistant.access.audit_chain import (
    AuditConfigError,
    Stream,
    load_key,
    parse_line,
    parse_time,
)
from assistant.access.audit_verify import StreamReport, verify_stream
from assistant.access.secrets import question_hash
from assistant.qa.models import Answer, AnswerTrace
from ingest.models import RefreshReport
from ingest.settings import AuditSettings, Settings

__all__ = ["AuditConfigError", "AuditLog", "governance_path", "stored_hashes", "text_sha256"]

CORPUS_ACTIONS = ("add", "replace", "remove", "refresh", "upload", "label")  # label: title/version
ACCOUNT_ACTIONS = ("add", "replace", "remove")
SIGN_IN_OUTCOMES = ("ok", "failed", "locked")
VERDICTS = ("disregarded", "wrong")
ANONYMOUS = "anonymous"
MAX_REASON_CHARS = 1000
MAX_PURPOSE_CHARS = 300
# An answer id or a conversation id from a client: short, and nothing that could forge a line.
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def governance_path(questions: Path) -> Path:
    """`audit.jsonl` -> `audit.governance.jsonl`: the stream questions never rotate away."""
    return questions.with_name(f"{questions.stem}.governance{questions.suffix or '.jsonl'}")


def _clean_text(text: str | None, limit: int, what: str, cut: bool = False) -> str:
    """Control characters out, whitespace folded; too long is refused, or `cut` short."""
    cleaned = " ".join(_CONTROL.sub(" ", (text or "")[: limit * 4]).split())
    if cut:
        return cleaned[:limit]
    if len(cleaned) > limit:
        raise ValueError(f"the {what} is {len(cleaned):,} characters; the limit is {limit:,}")
    return cleaned


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(f"{what} must be 1 to 64 letters, digits or . _ : -, not {value!r}")
    return value


class AuditLog:
    """Append events to the two audit streams, read them back, verify and export them."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.path = Path(settings.file)
        self.governance_path = governance_path(self.path)
        key = load_key(settings.hmac_key_file, self.path.parent)
        common = {
            "max_bytes": settings.max_bytes,
            "retention_days": settings.retention_days,
            "key": key,
        }
        self.questions = Stream("questions", self.path, keep=settings.keep, **common)
        self.governance = Stream("governance", self.governance_path, keep=None, **common)
        self._failing = False  # warn once per run of failures, not once per question

    @property
    def streams(self) -> tuple[Stream, Stream]:
        return (self.questions, self.governance)

    # -- question events ----------------------------------------------------------------------
    def question(
        self,
        user: str | None,
        answer: Answer,
        latency_ms: float,
        *,
        conversation: str | None = None,
        purpose: str | None = None,
    ) -> str | None:
        """Record one answered (or refused) question; its answer id, or None if not written.

        The answer id is what an oversight event names (`record_oversight`).
        """
        try:
            keyed = question_hash(answer.question, self.settings)
        except OSError as err:
            self._warn(err)
            return None
        trace = answer.trace or AnswerTrace()
        answer_id = uuid.uuid4().hex
        record: dict = {"time": _now(), "event": "question", "user": user or ANONYMOUS}
        if self.settings.store_questions:
            record["question"] = answer.question
        # The plain hash of a short question can be guessed: kept only beside the text itself.
        record["question_sha256"] = (
            text_sha256(answer.question) if self.settings.store_questions else None
        )
        record["sources"] = [{"source": c.source, "page": c.page} for c in answer.citations]
        record["refused"] = answer.refused
        record["latency_ms"] = round(float(latency_ms), 1)
        record |= {
            "answer_id": answer_id,
            "question_hmac": keyed,
            "answerer": answer.answerer,
            "model": trace.model,
            "model_version": trace.model_version,
            "generation": trace.generation,
            "embedding_model": trace.embedding_model,
            "chunk_ids": list(trace.chunk_ids),
            "sentences_verified": trace.sentences_verified,
            "conversation": _check_id(conversation, "conversation") if conversation else None,
            "purpose": _clean_text(purpose, MAX_PURPOSE_CHARS, "purpose") or None,
        }
        return answer_id if self._append(self.questions, record) else None

    # -- governance events --------------------------------------------------------------------
    def corpus_change(
        self,
        user: str,
        action: str,
        source: str,
        sha256_before: str | None,
        sha256_after: str | None,
    ) -> None:
        """Record one change to the corpus; a hash is None where there was no document."""
        if action not in CORPUS_ACTIONS:
            raise ValueError(f"action must be one of {CORPUS_ACTIONS}, not {action!r}")
        self._append(
            self.governance,
            {
                "time": _now(),
                "event": "corpus",
                "user": user,
                "action": action,
                "source": source,
                "sha256_before": sha256_before,
                "sha256_after": sha256_after,
            },
        )

    def refresh_changes(self, user: str, report: RefreshReport) -> int:
        """One corpus event per document a refresh added, replaced or removed, with the
        SHA-256 before and after that the refresh itself saw; the count."""
        changes = (
            [("add", s) for s in report.added]
            + [("replace", s) for s in report.updated]
            + [("remove", s) for s in report.removed]
        )
        for action, source in changes:
            before, after = report.sha256_changes.get(source, (None, None))
            self.corpus_change(user, action, source, before, after)
        return len(changes)

    def account_change(self, user: str, action: str, account: str, role: str | None) -> None:
        """`user` added, replaced or removed the account `account`."""
        if action not in ACCOUNT_ACTIONS:
            raise ValueError(f"action must be one of {ACCOUNT_ACTIONS}, not {action!r}")
        record = {"time": _now(), "event": "account", "user": user, "action": action}
        self._append(self.governance, record | {"account": account, "role": role})

    def sign_in(self, user: str, outcome: str, client: str | None, method: str) -> None:
        """A sign-in attempt: `outcome` ok, failed or locked; `method` login or staff."""
        if outcome not in SIGN_IN_OUTCOMES:
            raise ValueError(f"outcome must be one of {SIGN_IN_OUTCOMES}, not {outcome!r}")
        self._append(
            self.governance,
            {
                "time": _now(),
                "event": "sign_in",
                "user": _clean_text(user, 64, "user name", cut=True) or ANONYMOUS,
                "outcome": outcome,
                "client": _clean_text(client, 64, "client address", cut=True) or None,
                "method": method,
            },
        )

    def record_oversight(
        self, user: str | None, answer_id: str, verdict: str, reason: str | None = None
    ) -> bool:
        """An officer marked an answer disregarded or wrong (EU AI Act Art. 14); False when
        the event could not be written."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
        return self._append(
            self.governance,
            {
                "time": _now(),
                "event": "oversight",
                "user": user or ANONYMOUS,
                "answer_id": _check_id(answer_id, "answer_id"),
                "verdict": verdict,
                "reason": _clean_text(reason, MAX_REASON_CHARS, "reason") or None,
            },
        )

    def record_purpose(self, user: str | None, conversation: str, purpose: str) -> bool:
        """The case reference or purpose given for a conversation (LED Art. 25); False when
        the event could not be written."""
        text = _clean_text(purpose, MAX_PURPOSE_CHARS, "purpose")
        if not text:
            raise ValueError("the purpose is empty; give a case reference or a purpose")
        return self._append(
            self.governance,
            {
                "time": _now(),
                "event": "purpose",
                "user": user or ANONYMOUS,
                "conversation": _check_id(conversation, "conversation"),
                "purpose": text,
            },
        )

    # -- reading ------------------------------------------------------------------------------
    def files(self) -> list[Path]:
        """The audit files that exist, questions then governance, oldest first in each."""
        return [path for stream in self.streams for path in stream.files()]

    def read(self, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
        """Every event of both streams in time order; with `since` and `until`, those at or
        after `since` and before `until` (naive means UTC).

        A line that is not a JSON object (the torn end of a crashed write) is skipped.
        """
        since, until = _utc(since), _utc(until)
        records = []
        for order, stream in enumerate(self.streams):
            for _, data in stream.snapshot().files:
                for raw in data.split(b"\n"):
                    record = parse_line(raw) if raw.strip() else None
                    if record is None:
                        continue
                    if since is not None or until is not None:
                        time = parse_time(record.get("time"))
                        if time is None or (since is not None and time < since):
                            continue
                        if until is not None and time >= until:
                            continue
                    records.append((str(record.get("time", "")), order, len(records), record))
        records.sort(key=lambda item: item[:3])
        return [record for *_, record in records]

    def verify(self) -> list[StreamReport]:
        """Check both chains; a report per stream, with the first broken link if any."""
        return [verify_stream(stream) for stream in self.streams]

    # -- writing ------------------------------------------------------------------------------
    def _append(self, stream: Stream, record: dict) -> bool:
        try:
            stream.append(record, datetime.now(UTC))
        except (OSError, Timeout) as err:
            self._warn(err)
            return False
        self._failing = False
        return True

    def _warn(self, err: BaseException) -> None:
        if not self._failing:
            reason = getattr(err, "strerror", None) or str(err) or err.__class__.__name__
            print(
                f"warning: cannot write the audit file {self.path} ({reason}); "
                "events are not recorded until it is writable again",
                file=sys.stderr,
            )
        self._failing = True


def _utc(time: datetime | None) -> datetime | None:
    if time is not None and time.tzinfo is None:
        return time.replace(tzinfo=UTC)
    return time


# -- export ---------------------------------------------------------------------------------
def export_jsonl(records: Iterable[dict], out: io.TextIOBase) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_csv(records: list[dict], out: io.TextIOBase) -> int:
    """One row per event; the columns are every key seen, in order of first use; lists and
    objects are written as JSON in their cell."""
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return len(records)


def _cell(value: object) -> object:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a spreadsheet would run it as a formula
    return value


def stored_hashes(settings: Settings) -> dict[str, str]:
    """Source -> SHA-256 of each document in the store's current generation ({} if none)."""
    from ingest.store import Store  # chromadb, only for the commands that change the corpus

    store = Store.open(settings)
    current = store.current()
    if current is None:
        return {}
    return {record.source: record.sha256 for record in store.documents(current.generation)}


# -- sign-in failures (issue 14, finding 6) ---------------------------------------------------
# Kept apart at the end of the file for the audit rewrite to carry over: one event per wrong
# password the app checked. Guesses refused by the throttle (no check made) are not written
# one by one, so a flood cannot fill the trail; the wait a failure starts is.
def record_login_failure(
    audit: AuditLog, user: str, address: str, where: str, locked_seconds: float
) -> None:
    """Record a wrong password at `where` ("login" or "staff sign-in").

    On the governance stream: sign-in events are never rotated away by question volume.
    """
    audit._append(
        audit.governance,
        {
            "time": _now(),
            "event": "login_failure",
            "user": user,
            "address": address,
            "where": where,
            "locked_seconds": round(float(locked_seconds), 1),
        },
    )
