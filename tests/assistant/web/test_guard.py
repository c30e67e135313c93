"""The request guard and the document route on a small Starlette app: Host, body size,
the login gate, and what a served document may load. The same pieces guard the real app
(tests/assistant/web/test_app_security.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from assistant.web.documents import document_route
from assistant.web.guard import LoginGate, RequestGuard, normalise_host

LIMIT = 64 * 1024
PAGE = b'<html><script>window.gradio_api_info = {"named_endpoints": {"/ask": {}}};</script></html>'


async def echo_size(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body())})


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


def _client(gate: LoginGate | None = None, routes: list | None = None) -> TestClient:
    app = Starlette(
        routes=[Route("/echo", echo_size, methods=["POST"]), Route("/", page), *(routes or [])],
        middleware=[
            Middleware(
                RequestGuard,
                allowed_hosts=["testserver", "localhost", "::1"],
                max_body_bytes=LIMIT,
                upload_paths=["/upload"],
                max_upload_bytes=4 * LIMIT,
                gate=gate,
            )
        ],
    )
    return TestClient(app)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("LocalHost:7860", "localhost"), ("[::1]:7860", "::1"), ("localhost.", "localhost")],
)
def test_host_names_are_compared_without_port_or_case(header: str, expected: str) -> None:
    assert normalise_host(header, with_port=True) == expected


def test_a_foreign_host_header_is_refused_dns_rebinding() -> None:
    """Finding 2: a page on rebind.example whose name now points at 127.0.0.1."""
    client = _client()
    for host in ("rebind.example", "rebind.example:7860", "127.0.0.1.nip.io", "localhost@evil"):
        response = client.get("/", headers={"Host": host})
        assert response.status_code == 400 and "unknown Host" in response.text, host
    assert client.get("/", headers={"Host": "localhost:7860"}).status_code == 200
    assert client.get("/", headers={"Host": "[::1]:7860"}).status_code == 200


def test_a_declared_large_body_is_refused_before_it_is_read() -> None:
    """Finding 7: a body larger than the limit never reaches the route."""
    response = _client().post("/echo", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413 and "send less" in response.json()["detail"]
    assert _client().post("/echo", content=b"x" * LIMIT).json() == {"received": LIMIT}


def test_a_streamed_body_without_length_is_cut_off_at_the_limit() -> None:
    """Finding 7: chunked transfer declares no length; the guard counts as it arrives."""
    sent = []

    def body():
        for _ in range(64):
            sent.append(LIMIT // 4)
            yield b"x" * (LIMIT // 4)

    response = _client().post("/echo", content=body())
    assert response.status_code == 413


def test_an_unreadable_content_length_is_refused() -> None:
    response = _client().post("/echo", content=b"x", headers={"Content-Length": "1e9"})
    assert response.status_code in (400, 413)


def test_with_a_gate_only_public_paths_answer_and_scrubbed() -> None:
    gate = LoginGate(
        user=lambda scope: None,
        public_paths=frozenset({"/"}),
        scrub_html=lambda body: body.replace(b'"/ask": {}', b""),
    )
    client = _client(gate)
    assert client.post("/echo", content=b"{}").status_code == 401
    shown = client.get("/")
    assert shown.status_code == 200 and b"/ask" not in shown.content
    assert int(shown.headers["content-length"]) == len(shown.content)


HOSTILE_HTML = """<html><head><link rel="stylesheet" href="https://cdn.example/x.css">
<style>body{background:url(https://track.example/bg.png)}</style></head>
<body><img src="https://track.example/pixel.gif"><iframe src="https://frame.example/"></iframe>
<script src="https://cdn.example/x.js"></script><p>Policy text.</p></body></html>"""


def test_a_served_html_document_may_load_nothing_from_outside(tmp_path: Path) -> None:
    """Finding 12: the CSP forbids every outside origin, scripts and frames; nosniff."""
    import hashlib

    document = tmp_path / "page.html"
    document.write_text(HOSTILE_HTML, encoding="utf-8")
    sha = hashlib.sha256(document.read_bytes()).hexdigest()
    lookup = {"page.html": (document, sha)}.get
    client = _client(routes=[document_route("corpus", lookup)])
    response = client.get("/corpus/page.html")
    assert response.status_code == 200 and "Policy text." in response.text
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().partition(" ")[::2] for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and "sandbox" in directives
    assert set(directives) <= {"default-src", "style-src", "sandbox"}
    assert "http" not in policy and "*" not in policy
    assert directives["style-src"] == "'unsafe-inline'"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Changed since it was indexed: not served.
    document.write_text(HOSTILE_HTML + "<p>added</p>", encoding="utf-8")
    assert client.get("/corpus/page.html").status_code == 404
