"""`tools/list` and `tools/call`: each tool's input schema, and the dispatch to
agents_mcp.operations in a worker thread. A read-only key is not shown the write tools, and
calling one anyway is a tool error that says why; a Depot error (not found, invalid input,
a limit) is a tool error carrying the REST status and detail."""

import json
from collections.abc import Callable
from typing import Any

import mcp_types as types
from channels.db import database_sync_to_async
from mcp.server.context import ServerRequestContext

from agents_mcp import operations
from agents_mcp.access import ReadOnly, principal_of, require_writer
from sessions_app.errors import DepotError, InvalidInput
from sessions_app.principals import Principal

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
SESSION_ID = {"type": "string", "description": "A session id."}
WHERE = {
    "workspace": {"type": "string", "description": "Workspace slug (default: the key's)."},
    "namespace": {"type": "string", "description": "Namespace slug (default: default)."},
}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or []}


SPECS: dict[str, tuple[str, dict[str, Any], bool]] = {
    # name: (description, input schema, writes)
    "list_sessions": (
        "The sessions this key can see, newest first.",
        _object({"limit": INTEGER, "status": STRING}),
        False,
    ),
    "list_files": (
        "A session's files: attachments and artifacts, with ids, types and sizes.",
        _object({"session_id": SESSION_ID}, ["session_id"]),
        False,
    ),
    "read_file": (
        "Read a file by id: an attachment or artifact of a session (give session_id), or an "
        "artifact version (artifact id, optional version). Reads a window of offset and length "
        "bytes; text comes back as text, anything else as base64.",
        _object(
            {
                "file_id": STRING,
                "session_id": SESSION_ID,
                "version": INTEGER,
                "offset": {"type": "integer", "minimum": 0},
                "length": {"type": "integer", "minimum": 1},
            },
            ["file_id"],
        ),
        False,
    ),
    "write_artifact": (
        "Create an artifact (name, content or content_base64), or, with artifact_id, its next "
        "version. Text goes in content with a content_type; bytes in content_base64.",
        _object(
            {
                "artifact_id": STRING,
                "name": STRING,
                "content": STRING,
                "content_base64": STRING,
                "content_type": STRING,
                "description": STRING,
                "artifact_type": STRING,
                "session_id": SESSION_ID,
                **WHERE,
            }
        ),
        True,
    ),
    "get_versions": (
        "Every version of an artifact, newest first.",
        _object({"artifact_id": STRING}, ["artifact_id"]),
        False,
    ),
    "diff_versions": (
        "A unified diff between two text versions of an artifact (default: the latest).",
        _object(
            {"artifact_id": STRING, "from_version": INTEGER, "to_version": INTEGER},
            ["artifact_id", "from_version"],
        ),
        False,
    ),
    "search": (
        "Search the latest artifacts of a namespace: hits with score and matched chunk, and "
        "combined_context (the matched chunks, best first).",
        _object(
            {
                "query": STRING,
                "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                "artifact_types": {"type": "array", "items": STRING},
                "thread_id": STRING,
                **WHERE,
            },
            ["query"],
        ),
        False,
    ),
    "upload_attachment": (
        "Upload a small file into a session (created on first write): text in content, bytes "
        "in content_base64.",
        _object(
            {
                "session_id": SESSION_ID,
                "name": STRING,
                "content": STRING,
                "content_base64": STRING,
                "description": STRING,
            },
            ["session_id", "name"],
        ),
        True,
    ),
    "complete_session": (
        "Mark a session completed (or failed).",
        _object(
            {"session_id": SESSION_ID, "status": {"enum": ["completed", "failed"]}},
            ["session_id"],
        ),
        True,
    ),
}
OPERATIONS: dict[str, Callable[[Principal, dict[str, Any]], dict[str, Any]]] = {
    name: getattr(operations, name) for name in SPECS
}


def tool_list(principal: Principal) -> list[types.Tool]:
    return [
        types.Tool(
            name=name,
            description=description,
            input_schema=schema,
            annotations=types.ToolAnnotations(read_only_hint=not writes),
        )
        for name, (description, schema, writes) in SPECS.items()
        if not (writes and principal.read_only)
    ]


async def list_tools(
    ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    return types.ListToolsResult(tools=tool_list(principal_of(ctx)))


def _error(error: DepotError) -> types.CallToolResult:
    body: dict[str, Any] = {"status": error.status_code, "detail": error.detail}
    if isinstance(error, InvalidInput):
        body["errors"] = error.errors
    return types.CallToolResult(
        content=[types.TextContent(text=f"Error {error.status_code}: {error.detail}")],
        structured_content={"error": body},
        is_error=True,
    )


def _run(name: str, principal: Principal, arguments: dict[str, Any]) -> types.CallToolResult:
    try:
        if SPECS[name][2]:
            require_writer(principal)
        result = OPERATIONS[name](principal, arguments)
    except (DepotError, ReadOnly) as error:
        return _error(error)
    except (TypeError, ValueError) as error:  # an argument of the wrong JSON type
        return _error(InvalidInput.single(["arguments"], f"Invalid arguments: {error}"))
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(result))], structured_content=result
    )


async def call_tool(
    ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
) -> types.CallToolResult:
    if params.name not in SPECS:
        return _error(InvalidInput.single(["name"], f"No tool '{params.name}'."))
    run = database_sync_to_async(_run)
    result: types.CallToolResult = await run(
        params.name, principal_of(ctx), dict(params.arguments or {})
    )
    return result
