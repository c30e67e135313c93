"""A cited Markdown, HTML or text file as a sanitized HTML page, at the section, quote marked.

The file comes from the corpus folder, so it is an outsider's markup: Markdown is rendered
by cmark-gfm (the renderer ingest uses), then everything goes through nh3 (the Ammonia
sanitizer, in Rust), which keeps text and harmless structure and drops scripts, styles,
event handlers, images, forms and frames. The page is served with a CSP that runs nothing
and fetches nothing (`assistant.web.viewer`), so nh3 is the first line, not the only one.

nh3 (html5ever) takes time in the square of how deeply tags nest, so libxml2 parses first,
in linear time, and stops building the tree at 256 levels (ingest refuses a file nested
that deep, so it is never cited). Afterwards one pass over the sanitized markup (stdlib
`HTMLParser`: nh3's output is well-formed) puts an anchor on the cited section's heading
and wraps the quoted sentences in `<mark>`, even across inline tags. Work grows with size.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

import lxml.etree
import lxml.html
import nh3

from assistant.qa.models import QUOTE_SEPARATOR
from ingest.loaders.markdown import markdown_to_html, split_front_matter

CITED_ANCHOR = "ta-cited"
# The marking pass is Python, about 20 µs a tag: past this many tags the document is shown
# sanitized but unmarked (a real policy has a few thousand; this bounds a hostile one).
MAX_TAGS_TO_MARK = 50_000
_SECTION_SEPARATOR = " > "
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# What a boundary between these separates is never one word: a space stands for it.
_BLOCKS = _HEADINGS | {
    "p", "li", "ul", "ol", "div", "section", "article", "main", "br", "tr", "td", "th",
    "dd", "dt", "pre", "blockquote", "table", "figcaption", "caption", "hr", "details",
    "summary", "header", "footer", "nav", "aside",
}  # fmt: skip
_TAGS = (nh3.ALLOWED_TAGS - {"img", "area", "map"}) | {"section", "main"}
_ATTRIBUTES = {tag: attrs for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items() if tag in _TAGS}
# Content of these goes with the tag: the page's <title> is not body text, a <textarea> or
# <select> is a form's, and the others hold code or media.
_DROP_WITH_CONTENT = {
    "script", "style", "title", "head", "template", "noscript", "svg", "math", "iframe",
    "object", "embed", "textarea", "select", "button", "canvas", "audio", "video",
}  # fmt: skip
# Characters a quote may hold in another form than the file: typographic quotes, dashes.
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                       "\u2013": "-", "\u2014": "-", "\u00a0": " "})  # fmt: skip


@dataclass(frozen=True)
class RenderedDocument:
    body: str  # sanitized HTML, with the anchor and the marks
    section_found: bool
    quote_found: bool


def sanitized_html(text: str, kind: str) -> str:
    """The file's text (`kind`: markdown, html or text) as sanitized HTML."""
    if kind == "markdown":
        text = markdown_to_html(split_front_matter(text)[1])
    elif kind != "html":
        return f'<pre class="ta-text">{escape(text)}</pre>'
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
    except lxml.etree.ParserError:  # "Document is empty"
        return ""
    return nh3.clean(
        lxml.html.tostring(root, encoding="unicode"),
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_cited(html: str, section: str = "", quote: str = "") -> RenderedDocument:
    """`html` (sanitized) with `CITED_ANCHOR` at the cited section's heading, quote marked.

    The heading is the section path's last part ("2 Scope > 2.1 Data" -> "2.1 Data"), or
    failing that an earlier part. The quote is looked for after that heading first, then
    anywhere; without the heading, the first mark carries the anchor.
    """
    if html.count("<") > MAX_TAGS_TO_MARK:
        return RenderedDocument(html, False, False)
    walk = _Walk()
    walk.feed(html)
    walk.close()
    text = "".join(walk.chars)
    heading = walk.heading_position(section)
    marks: list[tuple[int, int]] = []
    for fragment in quote.split(QUOTE_SEPARATOR):
        needle = _fold(" ".join(fragment.split()))
        if not needle:
            continue
        start = text.find(needle, heading[1] if heading else 0)
        if start < 0 and heading:
            start = text.find(needle)
        if start >= 0:
            marks.append((start, start + len(needle)))
    body = walk.render(heading[0] if heading else None, marks)
    return RenderedDocument(body, heading is not None, bool(marks))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_FOLD).casefold()


class _Walk(HTMLParser):
    """Tokens of the sanitized HTML, and its text folded for searching, mapped back."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, str]] = []  # ("tag", markup) | ("text", plain text)
        # The searchable text: whitespace runs are one space, letters folded. `where[i]` is
        # (token, offset) of its i-th character, or None for a space standing for a tag.
        self.chars: list[str] = []
        self.where: list[tuple[int, int] | None] = []
        self.headings: list[tuple[int, int, str]] = []  # (token, text position, heading text)
        self._heading: tuple[int, int, list[str]] | None = None

    def _space(self, where: tuple[int, int] | None) -> None:
        if self.chars and self.chars[-1] != " ":
            self.chars.append(" ")
            self.where.append(where)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self._space(None)
        if tag in _HEADINGS:
            self._heading = (len(self.tokens), len(self.chars), [])
        self.tokens.append(("tag", self.get_starttag_text() or f"<{tag}>"))

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _BLOCKS:
            self._space(None)
        self.tokens.append(("tag", self.get_starttag_text() or f"<{tag}>"))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("tag", f"</{tag}>"))
        if tag in _HEADINGS and self._heading:
            token, position, parts = self._heading
            self.headings.append((token, position, " ".join("".join(parts).split())))
            self._heading = None
        if tag in _BLOCKS:
            self._space(None)

    def handle_data(self, data: str) -> None:
        token = len(self.tokens)
        self.tokens.append(("text", data))
        if self._heading:
            self._heading[2].append(data)
        folded_ascii = data.lower() if data.isascii() else None
        for offset, char in enumerate(data):
            if char.isspace() or char == "\u00a0":
                self._space((token, offset))
            elif folded_ascii is not None:  # the common case, without Unicode folding
                self.chars.append(folded_ascii[offset])
                self.where.append((token, offset))
            elif char != "\u00ad":  # a soft hyphen is invisible, and never in a quote
                for folded in _fold(char):
                    self.chars.append(folded)
                    self.where.append((token, offset))

    def heading_position(self, section: str) -> tuple[int, int] | None:
        """(token, text position) of the cited section's heading, or None."""
        for part in reversed([p for p in section.split(_SECTION_SEPARATOR) if p.strip()]):
            wanted = _fold(" ".join(part.split()))
            for token, position, text in self.headings:
                if _fold(text) == wanted:
                    return token, position
        return None

    def render(self, anchor_token: int | None, marks: list[tuple[int, int]]) -> str:
        spans: dict[int, list[tuple[int, int]]] = {}  # token -> [(start, end)] to mark
        for start, end in marks:
            for where in self.where[start:end]:
                if where is None:
                    continue
                token, offset = where
                ranges = spans.setdefault(token, [])
                between = self.tokens[token][1][ranges[-1][1] : offset] if ranges else "x"
                if not between.strip():  # one run within this token, across its spaces
                    ranges[-1] = (ranges[-1][0], offset + 1)
                else:
                    ranges.append((offset, offset + 1))
        first_mark = min(spans) if spans and anchor_token is None else None
        out: list[str] = []
        for index, (kind, value) in enumerate(self.tokens):
            if index == anchor_token:
                out.append(value)
                out.append(f'<span id="{CITED_ANCHOR}"></span>')
                continue
            if kind == "tag":
                out.append(value)
                continue
            position = 0
            for start, end in _merged(spans.get(index, [])):
                out.append(escape(value[position:start]))
                anchor = f' id="{CITED_ANCHOR}"' if index == first_mark else ""
                first_mark = None if anchor else first_mark
                out.append(f"<mark{anchor}>{escape(value[start:end])}</mark>")
                position = end
            out.append(escape(value[position:]))
        return "".join(out)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
