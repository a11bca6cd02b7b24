"""Report floods: a token bucket per client."""

from __future__ import annotations

import math
import threading
import time

from service.errors import TooMany


class RateLimit:
    """A token bucket per client: ``rate`` requests per ``period`` seconds."""

    def __init__(self, rate: int, period: float) -> None:
        self.rate, self.period = rate, period
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Spend a token for ``client`` or raise TooMany saying when to retry."""
        now = time.monotonic()
        refill = self.rate / self.period
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * refill)
            if tokens < 1:
                wait = (1 - tokens) / refill
                self._buckets[client] = (tokens, now)
                raise TooMany(
                    "rate_limited",
                    f"too many reports from this device; try again in {math.ceil(wait)} s",
                    retry_after_s=max(1, math.ceil(wait)),  # never "0": that invites a retry now
                )
            self._buckets[client] = (tokens - 1, now)
            if len(self._buckets) > 50_000:  # forget idle clients
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.period}
