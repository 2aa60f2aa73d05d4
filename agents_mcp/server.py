"""The MCP server (the SDK's low-level `Server` with Depot's handlers), its one prompt, and the
ASGI application config/asgi.py mounts at `/mcp`.

The request gate (config/request_gate.py) has authenticated the key before this application
runs, and caps the body; this application refuses a request that reached it without a key
(401, before reading any body) and binds each MCP session to the key that opened it (the SDK
answers another key's use of that session id as an unknown session)."""

import asyncio
import json
from typing import Any

import mcp_types as types
from channels.db import database_sync_to_async
from django.conf import settings
from mcp.server import NotificationOptions, Server
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.context import ServerRequestContext
from mcp.server.models import InitializationOptions
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError

from agents_mcp import files, resources, subscriptions, tools
from agents_mcp.access import principal_of, read_cap
from sessions_app.errors import DepotError, error_body
from sessions_app.models import ApiKey
from sessions_app.principals import SCOPE_API_KEY, authenticate_raw_key, raw_key_from_headers

SUMMARISE = "summarise_session"
TOO_MANY_SESSIONS = (
    "This API key has {} MCP sessions open (DEPOT_MCP_MAX_SESSIONS_PER_KEY): end one "
    "(DELETE /mcp with its Mcp-Session-Id) or wait for one to go idle."
)
INSTRUCTIONS = (
    "Depot keeps the files of agent sessions: what users uploaded (attachments) and what "
    "agents wrote (versioned artifacts). Read them as resources (depot://sessions/{id}, "
    "depot://artifacts/{id}) or with read_file; write with write_artifact; search with search."
)


async def list_prompts(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListPromptsResult:
    return types.ListPromptsResult(
        prompts=[
            types.Prompt(
                name=SUMMARISE,
                description="Summarise this session's artifacts: loads its text files as context.",
                arguments=[types.PromptArgument(name="session_id", required=True)],
            )
        ]
    )


def _session_context(principal: Any, session_id: str) -> list[types.PromptMessage]:
    summary = files.session_summary(principal, session_id)
    messages = [
        types.PromptMessage(
            role="user",
            content=types.TextContent(
                text=f"Summarise the artifacts of session {session_id}. Its files follow."
            ),
        )
    ]
    budget = read_cap()
    for entry in summary["files"]:
        if entry.get("purged") or entry["size"] > budget:
            continue
        ref = files.session_file(principal, session_id, entry["id"])
        if not ref.textual:
            continue
        text = ref.read().decode("utf-8", errors="replace")
        budget -= ref.size
        messages.append(
            types.PromptMessage(
                role="user",
                content=types.EmbeddedResource(
                    resource=types.TextResourceContents(
                        uri=ref.uri, mime_type=ref.mime_type, text=text
                    )
                ),
            )
        )
    return messages


async def get_prompt(
    ctx: ServerRequestContext[Any, Any], params: types.GetPromptRequestParams
) -> types.GetPromptResult:
    if params.name != SUMMARISE:
        raise MCPError(types.INVALID_PARAMS, f"No prompt '{params.name}'.")
    session_id = (params.arguments or {}).get("session_id", "")
    try:
        messages = await database_sync_to_async(_session_context)(principal_of(ctx), session_id)
    except DepotError as error:
        raise resources.mcp_error(error) from None
    return types.GetPromptResult(description=f"Session {session_id}", messages=messages)


class DepotServer(Server[Any]):
    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        """Advertises `resources.listChanged`: a session that gains a file says so."""
        return super().create_initialization_options(
            notification_options or NotificationOptions(resources_changed=True),
            experimental_capabilities,
            extensions,
        )


def build_server() -> DepotServer:
    return DepotServer(
        "depot",
        version="0.1.0",
        instructions=INSTRUCTIONS,
        on_list_resources=resources.list_resources,
        on_list_resource_templates=resources.list_templates,
        on_read_resource=resources.read_resource,
        on_subscribe_resource=subscriptions.subscribe,
        on_unsubscribe_resource=subscriptions.unsubscribe,
        on_subscriptions_listen=subscriptions.listen,
        on_list_tools=tools.list_tools,
        on_call_tool=tools.call_tool,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )


async def _send_json(send: Any, status: int, body: dict[str, str], challenge: bool) -> None:
    headers = [(b"content-type", b"application/json")]
    if challenge:
        headers.append((b"www-authenticate", b'Bearer realm="depot"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def _json_errors(send: Any) -> Any:
    """`send` for the SDK's transport, whose refusals before JSON-RPC (a body past
    DEPOT_MCP_MAX_BODY_BYTES, a wrong Content-Type) are bare text: sent as Depot's JSON error
    body, `{"detail": <the SDK's text>}`, like every other refusal."""
    held: dict[str, Any] = {}

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] >= 400:
            types_sent = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
            if not any(b"json" in v for v in types_sent):
                held.update(message, body=b"")
                return
        if message["type"] == "http.response.body" and held:
            held["body"] += message.get("body", b"")
            if message.get("more_body", False):
                return
            detail = held["body"].decode("utf-8", "replace").strip() or "Refused."
            payload = json.dumps(error_body(detail)).encode()
            headers = [
                (k, v)
                for k, v in held.get("headers", [])
                if k.lower() not in (b"content-type", b"content-length")
            ]
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ]
            await send(
                {"type": "http.response.start", "status": held["status"], "headers": headers}
            )
            await send({"type": "http.response.body", "body": payload})
            held.clear()
            return
        await send(message)

    return sending


@database_sync_to_async
def _authenticate(raw_key: str) -> ApiKey | None:
    return authenticate_raw_key(raw_key)


class McpApplication:
    """ASGI: the SDK's Streamable HTTP session manager behind Depot's API-key check. The
    manager's task group starts with the first request (Depot's lifespan is its own)."""

    def __init__(self) -> None:
        self.server = build_server()
        self.manager = StreamableHTTPSessionManager(
            app=self.server,
            max_request_body_size=settings.DEPOT_MCP_MAX_BODY_BYTES,
            session_idle_timeout=settings.DEPOT_MCP_SESSION_IDLE_SECONDS,
        )
        # Opening requests of each key still being answered (counted with its open sessions).
        self._opening: dict[str, int] = {}
        self._running: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()

    async def _run_manager(self) -> None:
        async with self.manager.run():
            self._ready.set()
            await self._stop.wait()

    async def _started(self) -> None:
        if self._running is None:
            self._running = asyncio.create_task(self._run_manager())
        await self._ready.wait()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        api_key = scope.get(SCOPE_API_KEY)
        if api_key is None:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            raw_key = raw_key_from_headers(headers)
            if raw_key is None:
                detail = "An API key is required: X-API-Key or Authorization: Bearer."
                await _send_json(send, 401, error_body(detail), True)
                return
            api_key = await _authenticate(raw_key)
            if api_key is None:
                detail = "Invalid, revoked or expired API key."
                await _send_json(send, 401, error_body(detail), True)
                return
        token = AccessToken(
            token=f"key:{api_key.prefix}",
            client_id=f"key:{api_key.pk}",
            scopes=["read"] if api_key.read_only else ["read", "write"],
        )
        scope = {
            **scope,
            SCOPE_API_KEY: api_key,
            "user": AuthenticatedUser(token),
            "auth": token.scopes,
        }
        await self._started()
        send = _json_errors(send)
        if scope["method"] != "POST" or any(k == b"mcp-session-id" for k, _ in scope["headers"]):
            await self.manager.handle_request(scope, receive, send)
            return
        # A request without a session id opens one. The SDK's limit (10,000) is for the whole
        # server: one key could take every place (and ~40 KiB each) for the idle timeout, and
        # every other tenant would get 503s. Each key gets its own share.
        owner = token.client_id
        cap = settings.DEPOT_MCP_MAX_SESSIONS_PER_KEY
        if self._open_sessions(owner) >= cap:
            await _send_json(send, 429, error_body(TOO_MANY_SESSIONS.format(cap)), False)
            return
        self._opening[owner] = self._opening.get(owner, 0) + 1
        counted = True

        def answered() -> None:
            # Once, at the answer's start or the request's end: by its start a session it
            # opened is in the manager's owner table, so counting the opening after that
            # counted the session twice, until the handler's own end (a client opening
            # sessions one after another met its cap one early).
            nonlocal counted
            if counted:
                counted = False
                self._opening[owner] -= 1
                if not self._opening[owner]:
                    del self._opening[owner]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answered()
            await send(message)

        try:
            await self.manager.handle_request(scope, receive, sending)
        finally:
            answered()

    def _open_sessions(self, client_id: str) -> int:
        """This key's sessions: open ones (the manager's owner table, which it empties as
        sessions end, refused openings included) and openings being answered."""
        owners = self.manager._session_owners.values()  # the SDK has no public count
        mine = sum(1 for owner in owners if owner.get("client_id") == client_id)
        return mine + self._opening.get(client_id, 0)


_application: McpApplication | None = None


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Created on first use: the manager's asyncio objects belong to the serving loop."""
    global _application
    if _application is None:
        _application = McpApplication()
    await _application(scope, receive, send)
