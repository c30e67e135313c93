"""Chunking with the real tokenizer (word pieces are counted without loading the model)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ingest.chunking import Chunker, embed_text
from ingest.embedding import MAX_WORD_PIECES, SPECIAL_TOKENS, count_word_pieces
from ingest.models import Block, Chunk, LoadedDocument, document_id

LIMIT = MAX_WORD_PIECES - SPECIAL_TOKENS  # 254: the encoder adds [CLS] and [SEP]


def _rules(start: int, stop: int) -> str:
    return " ".join(f"Rule {i} says officers log each query." for i in range(start, stop))


def _document(blocks: list[Block], source: str = "docs/handbook.pdf") -> LoadedDocument:
    return LoadedDocument(
        source=source,
        path=Path(source),
        title="Agency AI Handbook",
        format="pdf",
        sha256="0" * 64,
        page_count=6,
        blocks=blocks,
    )


BLOCKS = [
    Block(_rules(0, 80), 3, "2 Oversight > 2.1 Logging"),
    Block(
        "\n".join(
            f"- item {i}: keep records of model version {i} and its data sheet" for i in range(40)
        ),
        4,
        "2 Oversight > 2.2 Records",
    ),
    Block(
        "https://example.org/" + "x" * 900 + " and a few words after the address",
        5,
        "2 Oversight > 2.3 Links",
    ),
    Block("Anti-discrimination (Überprüfung) naïve café 東京 " * 60, 5, "3 Unicode"),
    Block("Short closing remark.", 6, "A very long section heading that goes on and on " * 12),
]


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    return Chunker().chunk_document(_document(BLOCKS))


def test_no_embedded_text_exceeds_the_encoder_limit(chunks: list[Chunk]) -> None:
    counts = [count_word_pieces(c.embed_text) for c in chunks]
    assert max(counts) <= LIMIT, counts
    # The long blocks were split: the limit is met by splitting, not by luck.
    assert sum(c.page == 3 for c in chunks) >= 3


def test_the_embedded_text_is_title_section_and_body(chunks: list[Chunk]) -> None:
    first = chunks[0]
    assert first.embed_text == embed_text(
        "Agency AI Handbook", "2 Oversight > 2.1 Logging", first.text
    )
    assert first.embed_text == f"Agency AI Handbook / 2 Oversight > 2.1 Logging\n{first.text}"


def test_an_overlong_section_path_is_shortened_in_the_embedded_text_only(
    chunks: list[Chunk],
) -> None:
    [last] = [c for c in chunks if c.page == 6]
    assert last.section == BLOCKS[-1].section  # citations keep the full path
    assert last.embed_text.endswith("\u2026\nShort closing remark.")
    assert count_word_pieces(last.embed_text) <= LIMIT


def test_chunks_never_cross_blocks(chunks: list[Chunk]) -> None:
    for chunk in chunks:
        owners = [b for b in BLOCKS if chunk.text in b.text]
        assert owners, chunk.text[:60]
        assert all((b.page, b.section) == (chunk.page, chunk.section) for b in owners)
    # Every block is covered from its first word to its last.
    for block in BLOCKS:
        own = [c.text for c in chunks if (c.page, c.section) == (block.page, block.section)]
        assert block.text.strip().startswith(own[0])
        assert block.text.strip().endswith(own[-1])


def test_chunks_carry_document_identity_and_order(chunks: list[Chunk]) -> None:
    assert {c.doc_id for c in chunks} == {document_id("docs/handbook.pdf")}
    assert {c.source for c in chunks} == {"docs/handbook.pdf"}
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


def test_neighbouring_chunks_of_a_block_share_a_small_overlap(chunks: list[Chunk]) -> None:
    logging = [c.text for c in chunks if c.page == 3]
    for previous, following in zip(logging, logging[1:], strict=False):
        overlap = next(
            (
                following[:k]
                for k in range(len(following), 0, -1)
                if previous.endswith(following[:k])
            ),
            "",
        )
        assert overlap.strip(), (previous[-80:], following[:80])
        assert 0 < count_word_pieces(overlap) <= Chunker().overlap_tokens


def test_ids_are_stable_across_runs(chunks: list[Chunk]) -> None:
    again = Chunker().chunk_document(_document(BLOCKS))
    assert [c.id for c in again] == [c.id for c in chunks]
    # Content-addressed from source, page and embedded text: fixed for this input, in any process.
    [single] = Chunker().chunk_document(
        _document([Block("Officers log each query.", 2, "1 Logging")])
    )
    assert single.id == "0e5e4b41a6c3ad344e8045bd"


def test_ids_change_when_the_text_changes_and_only_there(chunks: list[Chunk]) -> None:
    edited = list(BLOCKS)
    edited[1] = replace(
        BLOCKS[1], text=BLOCKS[1].text.replace("model version 3 ", "model version three ")
    )
    after = Chunker().chunk_document(_document(edited))
    before_ids = {c.id for c in chunks}
    changed = [c for c in after if c.id not in before_ids]
    assert changed and all(c.page == 4 for c in changed)
    assert {c.id for c in after if c.page != 4} == {c.id for c in chunks if c.page != 4}


def test_the_same_text_in_another_document_gets_another_id(chunks: list[Chunk]) -> None:
    other = Chunker().chunk_document(_document(BLOCKS, source="docs/copy-of-handbook.pdf"))
    assert not {c.id for c in other} & {c.id for c in chunks}


@pytest.mark.parametrize(("chunk_tokens", "overlap"), [(32, 0), (120, 16), (240, 96)])
def test_the_limit_holds_for_every_chunk_size_setting(chunk_tokens: int, overlap: int) -> None:
    chunker = Chunker(chunk_tokens=chunk_tokens, overlap_tokens=overlap)
    pieces = [count_word_pieces(c.embed_text) for c in chunker.chunk_document(_document(BLOCKS))]
    assert max(pieces) <= LIMIT
