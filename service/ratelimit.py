"""Report floods: so many public reports per client per period, counted by ``limits``.

A moving window: a client may make ``rate`` reports in any ``period_s`` seconds,
and the next one is allowed when its oldest report in the window is
``period_s`` old. The counts live in the process (``memory://``), or in Redis
when ``GRIDGOV_REDIS_URL`` is set, so that every worker process and every
instance of a deployment spends one budget per client.

With Redis, each report is stored as a timestamp from the serving process's
clock and compared only with timestamps from that clock; Redis's own clock
only expires a client's idle list after a whole period. So the count does not
depend on the local clock agreeing with Redis's (it holds under ``faketime``
too); the instances sharing one Redis should agree with each other, as NTP
keeps them.
"""

from __future__ import annotations

import hashlib
import math
import time
from urllib.parse import urlsplit

import redis
from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import RedisStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from service.errors import TooMany, Unavailable
from service.settings import Settings

# How long a request waits for Redis before it answers 503 instead of hanging: one
# connection or command, tried at most twice (the second for a pooled connection that
# Redis closed), not the Redis client's default of four tries with growing pauses, which
# would hold a worker thread for many seconds while Redis is away.
REDIS_TIMEOUT_S = 1.0
REDIS_RETRIES = 1


class RateLimit:
    """``rate`` requests per ``period_s`` seconds per client, in a moving window.

    ``storage_url`` is ``memory://`` (this process only) or a Redis URL; keys in
    Redis start with ``prefix``, so that deployments sharing a Redis do not share
    budgets. ``scope`` names what is counted, in the key.
    """

    def __init__(
        self,
        rate: int,
        period_s: int,
        storage_url: str = "memory://",
        *,
        prefix: str = "gridgov",
        scope: str = "reports",
    ) -> None:
        self.item = RateLimitItemPerSecond(rate, period_s)
        self.scope = scope
        self.storage_url = storage_url
        options: dict[str, float | str | bool] = {}
        if not storage_url.startswith("memory:"):
            options = {
                "key_prefix": prefix,
                "socket_connect_timeout": REDIS_TIMEOUT_S,
                "socket_timeout": REDIS_TIMEOUT_S,
            }
        self._storage = storage_from_string(storage_url, wrap_exceptions=True, **options)
        self._limiter = MovingWindowRateLimiter(self._storage)
        client = self._redis()
        if client is not None:
            client.set_retry(Retry(NoBackoff(), retries=REDIS_RETRIES))

    def check(self, client: str) -> None:
        """Spend one of ``client``'s requests, or raise ``TooMany`` saying when to retry.

        Raises ``Unavailable`` when the store of the counts cannot be reached: a
        request is neither let through uncounted nor failed as our fault.
        """
        try:
            if self._limiter.hit(self.item, self.scope, client):
                return
            stats = self._limiter.get_window_stats(self.item, self.scope, client)
        except StorageError as exc:
            raise Unavailable(
                "rate_limit_unavailable",
                f"the rate-limit store {shown_url(self.storage_url)} cannot be reached "
                f"({type(exc.storage_error).__name__}); try again shortly",
            ) from exc
        # 0 when the oldest report left the window between the two calls
        wait = stats.reset_time - time.time() if stats.remaining <= 0 else 0.0
        retry_after_s = max(1, math.ceil(wait))  # never "0": that invites a retry now
        raise TooMany(
            "rate_limited",
            f"too many reports from this device; try again in {retry_after_s} s",
            retry_after_s=retry_after_s,
        )

    def _redis(self) -> redis.Redis | None:
        """The Redis client the counts go through, None in memory."""
        if isinstance(self._storage, RedisStorage):
            client = self._storage.get_connection()
            if isinstance(client, redis.Redis):
                return client
        return None

    def close(self) -> None:
        """Let go of the connections to Redis (nothing to do in memory)."""
        client = self._redis()
        if client is not None:  # its pool was made for this limit alone
            client.close()


def shown_url(url: str) -> str:
    """``url`` without its password, to be named in messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def key_prefix(settings: Settings) -> str:
    """The deployment's prefix for its keys in Redis: ``GRIDGOV_RATE_LIMIT_PREFIX``, else
    one made from the database URL, which every instance of one deployment shares and
    two deployments do not."""
    if settings.rate_limit_prefix:
        return settings.rate_limit_prefix
    digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
    return f"gridgov:{digest}"


def report_limit(settings: Settings) -> RateLimit:
    """The limit on public reports (and their photos) per client, as configured."""
    return RateLimit(
        settings.report_rate,
        settings.report_period_s,
        settings.redis_url or "memory://",
        prefix=key_prefix(settings),
    )
