"""Protection from oversized requests (report floods: ``service.ratelimit``)."""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
            await _too_large(send, int(declared), limit)
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
                await _too_large(send, seen, limit)


class _Overflow(Exception):
    pass


async def _too_large(send: Send, size: int, limit: int) -> None:
    message = (
        f"the request body is {human_size(size)} or more; the limit here is {human_size(limit)}"
    )
    await send_error(send, 413, "payload_too_large", message)


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    """Answer with the service's JSON error shape from inside an ASGI middleware."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
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
            await send_error(send, 400, "nul_in_query", message)
            return
        await self.app(scope, receive, send)


SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeaders:
    """ASGI middleware: every answer says not to sniff types, not to be framed, and to
    keep the referrer to this site (a case page's address names the case)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
