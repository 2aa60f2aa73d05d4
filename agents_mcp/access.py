"""Who an MCP request acts for: the API key the request gate authenticated (the same keys,
headers and tenancy as REST), reduced to the `Principal` every selector scopes by."""

from typing import Any

from django.conf import settings
from mcp.server.context import ServerRequestContext

from sessions_app.errors import DepotError
from sessions_app.models import ApiKey
from sessions_app.principals import SCOPE_API_KEY, Principal, principal_for_key

# Set by the stdio server (agents_mcp.stdio): there is no HTTP request to carry a key.
STDIO_KEY: dict[str, ApiKey] = {}


class ReadOnly(DepotError):
    status_code = 403
    default_detail = "This API key is read-only: it cannot call write tools."


def api_key_of(ctx: ServerRequestContext[Any, Any]) -> ApiKey:
    request = ctx.request
    if request is not None:
        api_key = request.scope.get(SCOPE_API_KEY)
        if isinstance(api_key, ApiKey):
            return api_key
    elif "key" in STDIO_KEY:
        return STDIO_KEY["key"]
    # The transport refuses a request without a key (agents_mcp.asgi); this is a backstop.
    raise PermissionError("No API key on this MCP request.")


def principal_of(ctx: ServerRequestContext[Any, Any]) -> Principal:
    return principal_for_key(api_key_of(ctx))


def require_writer(principal: Principal) -> None:
    if principal.read_only:
        raise ReadOnly()


def read_cap() -> int:
    """The most bytes one `resources/read` or `read_file` returns."""
    return int(settings.DEPOT_MCP_READ_MAX_BYTES)
