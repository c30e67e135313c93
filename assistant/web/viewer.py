"""`/view/<source>`: a cited document opened at the citation, and `/ta-static/`: the page assets.

A PDF opens in the app's own PDF.js viewer (vendored under `static/pdfjs`, see its VERSION
file) at the cited page, where the page's script searches the text layer for the quoted
sentences and highlights them, or says that it could not. Markdown, HTML and plain text are
rendered here as sanitized HTML (`assistant.web.document_html`), scrolled to the cited
section's heading, with the quote in `<mark>`.

The citation travels in the query string (`page`, `section`, `quote`: text of the indexed
document, never the officer's question), each cut to a bound. The file is checked like at
`/corpus/` (`assistant.web.documents.open_indexed`): only a document of the index, with the
content it was indexed with. Both pages fetch from the app alone (CSP `'self'`); the
rendered document runs no script at all (CSP `sandbox`), the PDF page only ours.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from assistant.web.document_html import render_cited, sanitized_html
from assistant.web.documents import Lookup, open_indexed
from assistant.web.render import (
    DOCUMENT_ROUTE,
    MAX_QUOTE_CHARS,
    MAX_SECTION_CHARS,
    STATIC_ROUTE,
    VIEW_ROUTE,
)

STATIC_DIR = Path(__file__).with_name("static")
MAX_PAGE = 100_000
# Rendering is linear, about 3 s a MB at worst (bench/viewer.py); past this the file is offered
# as it is (at /corpus/), unrendered.
MAX_RENDER_BYTES = 1024 * 1024
_KINDS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
_MEDIA = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
    ".png": "image/png",
}
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# Our viewer script and PDF.js's worker, from the app; the PDF from /corpus/. Inline style
# attributes are PDF.js's page geometry; no inline script.
PDF_VIEWER_CSP = (
    "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The sanitized document: no script of any origin, nothing fetched, an opaque origin.
RENDERED_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
_RENDERED_STYLE = """
body { font: 17px/1.6 system-ui, sans-serif; max-width: 46rem; margin: 0 auto;
  padding: 0 16px 40vh; color: #1f2328; background: #fff; }
.ta-bar { position: sticky; top: 0; background: #eef2ff; border-bottom: 1px solid #c7d2fe;
  padding: 8px 12px; margin: 0 -16px 12px; font-size: 15px; }
.ta-warn { color: #92400e; font-weight: 600; }
mark { background: #fde68a; color: inherit; padding: 0 1px; }
#ta-cited { scroll-margin-top: 64px; }
h1, h2, h3, h4 { line-height: 1.3; }
pre, code { font-family: ui-monospace, monospace; font-size: 0.92em; }
pre.ta-text { white-space: pre-wrap; font: inherit; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: 4px 8px; }
@media (prefers-color-scheme: dark) {
  body { background: #0d1117; color: #e6edf3; } a { color: #79c0ff; }
  .ta-bar { background: #1e2a4a; border-color: #334155; } .ta-warn { color: #fbbf24; }
  mark { background: #a16207; color: #fff; } }
"""


def static_route() -> Route:
    """`/ta-static/<file>`: the files under `static/` as they are in the package, no others."""
    files = {
        path.relative_to(STATIC_DIR).as_posix(): path
        for path in STATIC_DIR.rglob("*")
        if path.is_file() and path.suffix in _MEDIA
    }

    async def asset(request: Request) -> Response:
        path = files.get(request.path_params["path"])
        if path is None:
            return PlainTextResponse("No such file.", status_code=404, headers=_SAFE_HEADERS)
        headers = {**_SAFE_HEADERS, "Cache-Control": "private, max-age=3600"}
        return FileResponse(path, media_type=_MEDIA[path.suffix], headers=headers)

    return Route(f"/{STATIC_ROUTE}/{{path:path}}", asset, methods=["GET", "HEAD"])


def viewer_route(lookup: Lookup) -> Route:
    """`/view/<source>`; `lookup` as for `documents.document_route`."""

    async def view(request: Request) -> Response:
        source = request.path_params["source"]
        citation = _citation(request)
        suffix = Path(source).suffix.lower()
        if suffix == ".pdf":
            opened = await anyio.to_thread.run_sync(open_indexed, source, lookup)
            if opened is None:
                return _not_found()
            opened[0].close()
            return HTMLResponse(
                pdf_viewer_page(source, *citation),
                headers={**_SAFE_HEADERS, "Content-Security-Policy": PDF_VIEWER_CSP},
            )
        page = await anyio.to_thread.run_sync(_rendered_page, source, lookup, *citation)
        if page is None:
            return _not_found()
        headers = {**_SAFE_HEADERS, "Content-Security-Policy": RENDERED_CSP}
        return HTMLResponse(page, headers=headers)

    return Route(f"/{VIEW_ROUTE}/{{source:path}}", view, methods=["GET"])


def _citation(request: Request) -> tuple[int, str, str]:
    """(page, section, quote) from the query string, each bounded; a bad page is page 1."""
    raw_page = request.query_params.get("page", "1")[:8]
    page = int(raw_page) if raw_page.isdigit() else 1
    section = request.query_params.get("section", "")[:MAX_SECTION_CHARS]
    quote_text = request.query_params.get("quote", "")[:MAX_QUOTE_CHARS]
    return min(max(page, 1), MAX_PAGE), section, quote_text


def _not_found() -> Response:
    return PlainTextResponse("Not a document of the index.", status_code=404, headers=_SAFE_HEADERS)


def _base(source: str) -> str:
    """The way from `/view/<source>` back to the app's root, relative (a proxy may add one)."""
    return "../" * (source.count("/") + 1)


def pdf_viewer_page(source: str, page: int, section: str, quote_text: str) -> str:
    """The PDF.js page: what to open travels in data attributes, read by our script."""
    base, name = _base(source), escape(Path(source).name)
    pdf = f"{base}{DOCUMENT_ROUTE}/{quote(source, safe='/')}"
    assets = f"{base}{STATIC_ROUTE}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}, page {page}</title>
<link rel="stylesheet" href="{assets}/pdfjs/web/pdf_viewer.css">
<link rel="stylesheet" href="{assets}/viewer.css">
<script type="module" src="{assets}/pdf-viewer.mjs"></script>
</head><body data-pdf="{escape(pdf)}" data-page="{page}" data-quote="{escape(quote_text)}">
<header class="ta-bar"><strong>{name}</strong>
<span id="ta-status" role="status">Opening page {page}\u2026</span>
<a href="{escape(pdf)}#page={page}" rel="noopener">Open the file itself</a></header>
<div id="viewerContainer" tabindex="0"><div id="viewer" class="pdfViewer"></div></div>
</body></html>"""


def _rendered_page(
    source: str, lookup: Lookup, page: int, section: str, quote_text: str
) -> str | None:
    opened = open_indexed(source, lookup)
    if opened is None:
        return None
    handle, suffix, size = opened
    with handle:
        raw = handle.read(MAX_RENDER_BYTES) if size <= MAX_RENDER_BYTES else b""
    name = escape(Path(source).name)
    original = f"{_base(source)}{DOCUMENT_ROUTE}/{quote(source, safe='/')}"
    link = f'<a href="{escape(original)}">the file itself</a>'
    if size > MAX_RENDER_BYTES:
        body, note = "", f"This document is too large to show here; open {link}."
    else:
        text = raw.decode("utf-8-sig", errors="replace")
        html = sanitized_html(text, _KINDS.get(suffix, "text"))
        rendered = render_cited(html, section, quote_text)
        body, note = rendered.body, _note(rendered.section_found, rendered.quote_found, quote_text)
        note += f" Or open {link}."
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}</title><style>{_RENDERED_STYLE}</style></head><body>
<header class="ta-bar"><strong>{name}</strong> <span role="status">{note}</span></header>
<main>{body}</main></body></html>"""


def _note(section_found: bool, quote_found: bool, quote_text: str) -> str:
    if quote_found:
        return "The quoted passage is highlighted."
    if not quote_text:
        return "Shown at the cited section." if section_found else "Shown from the top."
    where = "the cited section is shown" if section_found else "it is shown from the top"
    return (
        f'<span class="ta-warn">The quoted passage could not be found in this file, so it '
        f"is not highlighted; {where}.</span>"
    )
