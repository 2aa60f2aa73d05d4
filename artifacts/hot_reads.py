"""The seed-002 PUT's read as prepared SQL (sessions_app/raw_reads.py says why): the ORM's
compilation of this eight-table join, even narrowed to the columns it needs, was the biggest
CPU cost left in a PUT that makes a version (py-spy, issue 11). The rows come back as the
ORM would build them: each model's instance by `Model.from_db` (the other columns deferred)
with the values through the ORM's own converters, and the related rows cached on it."""

from typing import Any

from django.db import connection, models

from artifacts.models import Artifact, Source
from sessions_app.models import Namespace, Organization, Session, Thread, Workspace
from sessions_app.raw_reads import column, convert_row, converters, table

# (alias, model, columns read, the attribute of the row before it that holds it)
_ARTIFACT = ("id", "artifact_id", "root_id", "version", "is_latest", "namespace_id")
_ARTIFACT_REST = ("session_id", "thread_id", "promoted_to_source_id", "content_type")
PARTS: tuple[tuple[str, type[models.Model], tuple[str, ...]], ...] = (
    ("a", Artifact, (*_ARTIFACT, *_ARTIFACT_REST, "content_hash", "blob_id")),
    ("n", Namespace, ("id", "workspace_id", "slug")),
    ("w", Workspace, ("id", "organization_id", "slug")),
    ("o", Organization, ("id", "storage_quota_bytes")),
    ("r", Artifact, ("id", "artifact_id")),
    ("t", Thread, ("id", "thread_id")),
    ("s", Session, ("id", "session_id")),
    ("p", Source, ("id", "source_id")),
)


def _in_field_order(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, ...]:
    """`from_db` takes the values of the columns it is given in the model's field order."""
    order = [field.attname for field in model._meta.concrete_fields]
    return tuple(sorted(names, key=lambda name: order.index(model._meta.get_field(name).attname)))  # type: ignore[union-attr]


PARTS = tuple((alias, model, _in_field_order(model, names)) for alias, model, names in PARTS)
_SQL: dict[tuple[str, str], str] = {}


def _sql() -> str:
    key = (connection.alias, connection.vendor)
    found = _SQL.get(key)
    if found is None:

        def c(model: type[models.Model], name: str) -> str:
            return column(model, name, connection)

        def t(model: type[models.Model]) -> str:
            return table(model, connection)

        selected = ", ".join(
            f"{alias}.{c(model, name)}" for alias, model, names in PARTS for name in names
        )
        found = (
            f"SELECT {selected} FROM {t(Artifact)} r "  # noqa: S608  (names from _meta, quoted)
            f"JOIN {t(Artifact)} a ON a.{c(Artifact, 'root')} = r.{c(Artifact, 'id')} "
            f"AND a.{c(Artifact, 'is_latest')} = %s "
            f"JOIN {t(Namespace)} n ON n.{c(Namespace, 'id')} = a.{c(Artifact, 'namespace')} "
            f"JOIN {t(Workspace)} w ON w.{c(Workspace, 'id')} = n.{c(Namespace, 'workspace')} "
            f"JOIN {t(Organization)} o "
            f"ON o.{c(Organization, 'id')} = w.{c(Workspace, 'organization')} "
            f"LEFT JOIN {t(Thread)} t ON t.{c(Thread, 'id')} = a.{c(Artifact, 'thread')} "
            f"LEFT JOIN {t(Session)} s ON s.{c(Session, 'id')} = a.{c(Artifact, 'session')} "
            f"LEFT JOIN {t(Source)} p "
            f"ON p.{c(Source, 'id')} = a.{c(Artifact, 'promoted_to_source')} "
            f"WHERE r.{c(Artifact, 'artifact_id')} = %s AND n.{c(Namespace, 'slug')} = %s "
            f"AND w.{c(Workspace, 'slug')} = %s AND o.{c(Organization, 'slug')} = %s "
            f"AND w.{c(Workspace, 'organization')} = %s"
        )
        _SQL[key] = found
    return found


def latest_in_namespace(
    *, organization_id: int, org: str, workspace: str, namespace: str, artifact_id: str
) -> Artifact | None:
    """The latest version of the artifact whose root id is `artifact_id`, in the namespace the
    slugs name within organization `organization_id`, with its namespace (and workspace and
    organization), root, thread, session and source cached; None when there is none."""
    with connection.cursor() as cursor:
        cursor.execute(_sql(), [True, artifact_id, namespace, workspace, org, organization_id])
        row = cursor.fetchone()
    if row is None:
        return None
    instances: dict[str, Any] = {}
    start = 0
    for alias, model, names in PARTS:
        values = row[start : start + len(names)]
        start += len(names)
        if values[0] is None:  # an outer join that found nothing
            instances[alias] = None
            continue
        values = convert_row(values, converters(model, names, connection), connection)
        attnames = [model._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]
        instances[alias] = model.from_db(connection.alias, attnames, values)
    latest: Artifact = instances["a"]
    workspace_row: Workspace = instances["w"]
    Workspace.organization.field.set_cached_value(workspace_row, instances["o"])  # type: ignore[attr-defined]
    Namespace.workspace.field.set_cached_value(instances["n"], workspace_row)  # type: ignore[attr-defined]
    for name, alias in (
        ("namespace", "n"),
        ("root", "r"),
        ("thread", "t"),
        ("session", "s"),
        ("promoted_to_source", "p"),
    ):
        Artifact._meta.get_field(name).set_cached_value(latest, instances[alias])  # type: ignore[union-attr]
    return latest
