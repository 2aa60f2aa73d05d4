"""Reads for sessions and tenancy; every query is scoped to the caller's principal."""

import re
from typing import cast

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, IntegerField, Model, QuerySet, Value, When

from sessions_app import raw_reads
from sessions_app.errors import InvalidInput, NotFound
from sessions_app.models import (
    SESSION_ID_MESSAGE,
    SESSION_ID_PATTERN,
    Namespace,
    Session,
    Workspace,
)
from sessions_app.principals import Principal

_session_id_re = re.compile(SESSION_ID_PATTERN)


def is_session_id(value: str) -> bool:
    """The one session-id check: the model's validator has the same pattern."""
    return _session_id_re.fullmatch(value) is not None


def validate_session_id(session_id: str, *, loc: tuple[str, ...] = ("path", "session_id")) -> str:
    if not is_session_id(session_id):
        raise InvalidInput.single(
            list(loc),
            SESSION_ID_MESSAGE,
            "string_pattern_mismatch",
        )
    return session_id


def session_list(
    *, principal: Principal, filters: dict[str, str] | None = None
) -> QuerySet[Session]:
    queryset = Session.objects.filter(organization_id=principal.organization_id)
    if principal.workspace_limit_id is not None:
        queryset = queryset.filter(workspace_id=principal.workspace_limit_id)
    queryset = queryset.select_related("namespace__workspace")
    for name, value in (filters or {}).items():
        if value not in (None, ""):
            queryset = queryset.filter(**{name: value})
    return queryset.order_by("-id")


def _named(principal: Principal, session_id: str) -> QuerySet[Session]:
    """The caller's sessions of that public id, the one a lookup resolves to first.

    Ids are unique per workspace: a workspace-limited key has at most one (in its workspace); an
    organization-wide caller may have one per workspace, and gets the one in its default
    workspace, else the newest."""
    queryset = session_list(principal=principal).filter(session_id=session_id)
    if principal.workspace_limit_id is not None:
        return queryset
    return queryset.annotate(
        elsewhere=Case(
            When(workspace_id=principal.default_workspace_id, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("elsewhere", "-id")


_FIND_SQL: dict[tuple[str, bool], str] = {}
# What session_find reads: the session with its namespace and that namespace's workspace, as
# `select_related("namespace__workspace")` leaves them.
_FIND_CHAIN = (("s", Session), ("n", Namespace), ("w", Workspace))


def _find_sql(connection: BaseDatabaseWrapper, limited: bool) -> str:
    sql = _FIND_SQL.get((connection.alias, limited))
    if sql is None:

        def col(model: type[Model], field: str) -> str:
            return raw_reads.column(model, field, connection)

        # Names from the models, values parameters.
        sql = (
            f"SELECT {raw_reads.chain_columns(_FIND_CHAIN, connection)}"  # noqa: S608
            f" FROM {raw_reads.table(Session, connection)} s"
            f" INNER JOIN {raw_reads.table(Namespace, connection)} n"
            f" ON s.{col(Session, 'namespace')} = n.id"
            f" INNER JOIN {raw_reads.table(Workspace, connection)} w"
            f" ON n.{col(Namespace, 'workspace')} = w.id"
            f" WHERE s.{col(Session, 'organization')} = %s AND s.{col(Session, 'session_id')} = %s"
            + (f" AND s.{col(Session, 'workspace')} = %s" if limited else "")
        )
        _FIND_SQL[(connection.alias, limited)] = sql
    return sql


def session_find(*, principal: Principal, session_id: str) -> Session | None:
    """What `_named(...).first()` returns, chosen here: the rows are at most one per workspace,
    and the ORM's CASE annotation and ORDER BY cost more CPU than the rows (issue 11: half of a
    list's time in Django went to compiling that query). The rows are
    `Session.objects.filter(organization_id=..., session_id=...[, workspace_id=<the key's
    limit>]).select_related("namespace__workspace")`, read as one prepared statement with the
    ORM's value converters (sessions_app/raw_reads.py): the ORM's query cost about 0.8 ms of
    CPU on every upload."""
    limit = principal.workspace_limit_id
    limited = limit is not None
    connection = connections[router.db_for_read(Session)]
    params: list[int | str] = [principal.organization_id, session_id]
    if limit is not None:
        params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(_find_sql(connection, limited), params)
        rows = [
            cast(Session, raw_reads.chain_instances(row, _FIND_CHAIN, connection)[0])
            for row in cursor.fetchall()
        ]
    if not rows:
        return None
    if not limited:
        for row in rows:
            if row.workspace_id == principal.default_workspace_id:
                return row
    return max(rows, key=lambda row: row.pk)


def session_get(*, principal: Principal, session_id: str) -> Session:
    """The caller's session, or NotFound (also for another tenant's session of that id, and for
    a session of that id in a workspace a limited key cannot see)."""
    validate_session_id(session_id)
    session = session_find(principal=principal, session_id=session_id)
    if session is None:
        raise NotFound(f"Session '{session_id}' not found.")
    return session


def session_watch_workspace(*, principal: Principal, session_id: str) -> int:
    """The workspace whose session `session_id` a watcher follows: a limited key's workspace;
    else the workspace of the session the id resolves to; else (no such session yet) the
    caller's default workspace, where its writes by id would create it."""
    if principal.workspace_limit_id is not None:
        return principal.workspace_limit_id
    found = _named(principal, session_id).values_list("workspace_id", flat=True).first()
    return found if found is not None else principal.default_workspace_id


def namespace_get(
    *, principal: Principal, workspace: str, namespace: str, org: str | None = None
) -> Namespace:
    """Resolve workspace/namespace slugs (and an org slug, where the path has one) within the
    caller's organization and reach, else 404."""
    found = (
        Namespace.objects.select_related("workspace__organization")
        .filter(
            workspace__organization_id=principal.organization_id,
            workspace__slug=workspace,
            slug=namespace,
        )
        .filter(**({"workspace__organization__slug": org} if org is not None else {}))
        .first()
    )
    if found is None or not principal.can_see_workspace(found.workspace_id):
        raise NotFound("Namespace not found.")
    return found
