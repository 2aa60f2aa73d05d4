"""Artifact row locks. The order every writer follows is in sessions_app/locks.py: **artifact
root → latest version** → blob → session → namespace."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from artifacts.models import Artifact
from sessions_app.errors import NotFound
from sessions_app.locks import require_atomic
from sessions_app.raw_reads import column, convert_row, converters, table


class ArtifactDeleted(NotFound, Artifact.DoesNotExist):
    """The artifact a writer read before its transaction was deleted before the writer got its
    lock (a DELETE or the purge committed in between): the write's answer is a 404, as the
    session's lock helpers answer for a deleted session. Still an `Artifact.DoesNotExist` for
    the callers that skip a vanished artifact (the purge, tus)."""

    def __init__(self) -> None:
        super().__init__("The artifact was deleted.")


def artifact_root_for_update(pk: int) -> Artifact:
    """The root row stands for the whole artifact: its lock serialises version numbering,
    in-place updates and deletion of that artifact."""
    require_atomic("artifact_root_for_update")
    try:
        return Artifact.objects.select_for_update().get(pk=pk)
    except Artifact.DoesNotExist:
        raise ArtifactDeleted from None


def artifact_latest_for_update(root_pk: int) -> Artifact:
    require_atomic("artifact_latest_for_update")
    try:
        return Artifact.objects.select_for_update().get(root_id=root_pk, is_latest=True)
    except Artifact.DoesNotExist:
        raise ArtifactDeleted from None


def artifact_root_lock(pk: int) -> None:
    """`artifact_root_for_update`'s lock without the row, for a writer that has the row."""
    require_atomic("artifact_root_lock")
    # As SQL: the ORM's compilation of this one-row lock cost more than the statement.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table(Artifact, connection)} "  # noqa: S608
            f"WHERE {column(Artifact, 'id', connection)} = %s{lock}",
            [pk],
        )
        found = cursor.fetchone()
    if found is None:
        raise ArtifactDeleted


@dataclass(frozen=True)
class Replaced:
    """What `artifact_latest_replace` read from the version it replaced, under its lock."""

    number: int  # the new version's: the root's highest version + 1
    chunk_count: int
    has_parents: bool
    created_by: str
    inherited: dict[str, Any]  # INHERITED_FIELDS, as the ORM would read them


def artifact_latest_replace(
    *, root_pk: int, latest_pk: int, unless_hash: str, inherited: Sequence[str]
) -> Replaced | None:
    """The latest version's lock and its replacement in one statement: `latest_pk` stops
    being the latest of `root_pk` (its `replaced_by_version` is the next number, the root's
    highest + 1) unless it no longer is the latest or already holds `unless_hash`. Returns its
    columns as they were under the lock (the fields the new version inherits, its chunk count,
    whether it has parents), or None when nothing was replaced: the caller then reads the
    latest under the lock and decides again.

    The root's lock (taken before, as the order says) keeps the number and the latest from
    moving meanwhile. One UPDATE ... RETURNING instead of a locked read of the latest, a
    MAX(version) and an UPDATE (issue 11)."""
    require_atomic("artifact_latest_replace")
    names = ("replaced_by_version", "chunk_count", "created_by", *inherited)
    conversions = converters(Artifact, names, connection)
    through = Artifact.derived_from.through
    artifacts = table(Artifact, connection)
    version, root, pk = (column(Artifact, name, connection) for name in ("version", "root", "id"))
    is_latest, content_hash = (
        column(Artifact, n, connection) for n in ("is_latest", "content_hash")
    )
    replaced_by = column(Artifact, "replaced_by_version", connection)
    returning = ", ".join(column(Artifact, name, connection) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            # Table and column names from the models' _meta, quoted; the values are parameters.
            f"UPDATE {artifacts} SET {is_latest} = %s, {replaced_by} = "  # noqa: S608
            f"(SELECT MAX(v.{version}) FROM {artifacts} v WHERE v.{root} = %s) + 1 "
            f"WHERE {pk} = %s AND {is_latest} = %s AND {content_hash} <> %s "
            f"RETURNING {returning}, EXISTS (SELECT 1 FROM {table(through, connection)} d "
            f"WHERE d.{column(through, 'from_artifact', connection)} = {artifacts}.{pk})",
            [False, root_pk, latest_pk, True, unless_hash],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = convert_row(row[:-1], conversions, connection)
    return Replaced(
        number=int(values[0]),
        chunk_count=int(values[1]),
        has_parents=bool(row[-1]),
        created_by=values[2],
        inherited=dict(zip(inherited, values[3:], strict=True)),
    )


def artifact_parents_copy(*, from_pk: int, to_pk: int) -> None:
    """Give version `to_pk` the parents of version `from_pk`, in one INSERT ... SELECT."""
    through = Artifact.derived_from.through
    links = table(through, connection)
    source, target = (column(through, n, connection) for n in ("from_artifact", "to_artifact"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {links} ({source}, {target}) "  # noqa: S608
            f"SELECT %s, {target} FROM {links} WHERE {source} = %s",
            [to_pk, from_pk],
        )
