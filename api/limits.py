"""Protection from oversized requests (report floods: ``service.ratelimit``), and the
security headers every answer carries (its Content-Security-Policy among them)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.open311_out import MEDIA, errors_of, to_xml
from service.sizes import human_size


class BodyLimit:
    """ASGI middleware: answer 413 to a request body over its path's limit.

    ``limit_for(path)`` gives the limit in bytes.  The declared length is checked
    first; a body sent without one is counted as it arrives.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, int(declared), limit, scope["path"])
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _Overflow
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, tracking)
        except _Overflow:
            if not started:
                await _too_large(send, seen, limit, scope["path"])


class _Overflow(Exception):
    pass


async def _too_large(send: Send, size: int, limit: int, path: str) -> None:
    message = (
        f"the request body is {human_size(size)} or more; the limit here is {human_size(limit)}"
    )
    await send_error(send, 413, "payload_too_large", message, path)


async def send_error(send: Send, status: int, code: str, message: str, path: str = "") -> None:
    """Answer with the service's JSON error shape from inside an ASGI middleware (under
    ``/open311/``, GeoReport's errors list, in XML for a ``.xml`` path)."""
    media = MEDIA["json"]
    if path.startswith("/open311/"):
        errors = errors_of(status, message)
        body = to_xml("errors", errors) if path.endswith(".xml") else json.dumps(errors).encode()
        media = MEDIA["xml"] if path.endswith(".xml") else media
    else:
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class NoNulQuery:
    """ASGI middleware: answer 400 to a query string holding a NUL character.

    No parameter of the service may hold one, PostgreSQL refuses it in text, and
    it is a common probe; refusing it here names the problem instead of letting
    it surface as a database error.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if b"%00" in query or b"\x00" in query:
            message = "the query string holds a NUL character (%00); remove it"
            await send_error(send, 400, "nul_in_query", message, scope["path"])
            return
        await self.app(scope, receive, send)


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
)
NONCE_KEY = "csp_nonce"  # where a request's nonce is kept in its state (request.state.csp_nonce)


def content_security_policy(
    nonce: str | None, img_hosts: Sequence[str] = (), *, workers: bool = False
) -> str:
    """The Content-Security-Policy of an answer: the one definition, for every page.

    Scripts run from this site and, inline, only with ``nonce`` (none without
    one); no inline event handler attributes or ``javascript:`` addresses, no
    ``eval``.  Styles may be inline (Leaflet and Folium set them on elements).
    Images may come from ``img_hosts`` (the basemaps' tile servers) besides this
    site, ``data:`` (icons in stylesheets) and ``blob:`` (photos fetched with a
    staff token, a resident's photo before sending).  ``workers`` lets a page
    start web workers from ``blob:`` addresses (ReDoc's search).
    """
    scripts = f"'self' 'nonce-{nonce}'" if nonce else "'self'"
    directives = [
        ("default-src", "'self'"),
        ("script-src", scripts),
        ("style-src", "'self' 'unsafe-inline'"),
        ("img-src", " ".join(["'self'", "data:", "blob:", *img_hosts])),
        ("connect-src", "'self'"),
        ("font-src", "'self' data:"),
        *([("worker-src", "blob:")] if workers else []),
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
        ("frame-ancestors", "'none'"),
        ("form-action", "'self'"),
    ]
    return "; ".join(f"{name} {value}" for name, value in directives)


def security_headers(nonce: str | None, img_hosts: Sequence[str] = ()) -> dict[str, str]:
    """Every security header of an answer whose inline scripts carry ``nonce``."""
    headers = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}
    return {**headers, "content-security-policy": content_security_policy(nonce, img_hosts)}


class SecurityHeaders:
    """ASGI middleware: every answer says not to sniff types, not to be framed, to keep
    the referrer to this site (a case page's address names the case), and which
    scripts and images it may load (``content_security_policy``).

    Each request gets a fresh nonce in its state (``request.state.csp_nonce``);
    pages put it on their scripts.  A header the app set itself is kept: a page
    that needs more (ReDoc's workers) sets its own policy.
    """

    def __init__(self, app: ASGIApp, img_hosts: Sequence[str] = ()) -> None:
        self.app = app
        self.img_hosts = tuple(img_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})[NONCE_KEY] = nonce
        ours = [
            (k.encode(), v.encode()) for k, v in security_headers(nonce, self.img_hosts).items()
        ]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in ours if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
