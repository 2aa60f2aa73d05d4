"""The outermost ASGI layer: a request id, the access log, Prometheus' request metrics, and
/metrics itself.

- Every request gets an id: a client's `X-Request-ID` when it is a short token, else a new one;
  it is sent back in `X-Request-ID` and bound (with the route and principal) to every log line
  the request causes, in Django's threads too (contextvars travel with asgiref).
- The access log (DEPOT_ACCESS_LOG, on by default): one `request` line per answer, with
  method, path, route, status, duration and bytes; one `websocket` line per closed socket.
- The route is the URL pattern (`api/sessions/<str:session_id>`), not the path, so metrics
  have one series per route, not per id.
- /metrics (DEPOT_METRICS): with DEPOT_METRICS_TOKEN set, `Authorization: Bearer <token>`;
  without one, loopback clients only. Answered here, before the request gate.
"""

import hmac
import json
import logging
import random
import re
import time
from functools import lru_cache
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import Resolver404, resolve

from config import logs
from ops import metrics
from sessions_app.errors import error_body
from sessions_app.routing import long_poll_urlpatterns

logger = logging.getLogger("depot.metrics")

GROUP_RE = re.compile(r"\(\?P<(\w+)>[^)]*\)")
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
Scope = dict[str, Any]


@lru_cache(maxsize=4096)
def route_of(path: str) -> str:
    for pattern in long_poll_urlpatterns:
        if pattern.pattern.match(path.lstrip("/")):
            return f"longpoll:{clean_route(str(pattern.pattern))}"
    if path == "/mcp" or path.startswith("/mcp/"):
        return "mcp"
    try:
        match = resolve(path)
    except Resolver404:
        return "unmatched"
    return clean_route(match.route) or match.view_name or "unmatched"


def clean_route(route: str) -> str:
    """`api/sessions/(?P<session_id>[^/]+)$` (a re_path) reads `api/sessions/<session_id>`."""
    return GROUP_RE.sub(r"<\1>", route).lstrip("^").rstrip("$")


# The only request headers this layer reads: one pass over the scope's headers finds them all.
READ_HEADERS = frozenset((b"x-api-key", b"authorization", b"cookie", b"x-request-id"))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _read_headers(scope: Scope) -> dict[bytes, bytes]:
    """The first value of each header in READ_HEADERS the request carries (as `_header`)."""
    found: dict[bytes, bytes] = {}
    for key, value in scope.get("headers", ()):
        if key in READ_HEADERS or (key := key.lower()) in READ_HEADERS:
            found.setdefault(key, value)
    return found


def principal_of(scope: Scope, headers: dict[bytes, bytes] | None = None) -> str:
    """Who is calling, from the credentials sent (no lookup): the key's public prefix, a
    login session, or nobody. Whether they were valid, the status says."""
    if headers is None:
        headers = _read_headers(scope)
    raw = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    if not raw:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        raw = token.strip() if scheme.lower() == "bearer" else ""
    if raw.startswith("dpt_"):
        return f"key:{raw[4:].partition('_')[0][:16]}"
    if raw:
        return "key:malformed"
    if b"sessionid=" in headers.get(b"cookie", b""):
        return "login-session"
    return "anonymous"


def request_id_of(scope: Scope, headers: dict[bytes, bytes] | None = None) -> str:
    if headers is None:
        headers = _read_headers(scope)
    sent = headers.get(b"x-request-id", b"").decode("latin-1")
    # 32 random hex digits, as uuid4().hex gives, without building a UUID (2 µs a request) or
    # a getrandom() call (6% of a list's CPU): an id to find a request by, not a secret, and
    # `random` reseeds in each forked worker.
    return sent if REQUEST_ID_RE.fullmatch(sent) else f"{random.getrandbits(128):032x}"


# Prometheus children by label values: `labels()` takes a lock and builds a tuple each time; the
# label sets are few (method x route x status), so each child is looked up once.
_CHILDREN: dict[tuple[Any, ...], Any] = {}
_MAX_CHILDREN = 4096


def _child(metric: Any, *values: str) -> Any:
    key = (metric, *values)
    child = _CHILDREN.get(key)
    if child is None:
        child = metric.labels(*values)
        if len(_CHILDREN) < _MAX_CHILDREN:
            _CHILDREN[key] = child
    return child


class Observed:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            if scope["path"] == "/metrics" and settings.DEPOT_METRICS:
                await self.metrics(scope, send)
                return
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Any, send: Any) -> None:
        start = time.monotonic()
        route = route_of(scope["path"])
        method = scope["method"] if scope["method"] in METHODS else "other"
        headers = _read_headers(scope)
        request_id = request_id_of(scope, headers)
        request_id_header = (b"x-request-id", request_id.encode())
        answer = [500, 0]  # status, body bytes
        long_poll = route.startswith("longpoll:")

        async def observed_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "http.response.body":
                answer[1] += len(message.get("body", b""))
            elif kind == "http.response.start":
                answer[0] = message["status"]
                message = {
                    **message,
                    "headers": [*(message.get("headers") or ()), request_id_header],
                }
            await send(message)

        if long_poll:
            metrics.LONG_POLLS_WAITING.inc()
        # bind and reset by token: what bound_contextvars does, without its context manager
        # and its read of every bound variable.
        tokens = structlog.contextvars.bind_contextvars(
            request_id=request_id, route=route, principal=principal_of(scope, headers)
        )
        try:
            await self.app(scope, receive, observed_send)
        finally:
            try:
                duration = time.monotonic() - start
                status = answer[0]
                _child(metrics.HTTP_REQUESTS, method, route, str(status)).inc()
                _child(metrics.HTTP_LATENCY, method, route).observe(duration)
                if settings.DEPOT_ACCESS_LOG:
                    logs.access(
                        "request",
                        method=scope["method"],
                        path=scope["path"],
                        status=status,
                        duration_ms=round(duration * 1000, 1),
                        bytes=answer[1],
                        client=(scope.get("client") or ["-"])[0],
                    )
            finally:
                structlog.contextvars.reset_contextvars(**tokens)
                if long_poll:
                    metrics.LONG_POLLS_WAITING.dec()

    async def websocket(self, scope: Scope, receive: Any, send: Any) -> None:
        start = time.monotonic()
        accepted = {"open": False}
        route = route_of(scope["path"])

        async def observed_send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.accept" and not accepted["open"]:
                accepted["open"] = True
                metrics.WEBSOCKETS.inc()
                metrics.WEBSOCKETS_OPEN.inc()
            await send(message)

        with structlog.contextvars.bound_contextvars(
            request_id=request_id_of(scope), route=route, principal=principal_of(scope)
        ):
            try:
                await self.app(scope, receive, observed_send)
            finally:
                if accepted["open"]:
                    metrics.WEBSOCKETS_OPEN.dec()
                if settings.DEPOT_ACCESS_LOG:
                    logs.access(
                        "websocket",
                        path=scope["path"],
                        accepted=accepted["open"],
                        duration_ms=round((time.monotonic() - start) * 1000, 1),
                    )

    async def metrics(self, scope: Scope, send: Any) -> None:
        token = settings.DEPOT_METRICS_TOKEN
        if token:
            scheme, _, sent = _header(scope, b"authorization").partition(" ")
            # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a
            # 500 for any client sending `Bearer é`).
            allowed = scheme.lower() == "bearer" and hmac.compare_digest(
                sent.strip().encode("latin-1"), token.encode()
            )
            refusal = (401, "Send Authorization: Bearer <DEPOT_METRICS_TOKEN>.")
        else:
            allowed = (scope.get("client") or [""])[0] in LOOPBACK
            refusal = (403, "Metrics answer loopback clients only; set DEPOT_METRICS_TOKEN.")
        if not allowed:
            body = json.dumps(error_body(refusal[1])).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": refusal[0],
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        text = await sync_to_async(metrics.render, thread_sensitive=False)()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": text})
