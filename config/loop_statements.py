"""The statements of the seed-000 list's read on the event loop (config/loop_reads.py): the
key, the caller's session and the page, over the models' own table and column names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from attachments import listing
from attachments.models import Attachment
from sessions_app import raw_reads
from sessions_app.models import ApiKey, Session

# The key's columns as `api_key_by_prefix` reads them (every concrete field, by attname).
KEY_FIELDS = tuple(field.attname for field in ApiKey._meta.concrete_fields)


@dataclass(frozen=True)
class Statements:
    """The reads, written once per database from the models' own names (every value a
    parameter):

    - `caller`: the key by prefix, one row (secret_hash, usable_and_fresh, the caller's
      session's id or NULL); parameters now, fresh_since, the secret's hash, session_id,
      session_id, prefix.
    - `page[after_cursor]`: that session's page, newest first, rows of LIST_COLUMNS;
      parameters the session's id, [before], limit + 1.
    - `key`: the key by prefix, one row: every concrete column of the key (KEY_FIELDS), then
      usable_and_fresh; parameters now, fresh_since, the secret's hash, prefix. The request
      gate's key check for every other keyed request (`loop_keys.usable_key`).
    - `key_and_session`: the same row and then, for an organization-wide key, the id of its
      default workspace's session of that id (else NULL); parameters now, fresh_since, the
      secret's hash, session_id, prefix. For an upload by session id, whose write then needs
      no session read of its own.
    - `both[after_cursor]`: the two in one statement, for PostgreSQL, where each statement is
      a round trip: first the key's row (0, *caller), then the page's (1, NULL, NULL, NULL,
      *LIST_COLUMNS), none for a key not usable; parameters the caller's, then [before],
      limit + 1. (On SQLite the CTE
      and the UNION cost more than a second statement: 72 against 46 us.)
    """

    caller: str
    page: dict[bool, str]
    both: dict[bool, str]
    key: str
    key_and_session: str


def statements(connection: Any) -> Statements:
    def key_column(name: str) -> str:
        return f"k.{raw_reads.column(ApiKey, name, connection)}"

    def session_column(name: str) -> str:
        return f"s.{raw_reads.column(Session, name, connection)}"

    # The caller's session of that id, as `session_find` chooses it: the default workspace's
    # (a workspace-limited key's only workspace, by the model's constraint), else the newest
    # the key may see. Two MAX()es: SQLite refuses an outer column in a subquery's ORDER BY.
    def newest(where: str) -> str:
        return (
            f"(SELECT MAX({session_column('id')}) FROM {raw_reads.table(Session, connection)} s"  # noqa: S608
            f" WHERE {session_column('organization')} = {key_column('organization')}"
            f" AND {session_column('session_id')} = %s AND {where})"
        )

    workspace, limit = session_column("workspace"), key_column("workspace")
    in_default = newest(f"{workspace} = {key_column('default_workspace')}")
    visible = newest(f"({limit} IS NULL OR {workspace} = {limit})")
    # The secret's hash is compared here too (and again in constant time by the caller), so
    # that a wrong secret reads no page: its 401 would otherwise take longer the fuller the
    # session (tests/test_hostile_session7.py).
    usable = (
        f"CASE WHEN {key_column('revoked_at')} IS NULL"
        f" AND ({key_column('expires_at')} IS NULL OR {key_column('expires_at')} > %s)"
        f" AND {key_column('last_used_at')} > %s AND {key_column('secret_hash')} = %s"
        " THEN 1 ELSE 0 END"
    )
    # The key's row, with its session's id as a column, then the page as one range of the
    # attachments' (session, id) index, newest first, which needs no sort. (Joined to the
    # session table instead, PostgreSQL hashed the whole table; joined to the key's row, it
    # sorted the whole session.) The LIMIT 1 keeps the planners from merging the key's row
    # into the page's query.
    caller = (
        f"SELECT {key_column('secret_hash')}, {usable},"  # noqa: S608
        f" COALESCE({in_default}, {visible})"
        f" FROM {raw_reads.table(ApiKey, connection)} k WHERE {key_column('prefix')} = %s LIMIT 1"
    )
    key_columns = ", ".join(key_column(name) for name in KEY_FIELDS)
    key_table = f"{raw_reads.table(ApiKey, connection)} k WHERE {key_column('prefix')} = %s"
    key = f"SELECT {key_columns}, {usable} FROM {key_table} LIMIT 1"  # noqa: S608
    # Only an organization-wide key's session in its default workspace: that is the row the
    # write's own lookup would choose whatever is created meanwhile (a session made in the
    # default workspace during the upload outranks one found elsewhere, and a limited key's
    # lookup needs its default namespace), so only that row may stand in for the lookup.
    key_and_session = (
        f"SELECT {key_columns}, {usable},"  # noqa: S608
        f" CASE WHEN {limit} IS NULL THEN {in_default} END FROM {key_table} LIMIT 1"
    )
    columns = ", ".join(
        listing.as_text(connection, name, f"a.{raw_reads.column(Attachment, name, connection)}")
        for name in listing.LIST_COLUMNS
    )
    nulls = ", ".join(["NULL"] * len(listing.LIST_COLUMNS))
    attachment_id = f"a.{raw_reads.column(Attachment, 'id', connection)}"
    session = f"a.{raw_reads.column(Attachment, 'session', connection)}"

    def page(session_pk: str, after_cursor: bool) -> str:
        before = f" AND {attachment_id} < %s" if after_cursor else ""
        return (
            f"SELECT {columns} FROM {raw_reads.table(Attachment, connection)} a"  # noqa: S608
            f" WHERE {session} = {session_pk}{before} ORDER BY {attachment_id} DESC LIMIT %s"
        )

    def both(after_cursor: bool) -> str:
        return (
            f"WITH c (secret_hash, usable, session_pk) AS ({caller})"  # noqa: S608
            f" SELECT 0, secret_hash, usable, session_pk, {nulls} FROM c UNION ALL"
            f" SELECT 1, NULL, NULL, NULL, page.*"
            f" FROM ({page('(SELECT session_pk FROM c WHERE usable = 1)', after_cursor)}) page"
        )

    return Statements(
        caller=caller,
        page={after: page("%s", after) for after in (False, True)},
        both={after: both(after) for after in (False, True)},
        key=key,
        key_and_session=key_and_session,
    )
