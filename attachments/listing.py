"""A session's page of attachments (`GET /api/uploads/{sid}`): one prepared statement and its
JSON, shared by the DRF view and the request gate's fast path (config/gate_reads.py), so both
answer alike.

The ORM spent about 4 ms of CPU per list of 20 building two queries (the session lookup and the
page) and DRF another 1 ms around them; the SQL itself is well under 0.1 ms (issue 11). Here the
session is chosen inside the page's statement (the caller's session of that id: the default
workspace's, else the newest; a workspace-limited key sees only its workspace, as
`session_find`), and a LEFT JOIN tells an empty session (one row of NULLs) from none (no row).
"""

import datetime as dt
import json
from datetime import UTC
from typing import Any

import orjson
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
            as_text(connection, name, f"a.{raw_reads.column(Attachment, name, connection)}")
            for name in LIST_COLUMNS
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


# The id and the time as the database's own text, so no row goes through the ORM's UUID and
# datetime converters (two objects built per row only to be written back out as text: 40% of
# the page's CPU). `uid` as 32 hex digits, `created_at` in UTC as `YYYY-MM-DDTHH:MM:SS[.ffffff]`
# (microseconds only when not zero, as `datetime.isoformat` writes them).
TEXT_COLUMNS = {
    "sqlite": {
        # Django keeps a UUID as its 32 hex digits and a time as `str()` of the naive UTC value.
        "uid": "{}",
        "created_at": "replace({}, ' ', 'T')",
    },
    "postgresql": {
        "uid": "replace(CAST({} AS text), '-', '')",
        "created_at": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
    },
}


def as_text(connection: Any, name: str, column: str) -> str:
    return TEXT_COLUMNS[connection.vendor].get(name, "{}").format(column)


def page_rows(
    *, principal: Principal, session_id: str, limit: int, before_id: int | None = None
) -> list[tuple[Any, ...]] | None:
    """Up to `limit + 1` rows of LIST_COLUMNS, newest first, of the caller's session
    `session_id` (ids below `before_id` when given); None when the caller has no session of
    that id. One statement. Values as `values_list` gives them, but `uid` and `created_at` as
    text (TEXT_COLUMNS)."""
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
    return [row for row in rows if row[0] is not None]


def _timestamp(utc_text: str | None, zone: Any) -> str | None:
    """What DRF's DateTimeField writes (ISO 8601 in the current time zone, `Z` for UTC) of a
    UTC time read as TEXT_COLUMNS' text."""
    if not utc_text:
        return None
    if utc_text.endswith(".000000"):  # PostgreSQL's to_char writes every microsecond digit
        utc_text = utc_text[:-7]
    if zone is UTC:
        return utc_text + "Z"
    text = dt.datetime.fromisoformat(utc_text).replace(tzinfo=UTC).astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def list_item(row: tuple[Any, ...], zone: Any = None) -> dict[str, Any]:
    """An AttachmentListItem from a row of LIST_COLUMNS."""
    _, uid, name, mime_type, size, source, sha256, description, workspace_path, purged, at = row
    return {
        "attachment_id": f"att_{uid}",
        "name": name,
        "mime": mime_type,
        "mime_type": mime_type,
        "size": size,
        "source": source,
        "sha256": sha256,
        "description": description,
        "workspace_path": workspace_path,
        "purged": bool(purged),  # SQLite's 0 or 1
        "created_at": _timestamp(at, zone or timezone.get_current_timezone()),
    }


def page(rows: list[tuple[Any, ...]], limit: int) -> dict[str, Any]:
    """The AttachmentPageResponse of `page_rows`' rows."""
    has_more = len(rows) > limit
    rows = rows[:limit]
    current = timezone.get_current_timezone()
    # Django's ZoneInfo("UTC"): the text then needs only its "Z".
    zone: dt.tzinfo = UTC if str(current) == "UTC" else current
    return {
        "attachments": [list_item(row, zone) for row in rows],
        "has_more": has_more,
        "next_cursor": encode_cursor(rows[-1][0]) if has_more and rows else None,
    }


def render(data: dict[str, Any]) -> bytes:
    """The bytes DRF's JSONRenderer makes of `data` (compact, UTF-8, U+2028/9 escaped).

    orjson writes the same bytes for these plain values (tests/test_list_render.py compares
    them over arbitrary text) at about a sixth of `json.dumps`' cost, which was a fifth of the
    list's; anything it refuses (an integer past 64 bits, a lone surrogate) goes to `json`."""
    try:
        body = orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is one
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        body = text.encode()
    return body.replace(_LS, rb"\u2028").replace(_PS, rb"\u2029")


_LS, _PS = "\u2028".encode(), "\u2029".encode()
