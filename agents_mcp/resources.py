"""`resources/*`: the caller's sessions and artifacts, listed a page at a time with the
protocol's cursor, and read as text or base64 up to DEPOT_MCP_READ_MAX_BYTES."""

import json
from typing import Any

import mcp_types as types
from channels.db import database_sync_to_async
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from agents_mcp import files
from agents_mcp.access import principal_of, read_cap
from artifacts import selectors as artifact_selectors
from sessions_app import selectors as session_selectors
from sessions_app.errors import DepotError, InvalidInput, NotFound
from sessions_app.principals import Principal

PAGE_SIZE = 50
RESOURCE_NOT_FOUND = -32002  # the code the MCP specification gives an unknown resource

TEMPLATES = [
    types.ResourceTemplate(
        uri_template="depot://sessions/{session_id}",
        name="session",
        description="A session: its status and its files (attachments and artifacts).",
        mime_type="application/json",
    ),
    types.ResourceTemplate(
        uri_template="depot://sessions/{session_id}/files/{id}",
        name="session-file",
        description="One file of a session, by attachment or artifact id.",
    ),
    types.ResourceTemplate(
        uri_template="depot://artifacts/{artifact_id}",
        name="artifact",
        description="An artifact's latest version.",
    ),
    types.ResourceTemplate(
        uri_template="depot://artifacts/{artifact_id}/versions/{n}",
        name="artifact-version",
        description="Version n of an artifact.",
    ),
]


def mcp_error(error: DepotError) -> MCPError:
    if isinstance(error, NotFound):
        return MCPError(RESOURCE_NOT_FOUND, error.detail)
    code = types.INVALID_PARAMS if isinstance(error, InvalidInput) else types.INVALID_REQUEST
    return MCPError(code, error.detail, {"status": error.status_code})


def _page(principal: Principal, cursor: str | None) -> tuple[list[types.Resource], str | None]:
    """Sessions newest first, then artifacts newest first. The cursor is `s<id>` or `a<root
    id>`: the last row the previous page gave."""
    kind, last = "s", None
    if cursor:
        if cursor[:1] not in {"s", "a"} or not cursor[1:].isdigit():
            raise MCPError(types.INVALID_PARAMS, "Invalid cursor.")
        kind, last = cursor[:1], int(cursor[1:])
    found: list[types.Resource] = []
    if kind == "s":
        sessions = session_selectors.session_list(principal=principal)
        if last is not None:
            sessions = sessions.filter(id__lt=last)
        rows = list(sessions[: PAGE_SIZE + 1])
        for session in rows[:PAGE_SIZE]:
            found.append(
                types.Resource(
                    uri=files.session_uri(session.session_id),
                    name=f"session {session.session_id}",
                    description=f"Session {session.session_id} ({session.status})",
                    mime_type="application/json",
                )
            )
        if len(rows) > PAGE_SIZE:
            return found, f"s{rows[PAGE_SIZE - 1].pk}"
        kind, last = "a", None
    artifacts = artifact_selectors.artifact_scope(principal=principal).filter(is_latest=True)
    if last is not None:
        artifacts = artifacts.filter(root_id__lt=last)
    room = PAGE_SIZE - len(found)
    rows_a = list(artifacts.select_related("root").order_by("-root_id")[: room + 1])
    for artifact in rows_a[:room]:
        found.append(
            types.Resource(
                uri=files.artifact_uri(artifact.root_artifact_id),
                name=artifact.name or artifact.root_artifact_id,
                description=f"Artifact {artifact.root_artifact_id}, version {artifact.version}",
                mime_type=artifact.content_type,
                size=artifact.size_bytes,
            )
        )
    if len(rows_a) > room:
        return found, f"a{rows_a[room - 1].root_id}"
    return found, None


@database_sync_to_async
def _list(principal: Principal, cursor: str | None) -> tuple[list[types.Resource], str | None]:
    return _page(principal, cursor)


async def list_resources(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListResourcesResult:
    resources, next_cursor = await _list(principal_of(ctx), params.cursor if params else None)
    return types.ListResourcesResult(resources=resources, next_cursor=next_cursor)


async def list_templates(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)


def resolve(principal: Principal, uri: str) -> files.FileRef | dict[str, Any]:
    """The file a URI names (or a session's summary), in the caller's tenancy."""
    if match := files.SESSION_URI.match(uri):
        return files.session_summary(principal, match["session_id"])
    if match := files.SESSION_FILE_URI.match(uri):
        return files.session_file(principal, match["session_id"], match["file_id"])
    if match := files.ARTIFACT_URI.match(uri):
        version = int(match["n"]) if match["n"] else None
        artifact = files.artifact_version(principal, match["artifact_id"], version)
        return files.artifact_ref(artifact, uri)
    raise NotFound(f"No resource '{uri}'.")


def _read(principal: Principal, uri: str, base_url: str) -> types.ReadResourceResult:
    try:
        found = resolve(principal, uri)
    except DepotError as error:
        raise mcp_error(error) from None
    if isinstance(found, dict):
        text = json.dumps(found, default=str)
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type="application/json", text=text)]
        )
    cap = read_cap()
    if found.size > cap:
        url = f"{base_url}{found.rest_path}"
        raise MCPError(
            types.INVALID_REQUEST,
            f"This file is {found.size} bytes, over the MCP read limit of {cap} bytes: "
            f"download it from {url} (with the same API key), or use the read_file tool "
            "with an offset and length.",
            {"download_url": url, "size": found.size, "limit": cap},
        )
    try:
        block = files.content_block(found, found.read())
    except DepotError as error:
        raise mcp_error(error) from None
    if "text" in block:
        content: types.TextResourceContents | types.BlobResourceContents = (
            types.TextResourceContents(uri=uri, mime_type=found.mime_type, text=block["text"])
        )
    else:
        content = types.BlobResourceContents(uri=uri, mime_type=found.mime_type, blob=block["blob"])
    return types.ReadResourceResult(contents=[content])


def base_url_of(ctx: ServerRequestContext[Any, Any]) -> str:
    request = ctx.request
    return str(request.base_url).rstrip("/") if request is not None else ""


async def read_resource(
    ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
) -> types.ReadResourceResult:
    read = database_sync_to_async(_read)
    result: types.ReadResourceResult = await read(
        principal_of(ctx), str(params.uri), base_url_of(ctx)
    )
    return result
