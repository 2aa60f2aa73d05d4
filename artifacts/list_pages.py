"""Reads for seed 002's list pages: the `total` (a namespace's counter, not a COUNT) and the
rows of a page, read as narrowly as the answer allows. Beside selectors.py, which makes the
list's queryset (`artifact_list`)."""

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import NullIf

from artifacts.models import PREVIEW_CHARS, Artifact
from sessions_app.errors import NotFound
from sessions_app.models import Namespace


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


def artifact_page_with_total(
    queryset: QuerySet[Artifact], *, namespace: Namespace, include_expired: bool, now: datetime
) -> QuerySet[Artifact]:
    """`artifact_page_rows` of an unfiltered list with its total in the same statement (one
    round trip, one snapshot): each row's `list_total`. A page without rows (a cursor past the
    end) has none: then `artifact_list_total` asks."""
    sql, params = _counted_total(namespace, include_expired=include_expired, now=now)
    # The SQL holds table names from _meta; the values are parameters.
    return artifact_page_rows(queryset).annotate(list_total=RawSQL(sql, params))  # noqa: S611


# What the seed-002 list's items read: the version's columns and the related rows the answer
# names, but not the namespace (the caller resolved it), the blob (only its key is named) nor
# the root row (only its id is named: one column of it).
PAGE_RELATED = ("thread", "session", "promoted_to_source")


def artifact_page_rows(queryset: QuerySet[Artifact]) -> QuerySet[Artifact]:
    """`queryset`'s rows for a page: the related rows the answer names in the same query, the
    root's public id, and the three texts from what they share. `content_preview` is
    `content_text`'s start (as every writer makes it: new_content.content_fields,
    indexing.artifact_index), so it is not read; `content_text` comes only where it differs
    from `content` (an HTML version's extracted text, a file's), else the content's one read
    serves both. Fill the rows with `artifact_page_filled`."""
    return (
        queryset.select_related(None)
        .select_related(*PAGE_RELATED)
        .defer("content_text", "content_preview")
        .annotate(
            content_text_unlike_content=NullIf(F("content_text"), F("content")),
            root_public_id=F("root__artifact_id"),
        )
    )


def artifact_page_filled(rows: list[Artifact], *, namespace: Namespace) -> list[Artifact]:
    """The rows of `artifact_page_rows` with what it did not read set from what it read: the
    texts, the namespace, and for a later version its root as far as it was read (the id)."""
    for row in rows:
        text = row.content_text_unlike_content  # type: ignore[attr-defined]
        row.content_text = (row.content or "") if text is None else text
        row.content_preview = row.content_text[:PREVIEW_CHARS]
        row.namespace = namespace
        if row.root_id is not None and row.root_id != row.pk:
            row.root = Artifact(pk=row.root_id, artifact_id=row.root_public_id)  # type: ignore[attr-defined]
    return rows
