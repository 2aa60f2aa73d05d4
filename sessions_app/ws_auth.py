"""WebSocket handshake checks: who is connecting, and from which origin.

Channels' `AllowedHostsOriginValidator` refuses a socket with no `Origin`, but product.md §6
accepts key-authenticated clients without one. The rules here:
- a foreign `Origin` is refused whatever the auth;
- a browser (session cookie) must send an `Origin` of ours;
- a key in `X-API-Key`/`Authorization` headers (or `?api_key=`) needs no `Origin`.

Refusals are accepted and then closed with a 44xx code (product.md §6): a handshake refused
with HTTP 403 reaches a browser's `CloseEvent` as 1006 and says nothing.
"""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import split_domain_port, validate_host

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


def origin_allowed(origin: str) -> bool:
    if origin in settings.DEPOT_ALLOWED_ORIGINS:
        return True
    try:
        parsed = urlsplit(origin)
        hostname = parsed.hostname
    except ValueError:  # "http://[::1" and the like: not an origin of ours
        return False
    if parsed.scheme not in {"http", "https"} or not hostname:
        return False
    host, _ = split_domain_port(parsed.netloc)
    return validate_host(host, settings.ALLOWED_HOSTS)


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
        if origin is not None and not origin_allowed(origin):
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
                principal = await _principal_from_user(user, scope.get("session"))
                method = "session"
        scope = {**scope, "principal": principal, "auth_method": method}
        return await self.inner(scope, receive, send)


def websocket_auth_stack(inner: Any) -> Any:
    """Session cookie → `scope["user"]`, then our key and origin rules."""
    return AuthMiddlewareStack(PrincipalMiddleware(inner))
