"""Files built to be slow to read (issue 14, findings 1 and 9): each loads in linear time or
is refused with one line; a file that is slow anyway is stopped by the time budget.

How long each takes is printed by bench/loaders.py; here the budget given to the reading
process is far above what a linear reader needs (1 MB reads in under a second) and far
below what the quadratic readers took (minutes), so the tests assert behaviour: the file
loads, or is refused with the message that names the problem.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile_files import hostile_html, hostile_markdown
from pdf_factory import shared_stream_pdf, write

from ingest.loaders import LoadError, load_in_worker
from ingest.upload import UploadError, save_upload
from ingest.worker import Worker

# Generous: a linear reader takes about 1 s for the worst of these on a busy core.
BUDGET_SECONDS = 30.0
NESTING_REFUSAL = "nests more than 200 levels deep"


@pytest.fixture(scope="module")
def reader():
    with Worker() as worker:
        yield worker


def _load_or_refusal(reader: Worker, path: Path) -> str:
    """The loaded text, or "refused: <message>"; a timeout fails the test."""
    try:
        document = load_in_worker(reader, path, path.name, 50, seconds=BUDGET_SECONDS)
    except LoadError as err:
        assert "longer than" not in str(err), f"{path.name} was not read in linear time"
        assert "\n" not in str(err)
        return f"refused: {err}"
    return "\n".join(block.text for block in document.blocks)


@pytest.mark.parametrize("name", sorted(hostile_markdown()))
def test_pathological_markdown_loads_or_is_refused_in_linear_time(
    reader: Worker, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(hostile_markdown()[name], encoding="utf-8")
    assert path.stat().st_size > 900_000
    text = _load_or_refusal(reader, path)
    if name.startswith("nested-"):
        assert NESTING_REFUSAL in text
    else:
        # The text survives; markers that close nothing are kept as written.
        assert len(text) > 400_000


@pytest.mark.parametrize("name", sorted(hostile_html()))
def test_deeply_nested_html_loads_or_is_refused_in_linear_time(
    reader: Worker, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_text(hostile_html()[name], encoding="utf-8")
    text = _load_or_refusal(reader, path)
    if name.startswith(("nested-", "closed-")):
        assert NESTING_REFUSAL in text
    elif name == "many-scripts.html":
        assert set(text.replace("\n", "")) == {"y"}  # script bodies are not text
    else:
        assert len(text) > 200_000


def test_markdown_emphasis_links_and_images_are_still_stripped(
    reader: Worker, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "note.md",
        b"# Note\n\nA *short* and **bold** [link](http://x) over\nlines, "
        b"![a diagram](d.png) and `code`.\n",
    )
    assert _load_or_refusal(reader, path) == "A short and bold link over lines, a diagram and code."


def test_a_pdf_whose_pages_share_one_huge_stream_is_stopped_by_the_upload_budget(
    tmp_path: Path,
) -> None:
    """Finding 9: 30 pages drawing one 2 MB stream; about 5 s a page, 169 s in all."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    incoming = write(tmp_path / "incoming" / "crafted.pdf", shared_stream_pdf())
    assert incoming.stat().st_size < 20_000
    with pytest.raises(UploadError) as refused:
        save_upload(incoming, "crafted.pdf", corpus, 5.0, check_seconds=3.0)
    message = str(refused.value)
    assert "took longer than 3 s and was stopped" in message and "\n" not in message
    assert list(corpus.iterdir()) == []


def test_a_reader_that_runs_out_of_time_is_killed_and_the_next_call_works(
    tmp_path: Path,
) -> None:
    slow = write(tmp_path / "slow.pdf", shared_stream_pdf())
    fine = write(tmp_path / "fine.md", b"# Fine\n\nA readable note.\n")
    with Worker() as worker:
        with pytest.raises(LoadError, match="took longer than 1 s"):
            load_in_worker(worker, slow, "slow.pdf", 5.0, seconds=1.0)
        first = worker._process
        assert first is None  # killed, not left running in the background
        document = load_in_worker(worker, fine, "fine.md", 5.0)
        assert document.blocks[0].text == "A readable note."
        child = worker._process.pid
    assert not os.path.exists(f"/proc/{child}") or _is_zombie_or_gone(child)


def test_a_started_reader_boots_before_its_first_call_and_serves_it(tmp_path: Path) -> None:
    fine = write(tmp_path / "fine.md", b"# Fine\n\nA readable note.\n")
    with Worker() as worker:
        worker.start()
        booted = worker._process
        assert booted is not None and booted.is_alive()
        document = load_in_worker(worker, fine, "fine.md", 5.0)
        assert worker._process is booted  # the call went to that child, not a second one
    assert document.blocks[0].text == "A readable note."


def _is_zombie_or_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# -- the budgets are settings ------------------------------------------------------------------
def test_the_budget_constants_are_the_settings_defaults() -> None:
    from ingest.loaders import LOAD_SECONDS
    from ingest.settings import IngestSettings
    from ingest.upload import UPLOAD_CHECK_SECONDS

    fields = IngestSettings.model_fields
    assert fields["load_seconds"].default == LOAD_SECONDS
    assert fields["upload_check_seconds"].default == UPLOAD_CHECK_SECONDS


@pytest.mark.integration
def test_a_refresh_reads_each_file_within_ingest_load_seconds(tmp_path: Path) -> None:
    from ingest.refresh import refresh
    from ingest.settings import Settings

    corpus = tmp_path / "corpus"
    write(corpus / "slow.pdf", shared_stream_pdf())
    write(corpus / "fine.md", b"# Fine\n\nA readable note on unit oversight.\n")
    settings = Settings(store=tmp_path / "store", corpus=corpus, ingest={"load_seconds": 2})
    report = refresh([corpus], settings)
    assert report.added == ["fine.md"]
    (failed,) = report.failed
    assert failed.source == "slow.pdf" and "took longer than 2 s and was stopped" in failed.error
