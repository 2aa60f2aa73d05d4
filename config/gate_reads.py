"""The one read the request gate answers itself: `GET /api/uploads/{sid}` (the seed-000 list)
for a key the gate has authenticated.

Agents poll this list. Through Django it cost about 6 ms of CPU for 20 items, against 0.16 ms
for a bare ASGI app reading the same rows (issue 11): the ORM building two queries, DRF and
eight middlewares around a read that needs none of them. Here the page is one prepared
statement on the gate's kept connection (attachments/listing.py, which the DRF view uses too)
and the same bytes and headers Django would send.

Only the plain case: a GET with no body and no cookie, for a valid host over plain HTTP,
asking for JSON, with at most `limit` and a good `cursor` in the query. Anything else, and a
session the caller does not have, goes on to Django as before, which answers its errors.
"""

import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host

from attachments import listing
from config.observability import route_of
from config.rate_limits import bucket_for, rate_for
from sessions_app.api.common import decode_cursor
from sessions_app.errors import InvalidInput
from sessions_app.models import ApiKey
from sessions_app.principals import principal_for_key, raw_key_from_headers
from sessions_app.selectors import validate_session_id

LIST_PREFIX = "/api/uploads/"
LIST_ROUTE = "api/uploads/<str:session_id>"
# What DRF's content negotiation answers with JSON (its first renderer); a missing Accept
# header counts as `*/*`, and an empty one is its 406.
JSON_ACCEPTS = {b"*/*", b"application/json"}
DEFAULT_LIMIT, MAX_LIMIT = 50, 200  # PageQuerySerializer's
LIMIT_RE = re.compile(r"[0-9]{1,3}")


def security_headers() -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware adds to an answer over plain HTTP, with these settings."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"X-Content-Type-Options", b"nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        headers.append((b"Referrer-Policy", settings.SECURE_REFERRER_POLICY.encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        coop = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()
        headers.append((b"Cross-Origin-Opener-Policy", coop))
    return headers


def view_headers(
    length: int, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> list[tuple[bytes, bytes]]:
    """The headers of a JSON answer of SessionUploadsView (the list's and the upload's route)
    as Django sends them, in its order (tests compare them); `extra` are the response's own
    (a 503's Retry-After), which DRF sets before its Vary and Allow."""
    return [
        (b"Content-Type", b"application/json"),
        *extra,
        (b"Vary", b"Accept"),
        (b"Allow", b"GET, POST, HEAD, OPTIONS"),
        (b"X-Frame-Options", settings.X_FRAME_OPTIONS.encode()),
        (b"Content-Length", str(length).encode()),
        *security_headers(),
    ]


def plain_http(scope: dict[str, Any], headers: dict[bytes, bytes]) -> bool:
    """Whether Django would answer this request without a redirect or an HTTPS-only header:
    plain HTTP, no proxy header that may make it HTTPS, an allowed host."""
    if scope.get("scheme") == "https" or getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        return False
    if settings.SECURE_SSL_REDIRECT:
        return False
    host = headers.get(b"host", b"")
    return bool(host) and host_allowed(host, tuple(settings.ALLOWED_HOSTS))


@lru_cache(maxsize=64)
def host_allowed(host: bytes, allowed: tuple[str, ...]) -> bool:
    """Django's check of a Host header against ALLOWED_HOSTS, kept per (host, setting): a
    client sends the same one every time, and the check was a tenth of a `/healthz`."""
    return validate_host(split_domain_port(host.decode("latin-1"))[0], list(allowed))


def _page_query(query_string: bytes) -> tuple[int, int | None] | None:
    """(limit, id below which to list) from `limit` and `cursor`, or None for anything else
    (Django then validates it and answers the error)."""
    limit, before_id = DEFAULT_LIMIT, None
    if not query_string:
        return limit, before_id
    try:
        pairs = parse_qsl(query_string.decode("ascii"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names) or not set(names) <= {"limit", "cursor"}:
        return None
    for name, value in pairs:
        if name == "limit":
            if not LIMIT_RE.fullmatch(value) or not 1 <= int(value) <= MAX_LIMIT:
                return None
            limit = int(value)
        elif value:
            try:
                before_id = decode_cursor(value)
            except InvalidInput:
                return None
    return limit, before_id


def list_request(
    scope: dict[str, Any], headers: dict[bytes, bytes]
) -> tuple[str, int, int | None] | None:
    """(session id, limit, before id) when the gate may answer this request itself."""
    path = scope["path"]
    if scope["method"] != "GET" or not path.startswith(LIST_PREFIX):
        return None
    session_id = path[len(LIST_PREFIX) :]
    try:
        validate_session_id(session_id)
    except InvalidInput:
        return None
    # No Accept header is `*/*`; an empty one is DRF's 406, Django's to answer.
    if b"cookie" in headers or headers.get(b"accept", b"*/*") not in JSON_ACCEPTS:
        return None
    if b"transfer-encoding" in headers or headers.get(b"content-length", b"0") != b"0":
        return None
    if not plain_http(scope, headers) or route_of(path) != LIST_ROUTE:
        return None
    query = _page_query(scope.get("query_string", b""))
    if query is None:
        return None
    return session_id, *query


def page_body(api_key: ApiKey, session_id: str, limit: int, before_id: int | None) -> bytes | None:
    try:
        rows = listing.page_rows(
            principal=principal_for_key(api_key),
            session_id=session_id,
            limit=limit,
            before_id=before_id,
        )
    except DatabaseError:
        return None  # Django meets the same error and answers it its way
    return None if rows is None else listing.render(listing.page(rows, limit))


def reads_unlimited(scope: dict[str, Any]) -> bool:
    """Whether a keyed read of this path meets no rate limit (the gate's rate check would
    pass it without counting)."""
    return rate_for(bucket_for(scope["method"], scope["path"], authenticated=True)) is None


async def answer_list(api_key: ApiKey, wanted: tuple[str, int, int | None], send: Any) -> bool:
    """Answer the list; False (nothing sent) when Django must: the caller has no such session."""
    body = await database_sync_to_async(page_body)(api_key, *wanted)
    if body is None:
        return False
    await send_page(send, body)
    return True


async def send_page(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": view_headers(len(body))})
    await send({"type": "http.response.body", "body": body})


def headers_of(scope: dict[str, Any]) -> dict[bytes, bytes]:
    """The request's headers by lower-case name, repeated ones joined (cookies by `; `)."""
    joined: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        name = name.lower()
        separator = b"; " if name == b"cookie" else b", "
        joined[name] = joined[name] + separator + value if name in joined else value
    return joined


def raw_key_of(headers: dict[bytes, bytes]) -> str | None:
    """The API key `headers_of`' headers carry (`raw_key_from_headers`' rules), or None."""
    return raw_key_from_headers(
        {
            "x-api-key": headers.get(b"x-api-key", b"").decode("latin-1"),
            "authorization": headers.get(b"authorization", b"").decode("latin-1"),
        }
    )


def upload_session_id(scope: dict[str, Any]) -> str | None:
    """The session id of a `POST /api/uploads/{sid}` (a valid one), else None."""
    path = scope["path"]
    if scope["method"] != "POST" or not path.startswith(LIST_PREFIX):
        return None
    session_id = path[len(LIST_PREFIX) :]
    try:
        validate_session_id(session_id)
    except InvalidInput:
        return None
    return session_id
