"""Structure-following chunks, sized in the embedding model's word pieces.

A chunk never crosses a block, so it never spans two documents, two pages or two
sections. What is embedded is "title / section / body"; that whole text stays within
the encoder's 256-piece limit, so nothing is silently truncated.
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.embedding import MAX_WORD_PIECES, SPECIAL_TOKENS, count_word_pieces
from ingest.models import Chunk, LoadedDocument, chunk_id, document_id

# Paragraphs and list items first, then sentences, then clauses, then words.
_SEPARATORS = ["\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
_MAX_CONTEXT_PIECES = 48  # title and section path are context, not the chunk's substance


def embed_text(title: str, section: str, body: str) -> str:
    context = title if section == title else f"{title} / {section}"
    return f"{context}\n{body}"


class Chunker:
    """Splits a loaded document's blocks with LangChain's recursive splitter."""

    def __init__(self, chunk_tokens: int = 180, overlap_tokens: int = 24) -> None:
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        self._splitters: dict[int, RecursiveCharacterTextSplitter] = {}

    def _splitter(self, size: int) -> RecursiveCharacterTextSplitter:
        if size not in self._splitters:
            self._splitters[size] = RecursiveCharacterTextSplitter(
                chunk_size=size,
                chunk_overlap=min(self.overlap_tokens, size // 4),
                length_function=count_word_pieces,
                separators=_SEPARATORS,
                keep_separator="end",
                strip_whitespace=True,
            )
        return self._splitters[size]

    def chunk_document(self, document: LoadedDocument) -> list[Chunk]:
        doc_id = document_id(document.source)
        chunks: list[Chunk] = []
        seen: set[str] = set()
        for block in document.blocks:
            context = embed_text(document.title, block.section, "")
            context_pieces = count_word_pieces(context)
            if context_pieces > _MAX_CONTEXT_PIECES:
                context = _truncate_to_pieces(context, _MAX_CONTEXT_PIECES) + "\n"
                context_pieces = count_word_pieces(context)
            budget = MAX_WORD_PIECES - SPECIAL_TOKENS - context_pieces - 2
            for body in self._split_within(block.text, min(self.chunk_tokens, budget), budget):
                text = context + body
                identifier = chunk_id(document.source, block.page, text)
                if identifier in seen:  # the same passage twice on a page: keep one
                    continue
                seen.add(identifier)
                chunks.append(
                    Chunk(
                        id=identifier,
                        doc_id=doc_id,
                        source=document.source,
                        title=document.title,
                        page=block.page,
                        section=block.section,
                        text=body,
                        embed_text=text,
                        ordinal=len(chunks),
                        language=document.language,
                    )
                )
        return chunks

    def _split_within(self, text: str, size: int, budget: int) -> list[str]:
        """Split, then re-split any piece the tokenizer counts over budget in context."""
        pieces = []
        for piece in self._splitter(size).split_text(text):
            if count_word_pieces(piece) <= budget:
                pieces.append(piece)
            else:  # merged pieces can tokenize longer than their parts did
                pieces.extend(self._split_within(piece, max(16, size // 2), budget))
        return pieces


def _truncate_to_pieces(text: str, limit: int) -> str:
    words = text.split()
    while words and count_word_pieces(" ".join(words)) > limit - 1:
        words.pop()
    return " ".join(words) + "\u2026"
