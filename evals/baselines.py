"""What the hybrid retriever is compared with: BM25 alone, and the LangChain tutorial pipeline.

The tutorial pipeline is rebuilt here on purpose, outside `ingest`: it is the reference
point ("what you get from the RAG quickstart"), so it must not share our loaders, chunker
or store. That is why this module, and only in the evals, loads the embedding model a
second time and talks to Chroma through langchain_chroma.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from evals.metrics import RANKING_DEPTH, Located

# (question, history) -> hits, best first
Retriever = Callable[[str, list[str]], list[Located]]

TUTORIAL_CHUNK_SIZE = 1000
TUTORIAL_CHUNK_OVERLAP = 200
_TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm"}
_SEPARATOR = " > "


class RetrievingAssistant(Protocol):
    def retrieve(
        self, question: str, history: list[str] | None = None, k: int = 10, mode: str = "hybrid"
    ) -> list[Located]: ...


@dataclass(frozen=True)
class Hit:
    """A baseline's retrieved chunk, reduced to where it points."""

    source: str
    page: int | None
    section: str


def bm25_retriever(assistant: RetrievingAssistant) -> Retriever:
    """The keyword half of our own hybrid retriever, alone."""

    def retrieve(question: str, history: list[str]) -> list[Located]:
        return assistant.retrieve(question, history or None, k=RANKING_DEPTH, mode="keyword")

    return retrieve


class LangChainTutorialBaseline:
    """PyPDFLoader/TextLoader -> RecursiveCharacterTextSplitter(1000, 200) -> HuggingFace
    embeddings (the same bundled all-MiniLM-L6-v2) -> Chroma -> similarity_search(k=10).

    Use it as a context manager: the Chroma folder is temporary. Like the tutorial, it has
    no conversation memory, so a follow-up is searched with its own words only.
    """

    def __init__(self, files: list[Path], work_dir: Path | None = None) -> None:
        self.files = files
        self._work_dir = work_dir
        self._temporary: tempfile.TemporaryDirectory | None = None
        self._store = None
        self._texts: dict[Path, str] = {}

    def __enter__(self) -> LangChainTutorialBaseline:
        from langchain_chroma import Chroma
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from ingest.embedding import model_dir

        if self._work_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="tutorial-baseline-")
            self._work_dir = Path(self._temporary.name)
        # add_start_index lets a Markdown/HTML chunk be placed under its headings afterwards.
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=TUTORIAL_CHUNK_SIZE,
            chunk_overlap=TUTORIAL_CHUNK_OVERLAP,
            add_start_index=True,
        )
        chunks = splitter.split_documents(self._load())
        embeddings = HuggingFaceEmbeddings(
            model_name=str(model_dir()), model_kwargs={"device": "cpu"}
        )
        self._store = Chroma.from_documents(
            chunks, embeddings, collection_name="tutorial", persist_directory=str(self._work_dir)
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._store = None
        if self._temporary is not None:
            self._temporary.cleanup()

    def _load(self) -> list:
        from langchain_community.document_loaders import PyPDFLoader, TextLoader

        documents = []
        for path in self.files:
            if path.suffix.lower() == ".pdf":
                documents += PyPDFLoader(str(path)).load()
            elif path.suffix.lower() in _TEXT_SUFFIXES:
                documents += TextLoader(str(path), encoding="utf-8").load()
        return documents

    def retrieve(self, question: str, history: list[str]) -> list[Located]:
        if self._store is None:
            raise RuntimeError("use LangChainTutorialBaseline as a context manager")
        found = self._store.similarity_search(question, k=RANKING_DEPTH)
        return [self._hit(document) for document in found]

    def _hit(self, document) -> Hit:
        meta = document.metadata
        path = Path(meta["source"])
        if "page" in meta and path.suffix.lower() == ".pdf":
            return Hit(path.name, int(meta["page"]) + 1, "")  # PyPDFLoader counts pages from 0
        if path not in self._texts:
            self._texts[path] = path.read_text(encoding="utf-8")
        start = int(meta.get("start_index", 0))
        end = start + len(document.page_content)
        return Hit(path.name, None, sections_spanned(self._texts[path], start, end))


_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_INLINE_MARKUP = re.compile(r"[*_`]")


def sections_spanned(text: str, start: int, end: int) -> str:
    """The headings (Markdown `#` or HTML `<hN>`) in force at `start`, then those that begin
    before `end`, joined with " > ".

    The tutorial pipeline knows no sections and its 1000-character chunks cross headings;
    a chunk counts for every section it holds text of, so section-level gold can score it.
    """
    headings = [(len(m.group(1)), m.group(2), m.start()) for m in _MARKDOWN_HEADING.finditer(text)]
    headings += [(int(m.group(1)), m.group(2), m.start()) for m in _HTML_HEADING.finditer(text)]
    stack: list[tuple[int, str]] = []
    inside: list[str] = []
    for level, title, position in sorted(headings, key=lambda h: h[2]):
        clean = " ".join(_INLINE_MARKUP.sub("", _TAG.sub("", title)).split())
        if position >= end:
            break
        if position > start:
            inside.append(clean)
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, clean))
    return _SEPARATOR.join([title for _, title in stack] + inside)
