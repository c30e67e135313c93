"""The app's front door: one ASGI middleware that every request passes before any route.

It checks, in this order:
1. the Host header against `app.allowed_hosts` (400 otherwise): a page on another site
   that rebinds its DNS name to 127.0.0.1 reaches the port, but not with our host name;
2. the body size, by Content-Length and again as the body streams in (413): a route never
   holds more than `app.max_request_kb` of one request (uploads: `ingest.max_file_mb`);
3. with a login required, a live session for everything but the login page and its static
   files (401): deny by default, so a route Gradio adds in a new version is closed too.

It is plain ASGI (no Gradio import): the app passes in how to find a request's user.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The address of the client whose request runs now: the login throttle counts by it.
CLIENT_ADDRESS: contextvars.ContextVar[str] = contextvars.ContextVar("client", default="")
MAX_PUBLIC_HTML_BYTES = 2_000_000  # the login page is a few KB; more is not the login page


class _TooLarge(Exception):
    """The body grew past the limit while streaming in."""


@dataclass
class LoginGate:
    """What the guard needs to know about logins, from the app."""

    user: Callable[[Scope], str | None]  # the live session's user, or None
    public_paths: frozenset[str] = frozenset()
    public_prefixes: tuple[str, ...] = ()
    # Pages shown before a login (the login form) go through this: it removes what a
    # visitor without a session must not read (Gradio embeds the API description).
    scrub_html: Callable[[bytes], bytes] = field(default=lambda body: body)

    def is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)


class RequestGuard:
    """The middleware; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Iterable[str],
        max_body_bytes: int,
        upload_paths: Iterable[str] = (),
        max_upload_bytes: int = 0,
        gate: LoginGate | None = None,
    ) -> None:
        self.app = app
        self.allowed_hosts = {normalise_host(h) for h in allowed_hosts}
        self.max_body_bytes = max_body_bytes
        self.upload_paths = frozenset(upload_paths)
        self.max_upload_bytes = max(max_upload_bytes, max_body_bytes)
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if _header(scope, b"host") is None or self._host(scope) not in self.allowed_hosts:
            await _refuse(scope, send, 400, "This address is not served here (unknown Host).")
            return
        path = scope.get("path", "")
        signed_in = True
        if self.gate is not None and not self.gate.is_public(path):
            if self.gate.user(scope) is None:
                await _refuse(scope, send, 401, "Not logged in, or the session has ended: log in.")
                return
        elif self.gate is not None:
            signed_in = self.gate.user(scope) is not None
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload_bytes if path in self.upload_paths else self.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(send, limit)
            return
        token = CLIENT_ADDRESS.set((scope.get("client") or ("", 0))[0])
        try:
            await self._bounded(scope, receive, send, limit, scrub=not signed_in)
        finally:
            CLIENT_ADDRESS.reset(token)

    def _host(self, scope: Scope) -> str:
        return normalise_host((_header(scope, b"host") or "").rpartition("@")[2], with_port=True)

    async def _bounded(
        self, scope: Scope, receive: Receive, send: Send, limit: int, scrub: bool
    ) -> None:
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        held: list[Message] = []

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # whatever the route made of the cut-off body, the answer is 413
                return
            if scrub and self.gate is not None and _is_html_start(message, held):
                held.append(message)
                return
            if held:
                held.append(message)
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    started = True
                    for part in _scrubbed(held, self.gate.scrub_html):
                        await send(part)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _too_large(send, limit)


def normalise_host(host: str, with_port: bool = False) -> str:
    """`[::1]:7860` -> `::1`, `LocalHost.:80` -> `localhost`; `with_port` strips a port."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif with_port and host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _is_html_start(message: Message, held: list[Message]) -> bool:
    if held or message["type"] != "http.response.start":
        return False
    headers = dict(message.get("headers", []))
    return headers.get(b"content-type", b"").startswith(b"text/html")


def _scrubbed(held: list[Message], scrub: Callable[[bytes], bytes]) -> list[Message]:
    start, parts = held[0], held[1:]
    body = b"".join(p.get("body", b"") for p in parts if p["type"] == "http.response.body")
    body = scrub(body) if len(body) <= MAX_PUBLIC_HTML_BYTES else b""
    headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    return [{**start, "headers": headers}, {"type": "http.response.body", "body": body}]


async def _too_large(send: Send, limit: int) -> None:
    await _send_json(
        send,
        413,
        f"The request is larger than this app accepts ({limit // 1024:,} KB); send less.",
    )


async def _refuse(scope: Scope, send: Send, status: int, detail: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await _send_json(send, status, detail)


async def _send_json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
