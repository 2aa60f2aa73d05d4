"""WebSocket handshake checks: who is connecting, and from which origin.

Channels' `AllowedHostsOriginValidator` refuses a socket with no `Origin`, but product.md §6
accepts key-authenticated clients without one. The rules here:
- a foreign `Origin` is refused whatever the auth;
- a browser (session cookie) must send an `Origin` of ours;
- a key in `X-API-Key`/`Authorization` headers (or `?api_key=`) needs no `Origin`.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from sessions_app.auth import (
    Principal,
    authenticate_raw_key,
    principal_for_key,
    principal_for_user,
    raw_key_from_headers,
)


def origin_allowed(origin: str) -> bool:
    if origin in settings.DEPOT_ALLOWED_ORIGINS:
        return True
    parsed = urlsplit(origin)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        return False
    host, _ = split_domain_port(parsed.netloc)
    return validate_host(host, settings.ALLOWED_HOSTS)


@database_sync_to_async
def _principal_from_key(raw_key: str) -> Principal | None:
    api_key = authenticate_raw_key(raw_key)
    return principal_for_key(api_key) if api_key else None


@database_sync_to_async
def _principal_from_user(user: Any) -> Principal | None:
    return principal_for_user(user)


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
            return await WebsocketDenier()(scope, receive, send)

        principal: Principal | None = None
        method = None
        raw_key = raw_key_from_headers(headers)
        if raw_key is None:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            raw_key = (query.get("api_key") or [None])[0]
        if raw_key:
            principal, method = await _principal_from_key(raw_key), "api_key"
        else:
            user = scope.get("user")
            if user is not None and user.is_authenticated and origin is not None:
                principal, method = await _principal_from_user(user), "session"
        scope = {**scope, "principal": principal, "auth_method": method}
        return await self.inner(scope, receive, send)


def websocket_auth_stack(inner: Any) -> Any:
    """Session cookie → `scope["user"]`, then our key and origin rules."""
    return AuthMiddlewareStack(PrincipalMiddleware(inner))
