"""Seed 002's list pages: the `total` (a namespace's counter, not a COUNT), the page's rows
read by one statement as narrowly as the answer allows (artifacts/api/serializers/
list_items.py makes the items from them), and the list's namespace. Beside selectors.py,
whose `artifact_list` is the same list as a queryset."""

from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection, connections, models, router
from django.db.models import QuerySet

from artifacts import selectors
from artifacts.models import Artifact, Source
from sessions_app import raw_reads
from sessions_app.api.common import decode_cursor, encode_cursor
from sessions_app.errors import NotFound
from sessions_app.models import Namespace, Organization, Session, Thread, Workspace
from sessions_app.principals import Principal


def artifact_list_total(
    *,
    namespace: Namespace,
    queryset: QuerySet[Artifact],
    filtered: bool,
    include_expired: bool,
    now: datetime,
) -> int:
    """The seed-002 list's `total`: how many artifacts `queryset` (an `artifact_list` of
    `namespace`) holds. Unfiltered, in one statement that stays cheap however big the
    namespace: its `artifact_count` (every artifact not deleted or purged), less, unless
    `include_expired`, its artifacts that expired by `now` (the list's own cut-off) and wait for
    the purge (an index of the latest versions with an expiry). Filtered (a thread, types), it
    counts `queryset`: a thread's artifacts are few (the thread key's index), a type's are
    counted over the namespace/type index alone."""
    if filtered:
        return queryset.count()
    sql, params = _counted_total(namespace, include_expired=include_expired, now=now)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}", params)
        row = cursor.fetchone()
    if row is None or row[0] is None:
        raise NotFound("Namespace not found.")
    return int(row[0])


def _counted_total(
    namespace: Namespace, *, include_expired: bool, now: datetime
) -> tuple[str, list[Any]]:
    """The unfiltered total as one SQL expression, written out: the ORM's Subquery took 1.2 ms
    of Python to compile, the statement itself 0.04 ms (artifact_ns_expiring_idx)."""
    quote = connection.ops.quote_name
    artifacts, namespaces = quote(Artifact._meta.db_table), quote(Namespace._meta.db_table)
    params: list[Any] = [namespace.pk]
    expired = "0"
    if not include_expired:
        expired = (
            f"(SELECT COUNT(*) FROM {artifacts} a WHERE a.namespace_id = n.id AND a.is_latest "  # noqa: S608
            "AND NOT a.is_pinned AND a.expires_at <= %s)"
        )
        params.insert(0, connection.ops.adapt_datetimefield_value(now))
    sql = f"(SELECT n.artifact_count - {expired} FROM {namespaces} n WHERE n.id = %s)"  # noqa: S608
    return sql, params


# --- the page's rows by one statement written once per shape ------------------------------
#
# Through the ORM, a page of 50 cost about 10.8 ms in process at 100,000 artifacts: 1.4 ms to
# build and compile the query, 4.4 ms to make 51 rows of 48 fields (and their session, thread
# and source rows) into model instances, 1.6 ms to serialize them, for a statement of 3-4 ms
# (issue 11). Here the rows stay tuples; artifacts/api/serializers/list_items.py makes each
# item from its row as ArtifactResponse renders the instance (tests/artifacts/
# test_list_rows.py pins every kind of field against it).

# The version's own columns, in the row's order (converted as the ORM converts them, but the
# TIMES_AS_TEXT); then ROW_EXTRAS: the texts' second column, the root's public id, the
# thread's, session's and source's ids and, unfiltered, the total.
ROW_FIELDS = (
    "id",
    "artifact_id",
    "root",
    "version",
    "is_latest",
    "replaced_by_version",
    "name",
    "description",
    "artifact_type",
    "workflow_id",
    "phase_id",
    "content",
    "file_name",
    "content_type",
    "size_bytes",
    "blob",
    "content_hash",
    "summary",
    "keywords",
    "tags",
    "metadata",
    "source",
    "source_execution_id",
    "source_step_id",
    "source_tool",
    "scope",
    "status",
    "is_primary_deliverable",
    "ttl_seconds",
    "expires_at",
    "is_pinned",
    "index_status",
    "is_indexed",
    "indexed_at",
    "index_collection",
    "index_error",
    "index_attempts",
    "embedding_model_id",
    "chunk_count",
    "created_by",
    "created_at",
    "updated_at",
)
ROW_EXTRAS = (
    "content_text_unlike_content",
    "root_public_id",
    "thread_id",
    "session_id",
    "source_id",
)


# These times come as the database's text of their UTC value, `YYYY-MM-DDTHH:MM:SS[.ffffff]`
# (PostgreSQL writes every microsecond digit): read as datetimes, making and formatting the
# objects was a fifth of the items' CPU. (expires_at stays a datetime: `is_expired` compares
# it.) As attachments.listing.TEXT_COLUMNS.
TIMES_AS_TEXT = ("indexed_at", "created_at", "updated_at")
TIME_TEXT = {
    "postgresql": "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')",
    # Django keeps a time as `str()` of its naive UTC value.
    "sqlite": "replace({}, ' ', 'T')",
}


class PageRows(NamedTuple):
    total: int
    has_more: bool
    next_cursor: str | None
    rows: list[tuple[Any, ...]]


# (connection alias, thread filter, number of types, include_expired, after a cursor, total)
_Shape = tuple[str, bool, int, bool, bool, bool]
_STATEMENTS: dict[_Shape, str] = {}


def _statement(connection: Any, shape: _Shape, total_sql: str) -> str:
    sql = _STATEMENTS.get(shape)
    if sql is not None:
        return sql
    _, thread, types, include_expired, after, with_total = shape

    def col(name: str, alias: str = "a", model: type[models.Model] = Artifact) -> str:
        return f"{alias}.{raw_reads.column(model, name, connection)}"

    text, content = col("content_text"), col("content")
    as_text = TIME_TEXT.get(connection.vendor)
    columns = [
        as_text.format(col(name)) if as_text and name in TIMES_AS_TEXT else col(name)
        for name in ROW_FIELDS
    ]
    # T3 is the ORM's alias of the root row (tests/test_query_counts.py reads it).
    columns += [f"NULLIF({text}, {content})", col("artifact_id", "T3")]
    columns += [
        col("thread_id", "thr", Thread),
        col("session_id", "ses", Session),
        col("source_id", "src", Source),
    ]
    if with_total:
        columns.append(f"{total_sql} AS list_total")
    where = [f"{col('namespace')} = %s", col("is_latest")]
    if not include_expired:
        expiry = col("expires_at")
        where.append(f"({expiry} IS NULL OR {expiry} > %s OR {col('is_pinned')})")
    if thread:
        where.append(f"{col('thread_id', 'thr', Thread)} = %s")
    if types:
        where.append(f"{col('artifact_type')} IN ({', '.join(['%s'] * types)})")
    if after:
        where.append(f"{col('root')} < %s")

    def join(alias: str, model: type[models.Model], key: str) -> str:
        target = f"{alias}.{raw_reads.column(model, 'id', connection)}"
        return f" LEFT JOIN {raw_reads.table(model, connection)} {alias} ON {col(key)} = {target}"

    # Names from the models; every value a parameter.
    sql = (
        f"SELECT {', '.join(columns)} FROM {raw_reads.table(Artifact, connection)} a"  # noqa: S608
        + join("T3", Artifact, "root")
        + join("thr", Thread, "thread")
        + join("ses", Session, "session")
        + join("src", Source, "promoted_to_source")
        + f" WHERE {' AND '.join(where)} ORDER BY {col('root')} DESC LIMIT %s"
    )
    _STATEMENTS[shape] = sql
    return sql


def artifact_page(
    *,
    namespace: Namespace,
    thread_id: str | None,
    artifact_types: list[str],
    include_expired: bool,
    cursor: str | None,
    limit: int,
    now: datetime,
) -> PageRows:
    """A page of the namespace's artifacts (of one thread, of some types), newest artifact
    first from `cursor`, as `keyset_page` pages them, with the list's total: unfiltered in
    one statement with it (`_counted_total`), else after the filtered COUNT. Its rows are
    ROW_FIELDS (converted as the ORM converts them), then the ROW_EXTRAS."""
    filtered = thread_id is not None or bool(artifact_types)
    total: int | None = None
    params: list[Any]
    if filtered:
        total = artifact_list_total(
            namespace=namespace,
            queryset=selectors.artifact_list(
                namespace=namespace,
                thread_id=thread_id,
                artifact_types=artifact_types,
                include_expired=include_expired,
                now=now,
            ),
            filtered=True,
            include_expired=include_expired,
            now=now,
        )
    connection = connections[router.db_for_read(Artifact)]
    adapted_now = connection.ops.adapt_datetimefield_value(now)
    total_sql, params = "", []
    if not filtered:
        total_sql, params = _counted_total(namespace, include_expired=include_expired, now=now)
    params.append(namespace.pk)
    if not include_expired:
        params.append(adapted_now)
    if thread_id is not None:
        params.append(thread_id)
    params += artifact_types
    after = decode_cursor(cursor) if cursor else None
    if after is not None:
        params.append(after)
    params.append(limit + 1)
    shape = (
        connection.alias,
        thread_id is not None,
        len(artifact_types),
        include_expired,
        after is not None,
        not filtered,
    )
    with connection.cursor() as db:
        db.execute(_statement(connection, shape, total_sql), params)
        rows = db.fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if total is None:
        total = (
            int(rows[0][-1])
            if rows
            else artifact_list_total(
                namespace=namespace,
                queryset=Artifact.objects.none(),
                filtered=False,
                include_expired=include_expired,
                now=now,
            )
        )
    conversions = raw_reads.converters(Artifact, ROW_FIELDS, connection)
    if connection.vendor in TIME_TEXT:
        conversions = [step for step in conversions if ROW_FIELDS[step[0]] not in TIMES_AS_TEXT]
    return PageRows(
        total=total,
        has_more=has_more,
        next_cursor=encode_cursor(rows[-1][2]) if has_more and rows else None,
        rows=[raw_reads.convert_row(row, conversions, connection) for row in rows],
    )


# The namespace of a list's path, with its workspace and organization, by one statement
# written once: the ORM's query for it (sessions_app.selectors.namespace_get, which this
# answers as) cost about 1.1 ms of a 7.5 ms page in process, its SQL well under 0.1 ms.
_NAMESPACE_CHAIN = (("n", Namespace), ("w", Workspace), ("o", Organization))
_NAMESPACE_SQL: dict[tuple[str, bool], str] = {}


def _namespace_statement(connection: Any, with_org: bool) -> str:
    key = (connection.alias, with_org)
    sql = _NAMESPACE_SQL.get(key)
    if sql is None:

        def col(alias: str, model: type[models.Model], name: str) -> str:
            return f"{alias}.{raw_reads.column(model, name, connection)}"

        where = [
            f"{col('w', Workspace, 'organization')} = %s",
            f"{col('w', Workspace, 'slug')} = %s",
            f"{col('n', Namespace, 'slug')} = %s",
        ]
        if with_org:
            where.append(f"{col('o', Organization, 'slug')} = %s")
        # Names from the models; every value a parameter. Ordered as Namespace.Meta.
        sql = (
            f"SELECT {raw_reads.chain_columns(_NAMESPACE_CHAIN, connection)}"  # noqa: S608
            f" FROM {raw_reads.table(Namespace, connection)} n"
            f" JOIN {raw_reads.table(Workspace, connection)} w"
            f" ON {col('n', Namespace, 'workspace')} = {col('w', Workspace, 'id')}"
            f" JOIN {raw_reads.table(Organization, connection)} o"
            f" ON {col('w', Workspace, 'organization')} = {col('o', Organization, 'id')}"
            f" WHERE {' AND '.join(where)} ORDER BY {col('o', Organization, 'slug')},"
            f" {col('w', Workspace, 'slug')}, {col('n', Namespace, 'slug')} LIMIT 1"
        )
        _NAMESPACE_SQL[key] = sql
    return sql


def namespace_get(
    *, principal: Principal, workspace: str, namespace: str, org: str | None = None
) -> Namespace:
    """sessions_app.selectors.namespace_get's answer (the namespace with its workspace and
    organization loaded, else a 404) in one written-out statement."""
    connection = connections[router.db_for_read(Namespace)]
    params: list[Any] = [principal.organization_id, workspace, namespace]
    if org is not None:
        params.append(org)
    with connection.cursor() as cursor:
        cursor.execute(_namespace_statement(connection, org is not None), params)
        row = cursor.fetchone()
    if row is None:
        raise NotFound("Namespace not found.")
    found = raw_reads.chain_instances(row, _NAMESPACE_CHAIN, connection)[0]
    if not isinstance(found, Namespace) or not principal.can_see_workspace(found.workspace_id):
        raise NotFound("Namespace not found.")
    return found
