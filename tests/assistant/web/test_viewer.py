"""Documents opened at a citation: sanitized rendering, the section anchor, the quote marked,
and the `/view/` and `/ta-static/` routes on a small Starlette app (the browser tests drive
the same routes in the real app)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from assistant.web.document_html import CITED_ANCHOR, render_cited, sanitized_html
from assistant.web.render import view_url
from assistant.web.viewer import PDF_VIEWER_CSP, RENDERED_CSP, static_route, viewer_route

HOSTILE_HTML = """<html><head><title>Not body text</title>
<link rel="stylesheet" href="https://cdn.example/x.css">
<style>body{background:url(https://track.example/bg.png)}</style></head>
<body><h1>Policy</h1><img src="https://track.example/pixel.gif">
<iframe src="https://frame.example/"></iframe><script>alert(1)</script>
<h2 id="scope" onclick="alert(2)">2 Scope</h2>
<p style="color:red">Officers <b>must</b> record
   every use.</p><a href="javascript:alert(3)">x</a><a href="https://example.org/">y</a>
<form action="https://evil.example/"><input name="q"></form></body></html>"""


def _directives(policy: str) -> dict[str, str]:
    return dict(d.strip().partition(" ")[::2] for d in policy.split(";"))


def test_sanitizing_keeps_text_and_structure_and_drops_everything_active() -> None:
    html = sanitized_html(HOSTILE_HTML, "html")
    gone = "<script alert(1) <img <iframe <style <link onclick style= javascript: <form <input"
    for text in [*gone.split(), "Not body text", "track.example"]:
        assert text not in html, text
    assert "<h2>2 Scope</h2>" in html and "<b>must</b>" in html
    assert 'href="https://example.org/"' in html and "noopener" in html


def test_markdown_is_rendered_and_raw_html_in_it_is_sanitized() -> None:
    text = "---\ntitle: T\n---\n# Title\n\n## 2 Scope\n\nA *b* <script>x()</script> c.\n"
    html = sanitized_html(text, "markdown")
    assert "<h2>2 Scope</h2>" in html and "<em>b</em>" in html
    assert "<script" not in html and "x()" not in html and "title: T" not in html


def test_the_cited_heading_gets_the_anchor_and_a_quote_across_tags_is_marked() -> None:
    html = sanitized_html(HOSTILE_HTML, "html")
    rendered = render_cited(html, "Policy > 2 Scope", "Officers must record every use.")
    assert rendered.section_found and rendered.quote_found
    assert f'<h2><span id="{CITED_ANCHOR}"></span>2 Scope</h2>' in rendered.body
    assert "<mark>Officers </mark><b><mark>must</mark></b><mark> record" in rendered.body
    assert "every use.</mark>" in rendered.body


def test_the_quote_is_found_after_its_heading_first() -> None:
    html = "<h2>A</h2><p>Same words.</p><h2>B</h2><p>Same words.</p>"
    body = render_cited(html, "B", "Same words.").body
    assert body.endswith("B</h2><p><mark>Same words.</mark></p>")
    assert body.startswith("<h2>A</h2><p>Same words.</p>")


def test_without_the_heading_the_first_mark_is_the_anchor_and_text_is_escaped() -> None:
    html = sanitized_html("line one\n  x < y & z\n", "text")
    rendered = render_cited(html, "Gone", "x < y")
    assert not rendered.section_found and rendered.quote_found
    assert f'<mark id="{CITED_ANCHOR}">x &lt; y</mark> &amp; z' in rendered.body
    missing = render_cited(html, "", "not in the file")
    assert not missing.quote_found and "<mark" not in missing.body


def test_worst_case_markup_renders_in_time_proportional_to_its_size() -> None:
    """Deep nesting and long runs of markers: no blow-up (figures: bench/viewer.py)."""
    nested = "<div>" * 20_000 + "deep words" + "</div>" * 20_000
    stars = "*[" * 100_000
    for text, kind in ((nested, "html"), (stars, "markdown")):
        started = time.perf_counter()
        rendered = render_cited(sanitized_html(text, kind), "x", "deep words")
        assert rendered.body  # it rendered; the time is printed, not asserted
        print(kind, f"{time.perf_counter() - started:.2f} s")


def _client(tmp_path: Path, files: dict[str, str]) -> TestClient:
    lookup = {}
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode())
        lookup[name] = (path, hashlib.sha256(path.read_bytes()).hexdigest())
    app = Starlette(routes=[viewer_route(lookup.get), static_route()])
    return TestClient(app)


def test_a_cited_markdown_file_is_served_rendered_inert_and_at_the_section(tmp_path) -> None:
    client = _client(tmp_path, {"policy.md": "# P\n\n## 2 Scope\n\nOfficers record every use.\n"})
    url = view_url("policy.md", None, "P > 2 Scope", "Officers record every use.")
    response = client.get("/" + url.split("#")[0])
    assert response.status_code == 200
    assert '<span id="ta-cited"></span>2 Scope' in response.text
    assert "<mark>Officers record every use.</mark>" in response.text
    assert "The quoted passage is highlighted." in response.text
    policy = _directives(response.headers["content-security-policy"])
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert policy["sandbox"].startswith("allow-popups")  # no allow-scripts, no same origin
    assert "http" not in response.headers["content-security-policy"]
    # A quote the file does not hold: said so, the section still shown.
    response = client.get("/view/policy.md", params={"section": "2 Scope", "quote": "Absent."})
    assert "could not be found in this file" in response.text
    assert "<mark" not in response.text


def test_a_cited_pdf_opens_the_viewer_page_with_the_citation(tmp_path) -> None:
    client = _client(tmp_path, {"sub/a b.pdf": "%PDF-1.4 not really"})
    response = client.get("/" + view_url("sub/a b.pdf", 7, "", 'Say "x" <now>.'))
    assert response.status_code == 200
    assert 'data-page="7"' in response.text
    assert 'data-quote="Say &quot;x&quot; &lt;now&gt;."' in response.text
    # From /view/sub/..., the PDF and the assets are two levels up (relative: proxies).
    assert 'data-pdf="../../corpus/sub/a%20b.pdf"' in response.text
    assert 'src="../../ta-static/pdf-viewer.mjs"' in response.text
    policy = _directives(response.headers["content-security-policy"])
    assert policy == _directives(PDF_VIEWER_CSP)
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    assert "http" not in PDF_VIEWER_CSP and "*" not in PDF_VIEWER_CSP
    assert "unsafe-eval" not in PDF_VIEWER_CSP and "script" not in RENDERED_CSP
    # A bad page number is page 1; a document not in the index is not shown.
    assert 'data-page="1"' in client.get("/view/sub/a%20b.pdf?page=-3").text
    assert client.get("/view/other.pdf").status_code == 404
    assert client.get("/view/../secret.md").status_code == 404


def test_static_assets_are_the_bundled_files_only(tmp_path) -> None:
    client = _client(tmp_path, {})
    module = client.get("/ta-static/pdfjs/build/pdf.min.mjs")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")
    assert module.headers["x-content-type-options"] == "nosniff"
    assert (
        client.get("/ta-static/icons/thumbs-up.svg")
        .headers["content-type"]
        .startswith("image/svg+xml")
    )
    for path in ("pdfjs/LICENSE", "../viewer.py", "pdfjs/VERSION", "nope.js"):
        assert client.get(f"/ta-static/{path}").status_code == 404, path
