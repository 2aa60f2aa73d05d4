"""The first thing every HTTP request meets: who is calling, and how much body it may send.

Django's ASGI handler reads a whole request body into a temporary file before any middleware
or view runs, and Channels' HTTP consumers (the long-polls) keep it in memory. Limits and the
authentication that decides them must therefore sit in front of both, here:

- Under `/api/`, a key that does not authenticate is a 401 at once, whatever the request (DRF
  would answer the same after reading the body). A valid key travels on in the scope
  (`SCOPE_API_KEY`), so DRF's authentication does not look it up a second time.
- Under `/api/`, a write or a request that carries a body without a valid key or a logged-in
  Django session is a 401 before one byte of it is read (no endpoint there takes either
  anonymously). A `Cookie` header that merely names the
  session cookie is not a session: the session must exist and belong to an active user.
- A body may not pass its cap: `DEPOT_MAX_BODY_BYTES` for authenticated callers,
  `DEPOT_MAX_ANONYMOUS_BODY_BYTES` for everyone else (the admin login form needs little).
  A declared `Content-Length` over the cap is a 413 before the body is read; a chunked body
  gets its 413 the moment it passes the cap, and the application behind sees a disconnect.
- Requests under `/api/` are counted against the caller's rate (config/rate_limits.py): a
  refusal is a 429 before anything else is done.
- A POST under `/api/` with an `Idempotency-Key` runs at most once per caller and key
  (config/idempotency.py).
- Multipart uploads under `/api/` go to the streaming upload middleware instead, which writes
  file parts to storage as they arrive and bounds files and text fields itself.
"""

import asyncio
from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import auth
from django.http.cookie import parse_cookie

from attachments.uploads.middleware import FORM_OVERHEAD_ALLOWANCE, is_streamed_upload, send_json
from config import gate_reads, loop_keys
from config.gate_reads import headers_of, raw_key_of
from config.idempotency import BAD_KEY, idempotent, valid_key
from config.idempotency import HEADER as IDEMPOTENCY_HEADER
from config.rate_limits import Verdict, bucket_for, client_address, rate_check, rate_limits_on
from sessions_app.errors import error_body
from sessions_app.models import ApiKey
from sessions_app.principals import (
    SCOPE_API_KEY,
    SCOPE_SESSION_PK,
    authenticate_raw_key,
)

Scope = dict[str, Any]
# Methods that carry no body in practice; a body that arrives anyway still meets the caps.
READ_METHODS = {"GET", "HEAD", "OPTIONS"}
CHALLENGE = ((b"www-authenticate", b'Bearer realm="depot"'),)
INVALID_KEY = error_body("Invalid, revoked or expired API key.")
NOT_AUTHENTICATED = error_body("Authentication credentials were not provided.")
BODY_TIMEOUT = error_body("The request body stopped arriving; nothing was kept.")
RATE_LIMITED = error_body("Too many requests: try again after Retry-After seconds.")
NUL_PATH = error_body("Not found.")


# `/healthz` as config.views.healthz answers it through Django's middleware, byte for byte:
# load balancers call it often, and Django's chain cost 0.6 ms of CPU around a constant.
HEALTHZ_BODY = b'{"status": "ok"}'
HEALTHZ_HEADERS = [
    (b"Content-Type", b"application/json"),
    (b"X-Frame-Options", settings.X_FRAME_OPTIONS.encode()),
    (b"Content-Length", str(len(HEALTHZ_BODY)).encode()),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", settings.SECURE_REFERRER_POLICY.encode()),
    (b"Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()),
]


def healthz_here(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    """Whether the gate may answer `/healthz` itself: a plain GET or HEAD without a body, for an
    allowed host, where Django's answer would be the constant (over HTTPS with HSTS, or behind a
    proxy header that may make it HTTPS, Django answers, with its extra header)."""
    if scope["method"] not in ("GET", "HEAD") or _has_body(headers) or scope.get("query_string"):
        return False
    if scope.get("scheme") == "https" or getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return False
    host = headers.get(b"host", b"")
    return bool(host) and gate_reads.host_allowed(host, tuple(settings.ALLOWED_HOSTS))


def declared_length(headers: dict[bytes, bytes]) -> int | None:
    value = headers.get(b"content-length", b"").strip()
    return int(value) if value.isdigit() else None


def _has_body(headers: dict[bytes, bytes]) -> bool:
    return b"transfer-encoding" in headers or bool(declared_length(headers))


async def _authenticate_key(raw_key: str, scope: Scope) -> tuple[ApiKey | None, int | None]:
    """The usable key (None: none), read on the event loop when it can say yes there
    (config/loop_keys.usable_key), else by `authenticate_raw_key` on the request's thread;
    and for a `POST /api/uploads/{sid}`, the id of the session row `sid` named for the key
    when the loop read it (None: not read, or no such session yet)."""
    read = await loop_keys.usable_key(raw_key, gate_reads.upload_session_id(scope))
    if read is not None:
        return read.api_key, read.session_pk
    return await _authenticate_key_on_thread(raw_key), None


@database_sync_to_async
def _authenticate_key_on_thread(raw_key: str) -> ApiKey | None:
    return authenticate_raw_key(raw_key)


@database_sync_to_async
def _authenticate_key_and_page(
    raw_key: str, wanted: tuple[str, int, int | None]
) -> tuple[ApiKey | None, bytes | None]:
    """The key lookup and the seed-000 list's page in one trip to the database thread (each
    trip is about 0.12 ms of CPU here): the key (None: not usable) and the page's body (None:
    Django answers). Only where no rate limit sits between the two (`reads_unlimited`)."""
    api_key = authenticate_raw_key(raw_key)
    return api_key, None if api_key is None else gate_reads.page_body(api_key, *wanted)


@database_sync_to_async
def _logged_in_user(session_key: str) -> int | None:
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # get_user reads only `request.session`, and checks the session's auth hash and backend.
    user = auth.get_user(SimpleNamespace(session=store))  # type: ignore[arg-type]
    return user.pk if user.is_authenticated and user.is_active else None


async def _session_user(headers: dict[bytes, bytes]) -> int | None:
    """The id of the active user whose live Django session the Cookie header carries."""
    cookies = parse_cookie(headers.get(b"cookie", b"").decode("latin-1"))
    session_key = cookies.get(settings.SESSION_COOKIE_NAME, "")
    # Django's session keys are 32 lower-case letters and digits; anything else is not one.
    if not (8 <= len(session_key) <= 64 and session_key.isalnum()):
        return None
    return await _logged_in_user(session_key)


class BodyLimit:
    """`receive` and `send` for an application whose body may not pass `cap` bytes (None: the
    application bounds it) and must keep arriving: a client that sends nothing for
    `idle_seconds` before the body is complete gets a 408. Either refusal answers the client
    here; the application sees a disconnect, as if the client had gone away mid-body."""

    def __init__(self, receive: Any, send: Any, cap: int | None, idle_seconds: float) -> None:
        self._receive = receive
        self._send = send
        self.cap = cap
        self.idle_seconds = idle_seconds
        self.received = 0
        self.body_complete = False
        self.refused = False
        self.response_started = False

    async def receive(self) -> dict[str, Any]:
        if self.refused:
            return {"type": "http.disconnect"}
        if self.body_complete or self.idle_seconds <= 0:
            # After the body, a receive waits for a disconnect, as long as the answer takes.
            message = await self._receive()
        else:
            # asyncio.timeout, not wait_for: wait_for (Python 3.11) wraps each receive in a task
            # of its own, about 12 us on each of a 1 MiB upload's ~17 chunks.
            try:
                async with asyncio.timeout(self.idle_seconds):
                    message = await self._receive()
            except TimeoutError:
                return await self._refuse(408, BODY_TIMEOUT)
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.cap is not None and self.received > self.cap:
                return await self._refuse(413, too_large(self.cap))
            self.body_complete = not message.get("more_body", False)
        return message

    async def _refuse(self, status: int, body: dict[str, str]) -> dict[str, Any]:
        self.refused = True
        if not self.response_started:
            await send_json(self._send, status, body)
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if self.refused:
            return  # the refusal has answered this request
        if message["type"] == "http.response.start":
            self.response_started = True
        await self._send(message)


def too_large(cap: int) -> dict[str, Any]:
    return error_body(f"Request body is larger than the limit of {cap} bytes.")


def _with_headers(send: Any, extra: list[tuple[bytes, bytes]]) -> Any:
    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


class RequestGate:
    """ASGI middleware for `http`: authentication and body limits before any application."""

    def __init__(self, app: Any, *, uploads: Any, tus: Any = None) -> None:
        self.app = app
        self.uploads = uploads
        self.tus = tus  # the tus server (artifacts/tus/streaming_app.py): it bounds its own bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            # No route names anything with a NUL (a `%00` the server decoded), and PostgreSQL
            # refuses one in a query parameter: each id that reached the database was a 500.
            await send_json(send, 404, NUL_PATH)
            return
        headers = headers_of(scope)
        if scope["path"] == "/healthz" and healthz_here(scope, headers):
            await send({"type": "http.response.start", "status": 200, "headers": HEALTHZ_HEADERS})
            await send({"type": "http.response.body", "body": HEALTHZ_BODY})
            return
        # MCP at /mcp (agents_mcp/) takes the same keys and meets the same checks as /api/.
        under_api = scope["path"].startswith(("/api/", "/mcp"))
        caller: str | None = None  # "key:<prefix>" or "user:<pk>" once authenticated
        raw_key = raw_key_of(headers)
        page: bytes | None = None
        session_pk: int | None = None
        if raw_key is not None and under_api:
            # The seed-000 list is answered here, its key and its page read in one trip to the
            # database thread (config/gate_reads.py), when no rate limit comes between.
            wanted = gate_reads.list_request(scope, headers)
            if wanted is not None and gate_reads.reads_unlimited(scope):
                # (What the event loop's own read did not answer: config/loop_reads.py.)
                api_key, page = await _authenticate_key_and_page(raw_key, wanted)
            else:
                api_key, session_pk = await _authenticate_key(raw_key, scope)
            if api_key is None:
                verdict = await self._rate_check(scope, headers, None)
                if verdict is not None and not verdict.allowed:
                    await send_json(send, 429, RATE_LIMITED, tuple(verdict.headers()))
                else:
                    await send_json(send, 401, INVALID_KEY, CHALLENGE)
                return
            if page is not None:
                await gate_reads.send_page(send, page)
                return
            scope = {**scope, SCOPE_API_KEY: api_key}
            if session_pk is not None:
                scope[SCOPE_SESSION_PK] = session_pk
            caller = f"key:{api_key.prefix}"

        writing = scope["method"] not in READ_METHODS
        may_have_body = writing or _has_body(headers)
        # A browser's reads need no check here (Django authenticates them); its writes and
        # bodies do, and so does its rate when rates are limited.
        if caller is None and (may_have_body or (under_api and rate_limits_on())):
            user_id = await _session_user(headers)
            caller = f"user:{user_id}" if user_id is not None else None
        if under_api:
            verdict = await self._rate_check(scope, headers, caller)
            if verdict is not None:
                if not verdict.allowed:
                    await send_json(send, 429, RATE_LIMITED, tuple(verdict.headers()))
                    return
                send = _with_headers(send, verdict.headers())
        authenticated = caller is not None
        if under_api and not authenticated and may_have_body:
            # No endpoint under /api/ takes an anonymous write or body.
            await send_json(send, 401, NOT_AUTHENTICATED, CHALLENGE)
            return
        idempotency_key = headers.get(IDEMPOTENCY_HEADER)
        if idempotency_key is not None and under_api and caller and scope["method"] == "POST":
            if not valid_key(idempotency_key):
                await send_json(send, 422, BAD_KEY)
                return
            await idempotent(
                self._dispatch,
                {**scope, "depot.authenticated": authenticated},
                receive,
                send,
                caller=caller,
                key=idempotency_key,
                headers=headers,
                body_cap=self._body_cap(scope, headers, authenticated=authenticated),
                send_json=send_json,
            )
            return
        await self._dispatch({**scope, "depot.authenticated": authenticated}, receive, send)

    def _body_cap(self, scope: Scope, headers: dict[bytes, bytes], *, authenticated: bool) -> int:
        if is_streamed_upload(scope, headers):
            return (
                settings.DEPOT_MAX_UPLOAD_BYTES
                + settings.DEPOT_MAX_FORM_TEXT_BYTES
                + FORM_OVERHEAD_ALLOWANCE
            )
        if authenticated:
            return settings.DEPOT_MAX_BODY_BYTES
        if scope["path"].startswith("/api/"):
            return 0  # a read without credentials (the schema, a signed download)
        return settings.DEPOT_MAX_ANONYMOUS_BODY_BYTES

    async def _dispatch(self, scope: Scope, receive: Any, send: Any) -> None:
        """Past authentication and rates: uploads stream; every other body meets its cap."""
        headers = headers_of(scope)
        idle = settings.DEPOT_BODY_IDLE_SECONDS
        if self.tus is not None and scope["path"].startswith(self.tus.prefix):
            watched = BodyLimit(receive, send, None, idle)
            await self.tus(scope, watched.receive, watched.send)
            return
        if is_streamed_upload(scope, headers):
            watched = BodyLimit(receive, send, None, idle)
            await self.uploads(scope, watched.receive, watched.send)
            return
        # The seed-000 list in one statement, without Django (config/gate_reads.py), when a
        # rate check came between the key and here.
        keyed: ApiKey | None = scope.get(SCOPE_API_KEY)
        wanted = gate_reads.list_request(scope, headers) if keyed is not None else None
        if (
            keyed is not None
            and wanted is not None
            and await gate_reads.answer_list(keyed, wanted, send)
        ):
            return
        cap = self._body_cap(scope, headers, authenticated=scope["depot.authenticated"])
        declared = declared_length(headers)
        if declared is not None and declared > cap:
            await send_json(send, 413, too_large(cap))
            return
        limit = BodyLimit(receive, send, cap, idle)
        await self.app(scope, limit.receive, limit.send)

    async def _rate_check(
        self, scope: Scope, headers: dict[bytes, bytes], caller: str | None
    ) -> Verdict | None:
        bucket = bucket_for(scope["method"], scope["path"], authenticated=caller is not None)
        return await rate_check(bucket, caller or f"addr:{client_address(scope, headers)}")
