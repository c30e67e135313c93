"""Who may reach the app: the staff sign-in routes, login sessions, the guard's settings.

Gradio's login keeps its tokens for the life of the process and binds the admin tab to
nothing better than the client's `session_hash`; here a login ends when it is idle too long
or its account leaves the users file, and a staff sign-in is a random token in an HttpOnly,
SameSite=Strict cookie that only `/staff/sign-in` sets. Wrong passwords at either door go
through one throttle (`assistant.access.throttle`) and into the audit trail.

No Gradio import: `assistant.web.app` puts these together with the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assistant.access.audit import AuditLog, record_login_failure
from assistant.access.auth import AuthError, User, UserStore, check_name
from assistant.access.sessions import SessionTable
from assistant.access.throttle import LoginThrottle, retry_after
from assistant.web.admin import Admin, WrongPasswordError
from assistant.web.guard import LoginGate, RequestGuard
from ingest.settings import Settings

STAFF_COOKIE = "toolkit-staff"
# What the browser loads before a login: the login form and its static files. Everything
# else needs a session (`assistant.web.guard`), so a route Gradio adds later is closed too.
# `startup-events` is Gradio's own call to itself at launch: it starts the queue, no data.
_PUBLIC_PATHS = frozenset(
    {"/", "/login", "/login/", "/favicon.ico", "/manifest.json", "/gradio_api/startup-events"}
)
_PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/theme.css", "/gradio_api/theme.css")
_UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/upload/")


@dataclass
class WebAccess:
    """Who is signed in, and who has guessed too often: shared by the handlers of
    `build_app`, the routes and the guard of `launch`."""

    settings: Settings
    audit: AuditLog
    admin: Admin
    users: UserStore
    staff: SessionTable  # staff sign-in cookie -> user name
    logins: SessionTable  # Gradio's login token -> user name, for the idle timeout
    throttle: LoginThrottle

    @classmethod
    def create(cls, settings: Settings, audit: AuditLog, admin: Admin) -> WebAccess:
        idle = settings.auth.session_idle_minutes * 60
        throttle = LoginThrottle(free=settings.auth.max_failed_logins)
        sessions = SessionTable(idle), SessionTable(idle)
        return cls(settings, audit, admin, admin.users, *sessions, throttle)

    def refuse_if_throttled(self, name: str, address: str) -> None:
        """HTTP 429 with Retry-After while this name or address must wait."""
        wait = self.throttle.wait_seconds(name, address)
        if wait > 0:
            raise HTTPException(
                429,
                f"Too many wrong passwords: try again in {retry_after(wait)} s.",
                headers={"Retry-After": retry_after(wait)},
            )

    def failed(self, name: str, address: str, where: str) -> None:
        locked = self.throttle.failed(name, address)
        try:
            check_name(name)
        except AuthError:
            name = "(not a user name)"  # e.g. a password typed into the name field
        record_login_failure(self.audit, name, address, where, locked)

    def succeeded(self, name: str, address: str, method: str) -> None:
        """A right password at `method` ("login" or "staff"): the throttle forgets this
        name's failures, and the sign-in goes on the governance stream of the audit trail."""
        self.throttle.succeeded(name, address)
        self.audit.sign_in(name, "ok", address, method)

    def staff_user(self, request: object) -> User | None:
        """The staff sign-in's user, from the server's cookie, if it is still live."""
        cookies = getattr(request, "cookies", None) or {}
        return self.users.current(self.staff.user(cookies.get(STAFF_COOKIE)))

    def login_user(self, scope: dict) -> str | None:
        """The app login's user for this request, or None (the guard then answers 401).

        Gradio keeps login tokens in `app.tokens` for the life of the process: here a token
        ends when it is idle too long or its account is gone from the users file.
        """
        gradio_app = scope.get("app")
        tokens = getattr(gradio_app, "tokens", None)
        cookie_id = getattr(gradio_app, "cookie_id", None)
        if tokens is None or cookie_id is None:
            return None
        cookies = Request(scope).cookies
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(
            f"access-token-unsecure-{cookie_id}"
        )
        name = tokens.get(token) if token else None
        if name is None:
            return None
        if not self.logins.known(token):
            self.logins.adopt(token, name)
        if self.logins.user(token) is None or self.users.current(name) is None:
            tokens.pop(token, None)
            self.logins.drop(token)
            return None
        return name


def allowed_hosts(settings: Settings) -> list[str]:
    """`app.allowed_hosts`, and the bind address when it names one host (not 0.0.0.0)."""
    hosts = list(settings.app.allowed_hosts)
    if settings.app.host not in ("", "0.0.0.0", "::"):
        hosts.append(settings.app.host)
    return hosts


def guard(settings: Settings, access: WebAccess) -> Middleware:
    gate = None
    if settings.auth.require_login:
        gate = LoginGate(
            user=access.login_user,
            public_paths=_PUBLIC_PATHS,
            public_prefixes=_PUBLIC_PREFIXES,
            scrub_html=_without_api_info,
        )
    return Middleware(
        RequestGuard,
        allowed_hosts=allowed_hosts(settings),
        max_body_bytes=settings.app.max_request_kb * 1024,
        upload_paths=_UPLOAD_PATHS,
        # The file itself plus the multipart framing around it.
        max_upload_bytes=int(settings.ingest.max_file_mb * 1024 * 1024) + 64 * 1024,
        gate=gate,
    )


_API_INFO_START = b"<script>window.gradio_api_info = "
_API_INFO_NONE = b'{"named_endpoints": {}, "unnamed_endpoints": {}}'


def _without_api_info(page: bytes) -> bytes:
    """Gradio's login page with the API description it embeds taken out.

    Gradio writes it as `<script>window.gradio_api_info = {...};</script>`, JSON escaped so
    that `</script>` cannot occur inside it: the first `;</script>` after the start ends it.
    """
    start = page.find(_API_INFO_START)
    if start < 0:
        return page
    value = start + len(_API_INFO_START)
    end = page.find(b";</script>", value)
    if end < 0:
        return b""  # not the page we know: show nothing rather than leak it
    return page[:value] + _API_INFO_NONE + page[end:]


def staff_routes(access: WebAccess) -> list[Route]:
    """`/staff/sign-in` and `/staff/sign-out`: the staff cookie is set and cleared here only."""

    async def sign_in(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name") or "").strip()[:200]
        password = str(form.get("password") or "")[:200]
        address = request.client.host if request.client else ""
        try:
            access.refuse_if_throttled(name, address)
        except HTTPException as err:
            return JSONResponse(
                {"ok": False, "message": err.detail}, status_code=429, headers=err.headers
            )
        try:
            user = await asyncio.to_thread(access.admin.sign_in, name, password)
        except WrongPasswordError as err:
            access.failed(name, address, "staff sign-in")
            return JSONResponse({"ok": False, "message": str(err)}, status_code=403)
        except (PermissionError, AuthError) as err:
            return JSONResponse({"ok": False, "message": str(err)}, status_code=403)
        await asyncio.to_thread(access.succeeded, user.name, address, "staff")
        response = JSONResponse({"ok": True, "message": ""})
        response.set_cookie(
            STAFF_COOKIE, access.staff.create(user.name), httponly=True, samesite="strict"
        )
        return response

    async def sign_out(request: Request) -> Response:
        access.staff.drop(request.cookies.get(STAFF_COOKIE))
        response = JSONResponse({"ok": True, "message": "Signed out."})
        response.delete_cookie(STAFF_COOKIE, httponly=True, samesite="strict")
        return response

    return [
        Route("/staff/sign-in", sign_in, methods=["POST"]),
        Route("/staff/sign-out", sign_out, methods=["POST"]),
    ]
