"""HTML for the app: the answer bubble, the sources panel, the corpus banner, the admin tab.

Everything shown comes from documents or from the person typing, so every piece of text
is escaped here, before any markup of ours (`<mark>`, links) is put around it. Pure
functions of `Answer`/`Citation`, so the escaping is unit-tested without a browser.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import quote

from assistant.i18n import direction, translate
from assistant.qa.models import QUOTE_SEPARATOR, Answer, Citation, Passage
from assistant.qa.service import MAX_QUESTION_CHARS
from assistant.web.document_html import CITED_ANCHOR
from ingest.models import RefreshReport

DOCUMENT_ROUTE = "corpus"  # relative, so the links survive a proxy's root path
VIEW_ROUTE = "view"  # the document opened at a citation: assistant.web.viewer
STATIC_ROUTE = "ta-static"
MAX_QUOTE_CHARS = 2000  # of a quote in a viewer link; quotes are a few sentences
MAX_SECTION_CHARS = 500
_MARKER = re.compile(r"\[(\d+)\]")
# A link to its source card (`static/app.js` scrolls to it and highlights it): reachable by
# Tab, opened by Enter. The markers survive escape() unchanged.
_CITE_BADGE = (
    r'<a class="ta-cite ta-cite-link" href="#ta-source-\1" data-ta-cite="\1" '
    r'aria-label="Source \1: show its quoted passage">[\1]</a>'
)

CORPUS_KINDS = {
    "sample": "Sample corpus: documents written for this project from public facts, "
    "not the official INTERPOL/UNICRI Toolkit.",
    "official": "Official corpus: the INTERPOL/UNICRI AI Toolkit and related policy documents.",
    "agency": "Agency corpus: documents added by your agency, "
    "not the official INTERPOL/UNICRI Toolkit.",
    "empty": "No documents are indexed: staff run `toolkit-assistant ingest` to load the corpus.",
    "unknown": "The loaded corpus could not be identified; "
    "staff re-run `toolkit-assistant ingest`.",
}
DISCLAIMER = "Answers quote the loaded documents as guidance; they are not legal advice."
# What each group of a mixed corpus ("official+agency", see ingest.manifest.corpus_kind) is.
_GROUP_PHRASES = {
    "official": "official Toolkit documents",
    "agency": "documents added by your agency",
    "sample": "sample documents written for this project",
}
_LEGACY_KINDS = {"mixed": "official+sample"}  # stores published before agency documents


def corpus_description(kind: str, language: str = "en") -> str:
    """The banner's first sentence for a corpus kind: one group, or each group of a mix."""
    kind = _LEGACY_KINDS.get(kind, kind)
    if kind in CORPUS_KINDS:
        return translate(CORPUS_KINDS[kind], language)
    groups = kind.split("+")
    if len(groups) < 2 or any(g not in _GROUP_PHRASES for g in groups):
        return translate("Corpus: {kind}.", language).format(kind=kind)
    phrases = [translate(_GROUP_PHRASES[g], language) for g in groups]
    if len(phrases) == 2:
        template = translate("Mixed corpus: {first} together with {second}.", language)
        return template.format(first=phrases[0], second=phrases[1])
    template = translate("Mixed corpus: {listed} and {last}.", language)
    return template.format(listed=", ".join(phrases[:-1]), last=phrases[-1])


def document_url(citation: Citation) -> str:
    """The app's link to the cited file; PDF viewers open `#page=N` at that page."""
    url = f"{DOCUMENT_ROUTE}/{quote(citation.source, safe='/')}"
    if citation.page is not None and citation.source.lower().endswith(".pdf"):
        url += f"#page={citation.page}"
    return url


def citation_url(citation: Citation) -> str:
    """The app's viewer at the citation: the page or section, the quote highlighted."""
    return view_url(citation.source, citation.page, citation.section, citation.quote)


def view_url(source: str, page: int | None = None, section: str = "", quote_text: str = "") -> str:
    """The app's relative link that opens `source` at a citation (`assistant.web.viewer`)."""
    params = []
    if page is not None:
        params.append(f"page={page}")
    if section and not source.lower().endswith(".pdf"):
        params.append("section=" + quote(section[:MAX_SECTION_CHARS], safe=""))
    if quote_text:
        params.append("quote=" + quote(quote_text[:MAX_QUOTE_CHARS], safe=""))
    url = f"{VIEW_ROUTE}/{quote(source, safe='/')}"
    if params:
        url += "?" + "&".join(params)
    if not source.lower().endswith(".pdf"):
        url += f"#{CITED_ANCHOR}"
    return url


def where(citation: Citation, language: str = "en") -> str:
    """'section · page N' as plain text (escape before use), "page" in `language`."""
    # The section path comes as "2 Heading > 2.1 Subheading".
    parts = [citation.section.replace(" > ", " \u203a ")] if citation.section else []
    if citation.page is not None:
        parts.append(translate("page {page}", language).format(page=citation.page))
    return " \u00b7 ".join(parts)


def _page_suffix(citation: Citation, language: str) -> str:
    if citation.page is None:
        return ""
    return " \u00b7 " + translate("page {page}", language).format(page=citation.page)


def _open_link(citation: Citation, language: str) -> str:
    t = _translator(language)
    is_pdf = citation.source.lower().endswith(".pdf")
    if is_pdf and citation.page:
        label = t("Open PDF at page {page}").format(page=citation.page)
    else:
        label = t("Open at the quote") if citation.quote else t("Open the document")
    return (
        f'<a class="ta-open" href="{escape(citation_url(citation))}" target="_blank" '
        f'rel="noopener noreferrer">{escape(label)} \u2197</a>'
    )


def _fragment_pattern(fragment: str) -> re.Pattern[str] | None:
    # Passages keep the PDF's line breaks; quotes are whitespace-folded.
    words = fragment.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words)) if words else None


def highlight(text: str, quote_text: str) -> str:
    """`text` escaped, with each sentence of `quote_text` found in it wrapped in `<mark>`."""
    spans: list[tuple[int, int]] = []
    for fragment in quote_text.split(QUOTE_SEPARATOR):
        pattern = _fragment_pattern(fragment)
        match = pattern.search(text) if pattern else None
        if match:
            spans.append(match.span())
    out, position = [], 0
    for start, end in sorted(spans):
        if start < position:  # overlapping fragments: the first mark already covers it
            continue
        out.append(escape(text[position:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    out.append(escape(text[position:]))
    return "".join(out)


def _bullet(line: str) -> str:
    # Quoted list items come as "- item"; a bullet reads better than a dash.
    return "\u2022 " + line[2:] if line.startswith("- ") else line


# A quote from a worked example or scenario: what happened there, not what must be done.
def _example_badge(language: str) -> str:
    label = escape(translate("example, not a rule", language))
    return (
        f'<span class="ta-example" title="Quoted from a worked example or scenario">{label}</span> '
    )


def _quoted_lines(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "".join(
        f'<p dir="auto">{_MARKER.sub(_CITE_BADGE, escape(_bullet(line)))}</p>' for line in lines
    )


def _lang(answer: Answer) -> str:
    """lang and dir of what the assistant says in the officer's language (Arabic: rtl)."""
    return f'lang="{answer.language}" dir="{direction(answer.language)}"'


def answer_html(answer: Answer) -> str:
    """The chat bubble: the quoted sentences with [n] badges, then the numbered sources.

    The bubble is laid out in the question's language (right to left in Arabic); quotes
    keep their own direction (`dir="auto"`), so an English quote stays left to right.
    """
    t = _translator(answer.language)
    # splitlines, not split("\n"): a bare "\r" also ends a line, and a blank line left in the
    # bubble would switch the Chatbot back to Markdown (a typed ![x](url) fetches an image).
    body = _quoted_lines(answer.answer)
    if answer.more.strip() and not answer.refused:
        body += (
            f'<details class="ta-more"><summary>{escape(t("More from the sources"))}</summary>'
            f"{_quoted_lines(answer.more)}</details>"
        )
    if answer.notice:
        notices = "".join(
            f'<p class="ta-note ta-notice" role="status">{escape(line)}</p>'
            for line in answer.notice.splitlines()
            if line.strip()
        )
        body = f"{notices}{body}"
    if answer.refused:
        note = t(
            "The nearest documents are listed under Sources; they are pointers, not an answer."
        )
        return (
            f'<div class="ta-answer ta-refused" {_lang(answer)}>{body}'
            f'<p class="ta-note">{escape(note)}</p></div>'
        )
    sources = "".join(
        f"<li>{_MARKER.sub(_CITE_BADGE, f'[{c.n}]')} {escape(c.title)}"
        f"{_page_suffix(c, answer.language)} "
        f"{_example_badge(answer.language) if c.example else ''}"
        f"{_open_link(c, answer.language)}</li>"
        for c in answer.citations
    )
    label = _model_label(answer)
    return (
        f'<div class="ta-answer" {_lang(answer)}>{label}{body}'
        f'<ol class="ta-source-list">{sources}</ol>{_jump_to_sources(answer.language)}</div>'
    )


def _jump_to_sources(language: str) -> str:
    """Shown on narrow screens only (app.css), where the sources panel is below the chat."""
    label = escape(translate("Sources and quoted passages ↓", language))
    return f'<p class="ta-jump"><a href="#sources" data-ta-jump="sources">{label}</a></p>'


MODEL_LABEL = (
    "Written by a language model from the cited passages, not quoted from them; each "
    "sentence with a citation was checked against its source."
)
DRAFT_LABEL = "Being written by a language model; not yet checked."


def _model_label(answer: Answer) -> str:
    """Model-written text says so; a quoted (extractive) answer needs no label."""
    if answer.answerer != "generative":
        return ""
    return f'<p class="ta-model-label">{escape(translate(MODEL_LABEL, answer.language))}</p>'


def _translator(language: str):
    return lambda message: translate(message, language)


def _card(citation: Citation, passage: str, label: str, language: str) -> str:
    return (
        f'<article class="ta-card" id="ta-source-{citation.n}" tabindex="-1">'
        f'<h3><span class="ta-cite">{escape(label)}</span> {escape(citation.title)}</h3>'
        f'<p class="ta-meta">{escape(where(citation, language))}</p>'
        f"{passage}<p>{_open_link(citation, language)}</p></article>"
    )


def sources_html(answer: Answer | None) -> str:
    """The sources panel: cited passages with the quoted sentences marked, or pointers."""
    if answer is None:
        return (
            '<div class="ta-sources"><h2>Sources</h2><p class="ta-meta">Ask a question: the '
            "passages behind each numbered citation appear here.</p></div>"
        )
    t = _translator(answer.language)
    asked = f"{escape(t('For:'))} \u201c{escape(answer.question)}\u201d"
    question = f'<p class="ta-meta" dir="auto">{asked}</p>'
    if answer.refused:
        cards = "".join(_card(p, "", "\u2192", answer.language) for p in answer.pointers) or (
            f'<p class="ta-meta">{escape(t("No document came close."))}</p>'
        )
        note = t(
            "The corpus does not answer this question. These documents are the closest "
            "matches, offered as places to look, not as evidence."
        )
        return (
            f'<div class="ta-sources" {_lang(answer)}><h2>{escape(t("Nearest documents"))}</h2>'
            f'{question}<p class="ta-note">{escape(note)}</p>{cards}</div>'
        )
    cards = "".join(
        _card(
            c,
            f'<blockquote dir="auto">{highlight(c.text, c.quote)}</blockquote>',
            f"[{c.n}]",
            answer.language,
        )
        for c in answer.citations
    )
    return (
        f'<div class="ta-sources" {_lang(answer)}><h2>{escape(t("Sources"))}</h2>'
        f"{question}{cards}</div>"
    )


def retrieved_html(question: str, passages: list[Passage]) -> str:
    """The sources panel while the model writes: the passages it was given, unmarked."""
    cards = "".join(
        _card(
            Citation.from_passage(n, p),
            f"<blockquote>{escape(p.text)}</blockquote>",
            f"{n}",
            "en",
        )
        for n, p in enumerate(passages, start=1)
    )
    return (
        f'<div class="ta-sources"><h2>Retrieved passages</h2><p class="ta-meta">For: '
        f'\u201c{escape(question)}\u201d</p><p class="ta-note">The answer is being written '
        f"from these passages; its citations appear here when it is checked.</p>{cards}</div>"
    )


DRAFT_NOTE = "Writing\u2026 not yet checked against the sources."
STOPPED_NOTE = "Stopped. The unfinished answer was not checked, so it is not shown; ask again."


def draft_html(text: str) -> str:
    """The model's text as it arrives: plain, escaped, flagged as unchecked."""
    lines = "".join(f"<p>{escape(line)}</p>" for line in text.splitlines() if line.strip())
    return (
        f'<div class="ta-answer ta-draft"><p class="ta-model-label">{DRAFT_LABEL}</p>{lines}'
        f'<p class="ta-note">{DRAFT_NOTE}</p></div>'
    )


QUESTION_LIMIT = "Up to {count} characters. Press Enter to send."
QUESTION_LIMIT_NOTE = QUESTION_LIMIT.format(count=f"{MAX_QUESTION_CHARS:,}")
CHAT_PLACEHOLDER = (
    "Ask about responsible AI in policing. Every answer quotes the documents, with numbered "
    "citations."
)
EMPTY_QUESTION_HINT = "Type a question first, or click one of the example questions."
SHOWN_OF_A_LONG_QUESTION = 300  # characters of an over-long question echoed in the chat


def question_html(question: str) -> str:
    """The officer's bubble; a question over the limit is cut short (it is not answered)."""
    if len(" ".join(question.split())) <= MAX_QUESTION_CHARS:  # measured as the service does
        return message_html(question)
    shown = question[:SHOWN_OF_A_LONG_QUESTION].rstrip()
    return message_html(f"{shown}… [{len(question):,} characters in all; not sent]")


def message_html(text: str, css_class: str = "ta-question") -> str:
    """A chat bubble of plain text (a question, an error): shown as typed, never as markup."""
    # Line breaks become <br>: a blank line inside the bubble would end the HTML block and
    # let the Chatbot render what follows as Markdown.
    lines = "<br>".join(escape(line) for line in text.splitlines())
    return f'<div class="{css_class}">{lines}</div>'


def banner_html(kind: str, documents: int, language: str = "en") -> str:
    corpus = corpus_description(kind, language)
    loaded = translate("{documents} documents loaded.", language).format(documents=documents)
    return (
        f'<div class="ta-banner" role="note" lang="{language}" dir="{direction(language)}">'
        f"<strong>{escape(corpus)}</strong> {escape(loaded)} "
        f"{escape(translate(DISCLAIMER, language))}</div>"
    )


# -- the admin tab ----------------------------------------------------------------------------
_STATUS_HEADINGS = {
    "document": "Document",
    "title": "Title",
    "version": "Version",
    "pages": "Pages",
    "chunks": "Chunks",
    "ingested_at": "Ingested at",
}
_PENDING = {
    "new": "new, not yet indexed",
    "changed": "changed since it was indexed",
    "deleted": "deleted from the folder, still indexed",
    "unsupported": "not a type the assistant reads; it is never indexed",
}


def _cell(value: object) -> str:
    return "\u2013" if value is None or value == "" else escape(str(value))


def documents_html(rows: list[dict], pending: list[tuple[str, str]]) -> str:
    """The corpus status: indexed documents, then how the folder differs from the index."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in _STATUS_HEADINGS.values())
    body = (
        "".join(
            "<tr>"
            + "".join(f"<td>{_cell(row.get(key))}</td>" for key in _STATUS_HEADINGS)
            + "</tr>"
            for row in rows
        )
        or f'<tr><td colspan="{len(_STATUS_HEADINGS)}">No documents are indexed.</td></tr>'
    )
    table = (
        f'<table class="ta-table"><caption>Indexed documents: {len(rows)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )
    if pending:
        items = "".join(
            f"<li>{escape(source)}: {escape(_PENDING.get(change, change))}</li>"
            for source, change in pending
        )
        waiting = (
            '<p class="ta-meta"><strong>Waiting for a refresh of the index:</strong></p>'
            f'<ul class="ta-pending">{items}</ul>'
        )
    else:
        waiting = '<p class="ta-meta">The index matches the corpus folder.</p>'
    return f'<div class="ta-admin-status">{table}{waiting}</div>'


def refresh_report_html(report: RefreshReport) -> str:
    """What a refresh did: counts, the documents in each group, and why any failed."""
    summary = (
        f"Added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, removed {len(report.removed)}, "
        f"failed {len(report.failed)}. The index holds {report.documents} documents, "
        f"{report.pages} pages and {report.chunks_total} passages "
        f"({report.chunks_embedded} embedded now) after {report.seconds:.1f} s."
    )
    groups = "".join(
        f"<p><strong>{label}:</strong> {escape(', '.join(sources))}</p>"
        for label, sources in (
            ("Added", report.added),
            ("Updated", report.updated),
            ("Removed", report.removed),
        )
        if sources
    )
    failed = ""
    if report.failed:
        items = "".join(
            f"<li><strong>{escape(f.source)}</strong>: {escape(f.error)}</li>"
            for f in report.failed
        )
        failed = (
            '<p class="ta-error">Not indexed (a previous version, if any, stays):</p>'
            f"<ul>{items}</ul>"
        )
    return (
        f'<div class="ta-report" role="status"><h3>Refresh report</h3><p>{escape(summary)}</p>'
        f"{groups}{failed}</div>"
    )


ADMIN_SIGN_IN_NOTE = (
    "Staff only: sign in with a staff account to see the corpus status, add or remove "
    "documents and refresh the index."
)
LOGIN_NOTE = "Toolkit Assistant: sign in with the account your administrator gave you."


def admin_message_html(text: str, ok: bool = True) -> str:
    """One line for the staff member: what was done, or why it was refused."""
    if not text:
        return ""
    css, role = ("ta-admin-ok", "status") if ok else ("ta-error", "alert")
    return f'<p class="ta-admin-message {css}" role="{role}">{escape(text)}</p>'


def signed_in_html(name: str, role: str) -> str:
    return f'<p class="ta-meta">Signed in as <strong>{escape(name)}</strong> ({escape(role)}).</p>'
