"""A session's page of attachments (`GET /api/uploads/{sid}`): one prepared statement and its
JSON, shared by the DRF view and the request gate's fast path (config/gate_reads.py), so both
answer alike.

The ORM spent about 4 ms of CPU per list of 20 building two queries (the session lookup and the
page) and DRF another 1 ms around them; the SQL itself is well under 0.1 ms (issue 11). Here the
session is chosen inside the page's statement (the caller's session of that id: the default
workspace's, else the newest; a workspace-limited key sees only its workspace, as
`session_find`), and a LEFT JOIN tells an empty session (one row of NULLs) from none (no row).
"""

import json
from typing import Any

from django.db import connections, router
from django.utils import timezone

from attachments.models import Attachment
from sessions_app import raw_reads
from sessions_app.api.common import encode_cursor
from sessions_app.models import Session
from sessions_app.principals import Principal

LIST_COLUMNS = (
    "id",
    "uid",
    "name",
    "mime_type",
    "size",
    "source",
    "sha256",
    "description",
    "workspace_path",
    "purged",
    "created_at",
)
_SQL: dict[tuple[str, bool, bool], str] = {}


def _statement(connection: Any, limited: bool, after_cursor: bool) -> str:
    key = (connection.alias, limited, after_cursor)
    sql = _SQL.get(key)
    if sql is None:

        def session_column(name: str) -> str:
            return raw_reads.column(Session, name, connection)

        columns = ", ".join(
            f"a.{raw_reads.column(Attachment, name, connection)}" for name in LIST_COLUMNS
        )
        workspace = session_column("workspace")
        where = f"{session_column('organization')} = %s AND {session_column('session_id')} = %s"
        if limited:
            where += f" AND {workspace} = %s"
            order = f"{session_column('id')} DESC"
        else:
            order = f"CASE WHEN {workspace} = %s THEN 0 ELSE 1 END, {session_column('id')} DESC"
        attachment_id = f"a.{raw_reads.column(Attachment, 'id', connection)}"
        join = f"a.{raw_reads.column(Attachment, 'session', connection)} = s.id"
        if after_cursor:
            join += f" AND {attachment_id} < %s"
        # Names from the models; every value a parameter.
        sql = (
            f"SELECT {columns} FROM (SELECT {session_column('id')} AS id"  # noqa: S608
            f" FROM {raw_reads.table(Session, connection)} WHERE {where} ORDER BY {order} LIMIT 1)"
            f" s LEFT JOIN {raw_reads.table(Attachment, connection)} a ON {join}"
            f" ORDER BY {attachment_id} DESC LIMIT %s"
        )
        _SQL[key] = sql
    return sql


def page_rows(
    *, principal: Principal, session_id: str, limit: int, before_id: int | None = None
) -> list[tuple[Any, ...]] | None:
    """Up to `limit + 1` rows of LIST_COLUMNS (as `values_list` gives them), newest first, of
    the caller's session `session_id` (ids below `before_id` when given); None when the caller
    has no session of that id. One statement."""
    connection = connections[router.db_for_read(Attachment)]
    limited = principal.workspace_limit_id is not None
    params: list[Any] = [principal.organization_id, session_id]
    params.append(principal.workspace_limit_id if limited else principal.default_workspace_id)
    if before_id is not None:
        params.append(before_id)
    params.append(limit + 1)
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection, limited, before_id is not None), params)
        rows = cursor.fetchall()
    if not rows:
        return None
    conversions = raw_reads.converters(Attachment, LIST_COLUMNS, connection)
    return [
        raw_reads.convert_row(row, conversions, connection) for row in rows if row[0] is not None
    ]


def _timestamp(value: Any, zone: Any) -> Any:
    """What DRF's DateTimeField writes (ISO 8601 in the current time zone, `Z` for UTC)."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def list_item(row: tuple[Any, ...], zone: Any = None) -> dict[str, Any]:
    """An AttachmentListItem from a row of LIST_COLUMNS."""
    _, uid, name, mime_type, size, source, sha256, description, workspace_path, purged, at = row
    return {
        "attachment_id": f"att_{uid.hex}",
        "name": name,
        "mime": mime_type,
        "mime_type": mime_type,
        "size": size,
        "source": source,
        "sha256": sha256,
        "description": description,
        "workspace_path": workspace_path,
        "purged": purged,
        "created_at": _timestamp(at, zone or timezone.get_current_timezone()),
    }


def page(rows: list[tuple[Any, ...]], limit: int) -> dict[str, Any]:
    """The AttachmentPageResponse of `page_rows`' rows."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    zone = timezone.get_current_timezone()
    return {
        "attachments": [list_item(row, zone) for row in rows],
        "has_more": has_more,
        "next_cursor": encode_cursor(rows[-1][0]) if has_more and rows else None,
    }


def render(data: dict[str, Any]) -> bytes:
    """The bytes DRF's JSONRenderer makes of `data` (compact, UTF-8, U+2028/9 escaped)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
