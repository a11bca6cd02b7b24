"""Protection from oversized requests and from report floods."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError


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
    body = json.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": f"the request body is {human_size(size)} or more; "
                f"the limit here is {human_size(limit)}",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def human_size(n: int) -> str:
    """Bytes as KB or MB, for messages."""
    return f"{n / (1 << 20):.1f} MB" if n >= 1 << 20 else f"{n / 1024:.0f} KB"


class RateLimit:
    """A token bucket per client: ``rate`` requests per ``period`` seconds."""

    def __init__(self, rate: int, period: float) -> None:
        self.rate, self.period = rate, period
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Spend a token for ``client`` or raise a 429 saying when to retry."""
        now = time.monotonic()
        refill = self.rate / self.period
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * refill)
            if tokens < 1:
                wait = (1 - tokens) / refill
                self._buckets[client] = (tokens, now)
                raise ApiError(
                    429,
                    "rate_limited",
                    f"too many reports from this device; try again in {wait:.0f} s",
                    headers={"Retry-After": f"{wait:.0f}"},
                )
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > 50_000:  # forget idle clients
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.period}
