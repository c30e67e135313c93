"""The PDF loader on PDFs the tests generate: structure, running text, and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from paths import CORPUS
from pdf_factory import (
    DOCUMENT_TITLE,
    RUNNING_HEADER,
    TOPICS,
    encrypted_pdf,
    handbook_pdf,
    image_only_pdf,
    truncated_pdf,
    write,
)

from ingest.loaders import LoadError, load_document


def _load(path: Path, max_file_mb: float = 50):
    return load_document(path, path.name, max_file_mb=max_file_mb)


class TestHandbook:
    @pytest.fixture(scope="class")
    def document(self, tmp_path_factory: pytest.TempPathFactory):
        return _load(write(tmp_path_factory.mktemp("pdf") / "handbook.pdf", handbook_pdf(pages=6)))

    def test_pages_are_one_based_physical_pages(self, document) -> None:
        assert document.page_count == 6
        assert sorted({b.page for b in document.blocks}) == [1, 2, 3, 4, 5, 6]
        # Chapter N is printed on page N.
        for block in document.blocks:
            assert block.section.startswith(f"{block.page} ")

    def test_running_headers_footers_and_page_numbers_are_absent(self, document) -> None:
        for block in document.blocks:
            assert RUNNING_HEADER not in block.text
            assert "Page " not in block.text
            assert " of 6" not in block.text

    def test_every_block_has_its_heading_path(self, document) -> None:
        assert document.title == DOCUMENT_TITLE
        sections = [b.section for b in document.blocks]
        assert all(sections)
        expected = []
        for number, topic in enumerate(TOPICS[:6], start=1):
            chapter = f"{number} {topic.capitalize()}"
            expected += [chapter, f"{chapter} > {number}.1 Reviewing {topic}"]
        assert sections == expected

    def test_wrapped_lines_are_joined_into_one_paragraph(self, document) -> None:
        first = document.blocks[0].text
        assert "\n" not in first
        assert first.startswith(
            "Sentence 1 on fairness: the agency documents how fairness is assessed"
        )
        assert first.endswith(
            "Sentence 4 on fairness: the agency documents how fairness is assessed for system 1, "
            "who reviews it and when the review is repeated."
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(encrypted_pdf, "encrypted PDF", id="encrypted"),
        pytest.param(truncated_pdf, "corrupt or truncated PDF", id="truncated"),
        pytest.param(lambda: b"", "empty file (0 bytes)", id="zero-bytes"),
        pytest.param(image_only_pdf, "no extractable text; OCR is not supported", id="image-only"),
    ],
)
def test_a_bad_pdf_gives_one_clear_line(tmp_path: Path, data, message: str) -> None:
    path = write(tmp_path / "bad.pdf", data())
    with pytest.raises(LoadError) as caught:
        _load(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_real_pdf_cut_in_half_is_corrupt_or_truncated(tmp_path: Path) -> None:
    source = sorted(CORPUS.glob("*.pdf"))[0]
    path = write(tmp_path / "half.pdf", truncated_pdf(source.read_bytes()))
    with pytest.raises(LoadError, match="corrupt or truncated PDF"):
        _load(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "big.pdf", handbook_pdf(pages=2))
    with pytest.raises(
        LoadError, match=r"over the 0\.001 MB limit \(setting ingest\.max_file_mb\)"
    ):
        _load(path, max_file_mb=0.001)
