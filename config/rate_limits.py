"""Per-caller request rates, checked by the request gate before any body is read.

Two budgets per API key (or logged-in user): reads and writes, so that a flood of polls cannot
starve a client's uploads and the other way round. The long-polls, uploads and the search POST
(a read) all pass the gate, so every HTTP route counts. Callers without credentials are counted
per client address. Counters are fixed windows in Django's cache: Redis in production, so every
Depot process shares them; the process's memory on the embedded default.

Answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the
window ends); a refusal is a JSON 429 with `Retry-After`.
"""

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# POSTs that only read: a read-only key may send them, and they count as reads.
READ_POSTS = re.compile(r"^/api/v1/orgs/[^/]+/workspaces/[^/]+/namespaces/[^/]+/artifacts/query$")


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @classmethod
    def parse(cls, value: str, *, setting: str) -> "Rate | None":
        """`600/min`, `10/s`, `5000/h`, `100/5m`; empty means no limit."""
        if not value.strip():
            return None
        match = _RATE.match(value.lower())
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{setting} must look like 600/min, 10/s or 5000/h, not {value!r}")
        count, multiplier, unit = match.groups()
        return cls(int(count), int(multiplier or 1) * _UNITS[unit[0]])


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends

    def headers(self) -> list[tuple[bytes, bytes]]:
        found = [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            found.append((b"retry-after", str(self.reset).encode()))
        return found


def rate_limits_on() -> bool:
    return any(
        rate is not None
        for rate in (
            settings.DEPOT_RATE_LIMIT_READS,
            settings.DEPOT_RATE_LIMIT_WRITES,
            settings.DEPOT_RATE_LIMIT_ANONYMOUS,
        )
    )


def rate_for(bucket: str) -> Rate | None:
    return {
        "read": settings.DEPOT_RATE_LIMIT_READS,
        "write": settings.DEPOT_RATE_LIMIT_WRITES,
        "anonymous": settings.DEPOT_RATE_LIMIT_ANONYMOUS,
    }[bucket]


def bucket_for(method: str, path: str, *, authenticated: bool) -> str:
    if not authenticated:
        return "anonymous"
    reading = method in {"GET", "HEAD", "OPTIONS"} or (
        method == "POST" and READ_POSTS.match(path) is not None
    )
    return "read" if reading else "write"


async def rate_check(bucket: str, caller: str) -> Verdict | None:
    """Count one request of `caller` against `bucket`; None when that bucket has no limit."""
    rate = rate_for(bucket)
    if rate is None:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    key = f"depot:rate:{bucket}:{caller}:{window}"
    try:
        # add() is a no-op when the key exists; incr() is atomic on Redis.
        await cache.aadd(key, 0, timeout=rate.seconds + 1)
        try:
            count = await cache.aincr(key)
        except ValueError:  # expired between the two calls
            await cache.aset(key, 1, timeout=rate.seconds + 1)
            count = 1
    except Exception as error:
        # The counters live in the cache (Redis in production): while it is down, requests
        # are not counted rather than all refused. /readyz reports the outage.
        logger.warning("rate limits not counted, the cache failed: %s", type(error).__name__)
        return None
    reset = max(int((window + 1) * rate.seconds - now), 1)
    return Verdict(count <= rate.limit, rate.limit, max(rate.limit - count, 0), reset)


def client_address(scope: dict[str, Any], headers: dict[bytes, bytes]) -> str:
    """The caller's address: the scope's peer, or, behind DEPOT_TRUSTED_PROXIES proxies, the
    address the outermost trusted proxy saw in `X-Forwarded-For`. Any entry further left was
    written by the client itself and proves nothing."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    proxies = settings.DEPOT_TRUSTED_PROXIES
    if proxies <= 0:
        return str(peer)
    forwarded = [
        part.strip()
        for part in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return forwarded[0] if forwarded else str(peer)
    return forwarded[-proxies]
