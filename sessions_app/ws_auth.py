"""WebSocket handshake checks: who is connecting, and from which origin.

Channels' `AllowedHostsOriginValidator` refuses a socket with no `Origin`, but product.md §6
accepts key-authenticated clients without one. The rules here:
- a foreign `Origin` is refused whatever the auth;
- a browser (session cookie) must send an `Origin` of ours;
- a key in `X-API-Key`/`Authorization` headers (or `?api_key=`) needs no `Origin`.

Origins are compared as (scheme, host, port), the port implied by the scheme when absent (http
80, https 443), so another port or the other scheme of an allowed host is another origin. Ours,
for the cookie and for keys: the socket's own origin (its `Host`, which must be one of
`ALLOWED_HOSTS`, with the connection's scheme: ws → http, wss → https, or what
`SECURE_PROXY_SSL_HEADER` says, as Django decides `request.scheme`), `DEPOT_ALLOWED_ORIGINS`,
and `CSRF_TRUSTED_ORIGINS` (already trusted with the cookie for writes over HTTP). The CORS
origins (`DEPOT_CORS_ALLOWED_ORIGINS`, config/cors.py) may open a socket with a key only: a page
on another origin never uses Depot's cookie, over HTTP (no credentials) or here.

Refusals are accepted and then closed with a 44xx code (product.md §6): a handshake refused
with HTTP 403 reaches a browser's `CloseEvent` as 1006 and says nothing.
"""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from corsheaders.conf import conf as cors_conf
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

from sessions_app.auth import (
    Principal,
    acting_organization_of,
    authenticate_raw_key,
    principal_for_key,
    principal_for_user,
    raw_key_from_headers,
)

# Close codes in the application range, mirroring HTTP statuses (product.md §6).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_INVALID = 4422

# Depot keys are short printable ASCII (`dpt_<prefix>_<secret>`). Anything else cannot match,
# and must not reach the database: PostgreSQL refuses a NUL in a query parameter with an error.
_PLAUSIBLE_KEY_RE = re.compile(r"[\x21-\x7e]{1,256}")


class WebsocketRefusal:
    """An ASGI app that accepts the socket and closes it at once with `code`."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":  # the client left before the handshake
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": self.code})


DEFAULT_PORTS = {"http": 80, "https": 443}
# What an `Origin` is to a socket: ours (the cookie may be used), a CORS origin (a key only).
OURS = "ours"
KEY_ONLY = "key-only"

Origin = tuple[str, str, int]


def origin_parts(origin: str) -> Origin | None:
    """(scheme, host, port) of an http(s) origin, the port filled in; None for anything else
    ("null", a path, a query, user info, an unparseable or out-of-range port)."""
    try:
        parsed = urlsplit(origin.strip())
        port = parsed.port
    except ValueError:  # "http://[::1" and the like
        return None
    scheme = parsed.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parsed.hostname or "@" in parsed.netloc:
        return None
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment:
        return None
    return scheme, parsed.hostname.lower(), DEFAULT_PORTS[scheme] if port is None else port


def socket_origin(scope: dict[str, Any], headers: dict[str, str]) -> Origin | None:
    """The origin the client connected to: its `Host` (an allowed host only: a name that merely
    resolves here, as after DNS rebinding, is not ours), with the connection's scheme."""
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:  # as Django's HttpRequest.scheme reads it
        meta_name, secure_value = proxy_header
        value = headers.get(meta_name.removeprefix("HTTP_").replace("_", "-").lower())
        if value is not None:
            scheme = "https" if value.split(",", 1)[0].strip() == secure_value else "http"
    host = headers.get("host", "")
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return origin_parts(f"{scheme}://{host}")


def _trusted_for_csrf(origin: str, parts: Origin) -> bool:
    """Django's CSRF rule for `CSRF_TRUSTED_ORIGINS`, ports compared as above; an entry
    `https://*.example.com` covers that domain's subdomains (Django's wildcard)."""
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        if "*" not in entry:
            if origin_parts(entry) == parts:
                return True
            continue
        pattern = urlsplit(entry)
        netloc = urlsplit(origin.strip()).netloc.lower()
        if pattern.scheme.lower() == parts[0] and is_same_domain(netloc, pattern.netloc[1:]):
            return True
    return False


def _cors_origin(origin: str, parts: Origin) -> bool:
    return (
        bool(cors_conf.CORS_ALLOW_ALL_ORIGINS)
        or any(origin_parts(entry) == parts for entry in cors_conf.CORS_ALLOWED_ORIGINS)
        or any(re.match(rule, origin) for rule in cors_conf.CORS_ALLOWED_ORIGIN_REGEXES)
    )


def origin_trust(origin: str, scope: dict[str, Any], headers: dict[str, str]) -> str | None:
    """OURS, KEY_ONLY (a CORS origin) or None (foreign) for a socket's `Origin` header."""
    parts = origin_parts(origin)
    if parts is None:
        return None
    if parts == socket_origin(scope, headers):
        return OURS
    if any(origin_parts(entry) == parts for entry in settings.DEPOT_ALLOWED_ORIGINS):
        return OURS
    if _trusted_for_csrf(origin, parts):
        return OURS
    return KEY_ONLY if _cors_origin(origin, parts) else None


@database_sync_to_async
def _principal_from_key(raw_key: str) -> Principal | None:
    api_key = authenticate_raw_key(raw_key)
    return principal_for_key(api_key) if api_key else None


@database_sync_to_async
def _principal_from_user(user: Any, session: Any) -> Principal | None:
    return principal_for_user(user, acting_organization_of(session))


class PrincipalMiddleware:
    """Puts `scope["principal"]` (or None) and `scope["auth_method"]` on every socket."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        origin = headers.get("origin")
        trust = None if origin is None else origin_trust(origin, scope, headers)
        if origin is not None and trust is None:
            return await WebsocketRefusal(CLOSE_FORBIDDEN_ORIGIN)(scope, receive, send)

        principal: Principal | None = None
        method = None
        raw_key = raw_key_from_headers(headers)
        if raw_key is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            raw_key = (query.get("api_key") or [None])[0]
        if raw_key:
            # An implausible key is a bad key: no principal, so the consumer closes with 4401.
            if _PLAUSIBLE_KEY_RE.fullmatch(raw_key):
                principal = await _principal_from_key(raw_key)
            method = "api_key"
        else:
            user = scope.get("user")
            if user is not None and user.is_authenticated and origin is not None:
                if trust != OURS:  # a CORS origin: keys only, never the cookie
                    return await WebsocketRefusal(CLOSE_FORBIDDEN_ORIGIN)(scope, receive, send)
                principal = await _principal_from_user(user, scope.get("session"))
                method = "session"
        scope = {**scope, "principal": principal, "auth_method": method}
        return await self.inner(scope, receive, send)


def websocket_auth_stack(inner: Any) -> Any:
    """Session cookie → `scope["user"]`, then our key and origin rules."""
    return AuthMiddlewareStack(PrincipalMiddleware(inner))
