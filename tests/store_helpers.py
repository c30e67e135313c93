"""What an ingested store holds, read back through `ingest.store.Store`, for comparing stores."""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from paths import CORPUS

from ingest.keyword_index import KeywordIndex
from ingest.manifest import MANIFEST_NAME
from ingest.refresh import keyword_dir

ChunkRow = tuple[str, str, int | None, str, str]  # chunk id, source, page, section, text


@dataclass(frozen=True)
class Snapshot:
    """The current generation: its document rows (without ingested_at) and its chunks."""

    generation: str
    documents: tuple[tuple, ...]
    chunks: tuple[ChunkRow, ...]  # sorted, duplicates kept so they show

    @property
    def chunk_ids_by_source(self) -> dict[str, set[str]]:
        by_source: dict[str, set[str]] = {}
        for chunk_id, source, *_ in self.chunks:
            by_source.setdefault(source, set()).add(chunk_id)
        return by_source

    @property
    def sources(self) -> list[str]:
        return [row[1] for row in self.documents]

    def same_content(self, other: Snapshot) -> bool:
        return (self.documents, self.chunks) == (other.documents, other.chunks)


def snapshot(store_path: Path, chroma_url: str | None = None) -> Snapshot:
    """Read the published generation and check it is internally consistent."""
    from ingest.store import Store

    store = Store(store_path, chroma_url)
    current = store.current()
    assert current is not None, f"no published generation in {store_path}"
    records = store.documents(current.generation)
    documents = tuple(
        (r.doc_id, r.source, r.title, r.version, r.format, r.pages, r.chunks, r.sha256)
        for r in records
    )
    chunks = tuple(
        sorted(
            (c.id, c.source, c.page, c.section, c.text)
            for c in store.iter_chunks(current.generation)
        )
    )
    # No duplicates, and the document rows account for every chunk.
    assert len({c[0] for c in chunks}) == len(chunks)
    duplicated = [row for row, n in Counter(c[1:] for c in chunks).items() if n > 1]
    assert not duplicated, duplicated[:3]
    assert sum(r.chunks for r in records) == len(chunks)
    assert {c[1] for c in chunks} <= {r.source for r in records}
    # The keyword side was built for exactly this generation.
    index = KeywordIndex.load(keyword_dir(store_path, current.generation))
    assert index is not None, "keyword index of the published generation is missing"
    assert sorted(index.ids) == sorted(c[0] for c in chunks)
    return Snapshot(current.generation, documents, chunks)


def copy_corpus(folder: Path, names: list[str], manifest: bool = True) -> Path:
    """A folder holding some of the sample corpus files (and its manifest, for titles)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names + ([MANIFEST_NAME] if manifest else []):
        shutil.copy2(CORPUS / name, folder / name)
    return folder


def add_html_paragraph(path: Path, text: str) -> None:
    """Edit an HTML page the way a web editor would: one more paragraph in the body."""
    html = path.read_text(encoding="utf-8")
    marker = "</main>" if "</main>" in html else "</body>"
    path.write_text(html.replace(marker, f"<p>{text}</p>\n{marker}", 1), encoding="utf-8")


def policy_note(number: int, edition: str = "") -> str:
    """A short Markdown note with three sections: a few small chunks, cheap to embed."""
    return (
        f"# Policy note {number}\n\n"
        f"## Purpose\n\nNote {number} sets out how unit {number} uses analytics software."
        f"{edition}\n\n"
        f"## Safeguards\n\n- Unit {number} keeps an access log.\n"
        "- A supervisor reviews the log monthly.\n\n"
        f"## Review\n\nThe note is reviewed every {number % 5 + 1} years by the oversight board.\n"
    )


def write_policy_notes(folder: Path, numbers: range | list[int], edition: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        (folder / f"note-{number:03d}.md").write_text(
            policy_note(number, edition), encoding="utf-8"
        )
    return folder


def kill_moments(seed: int) -> list[float]:
    """When to SIGKILL a run, as fractions of it: one moment at random in each of N equal
    parts. N is `TOOLKIT_ASSISTANT_TEST_KILLS`: 3 in `make test`, 10 in `make crash`."""
    import random

    cases = int(os.environ.get("TOOLKIT_ASSISTANT_TEST_KILLS", "3"))
    rng = random.Random(seed)
    return [(i + rng.random()) / cases for i in range(cases)]


def processes_in_group(pgid: int) -> dict[int, str]:
    """pid -> command line of every live (non-zombie) process in process group `pgid`."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            found[int(entry)] = command
    return found


def wait_for(condition, seconds: float, what: str):
    """`condition()`'s first truthy result, polled; bounded generously, never a fixed sleep."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting {seconds:g} s for {what}")
