"""CORS for browsers on other origins: django-cors-headers' rules, applied in front of everything.

django-cors-headers is a Django middleware, but many of Depot's answers never pass through
Django's middleware: the request gate's 401, 413 and 429 (config/request_gate.py), long-polls
(Channels consumers), streamed uploads, tus and MCP. A browser can read none of those without
CORS headers, not even the 429's Retry-After. So this ASGI layer sits outside the gate and asks
django-cors-headers' own `CorsMiddleware` what to do, with a Django request built from the
scope's head alone (no body is read):

- a preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here, without a key,
  before the gate would refuse it for having none;
- every other answer gets the headers the package would add (`Access-Control-Allow-Origin`
  for an allowed origin, `Access-Control-Expose-Headers`, `Vary: Origin`).

The paths are `/api/` and `/mcp` (the MCP streamable-HTTP endpoint, agents_mcp/: a browser
MCP client sends `Mcp-Session-Id`, `Mcp-Protocol-Version` and `Last-Event-ID`, and reads the
`Mcp-Session-Id` that initialize answers with). An origin matches an entry in scheme, host and
port, an explicit default port (`https://ui.example:443`) being the same origin as none, as the
WebSocket check compares them (sessions_app/ws_auth.py).

Off (the request passes untouched) while no origin is allowed: `DEPOT_CORS_ALLOWED_ORIGINS`
empty, the default. Settings are the package's `CORS_*` ones (config/settings.py). Whether it
is on is read once (the first request) and kept, not read on every request: settings do not
change in a running server, and when a test changes a `CORS_*` one (Django's `setting_changed`
signal, which pytest-django's `settings` fixture and `override_settings` send) it is read again.
"""

from typing import Any
from urllib.parse import SplitResult

from corsheaders.conf import conf
from corsheaders.middleware import CorsMiddleware
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from sessions_app.ws_auth import origin_parts

Scope = dict[str, Any]
# The only request headers the rules read.
READ_HEADERS = {
    b"origin",
    b"access-control-request-method",
    b"access-control-request-headers",
    b"access-control-request-private-network",
}


_on: bool | None = None  # cors_on()'s answer, once read


def cors_on() -> bool:
    global _on
    if _on is None:
        _on = bool(
            conf.CORS_ALLOW_ALL_ORIGINS
            or conf.CORS_ALLOWED_ORIGINS
            or conf.CORS_ALLOWED_ORIGIN_REGEXES
        )
    return _on


@receiver(setting_changed)
def _cors_setting_changed(*, setting: str, **_: Any) -> None:
    global _on
    if setting.startswith("CORS_"):
        _on = None


class CorsRules(CorsMiddleware):
    """django-cors-headers' rules, with an allowed origin compared by (scheme, host, port)
    instead of the package's exact scheme and netloc."""

    def _url_in_whitelist(self, url: SplitResult) -> bool:
        parts = origin_parts(url.geturl())
        return parts is not None and any(
            origin_parts(entry) == parts for entry in conf.CORS_ALLOWED_ORIGINS
        )


def _request(scope: Scope) -> HttpRequest:
    request = HttpRequest()
    request.method = scope["method"]
    request.path = request.path_info = scope["path"]
    for name, value in scope["headers"]:
        if name.lower() in READ_HEADERS:
            key = name.decode("latin-1").upper().replace("-", "_")
            request.META[f"HTTP_{key}"] = value.decode("latin-1")
    return request


def _cors_headers(response: HttpResponseBase) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower().startswith("access-control-")
    ]


def _with_vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`Vary: origin` added to the answer's own Vary (caches must key on the origin)."""
    varies = [value for name, value in headers if name.lower() == b"vary"]
    listed = {part.strip().lower() for value in varies for part in value.split(b",")}
    if b"origin" in listed or b"*" in listed:
        return headers
    others = [(name, value) for name, value in headers if name.lower() != b"vary"]
    return [*others, (b"vary", b", ".join([*varies, b"origin"]))]


class CorsLayer:
    """ASGI middleware for `http`, outside the request gate."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules = CorsRules(lambda request: HttpResponse())

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not cors_on():
            await self.app(scope, receive, send)
            return
        request = _request(scope)
        preflight = self.rules.check_preflight(request)
        if preflight is not None:
            self.rules.add_response_headers(request, preflight)
            headers = _with_vary_origin(_cors_headers(preflight))
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*headers, (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        marked = self.rules.add_response_headers(request, HttpResponse())
        extra = _cors_headers(marked)
        enabled = getattr(request, "_cors_enabled", False)

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and enabled:
                own = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if not name.lower().startswith(b"access-control-")
                ]
                message = {**message, "headers": _with_vary_origin([*own, *extra])}
            await send(message)

        await self.app(scope, receive, sending)
