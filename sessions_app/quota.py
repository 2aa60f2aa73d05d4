"""Storage usage and the per-organization quota. Usage is what an organization stores: its
attachments' and all its artifact versions' bytes, counted as stored (two copies of the same
bytes count twice, although Depot keeps them once). Each app that stores bytes reports its own
through the `storage_usage` signal, so this app imports neither."""

from typing import Any

from django.conf import settings
from django.db import connections, router

from sessions_app import raw_reads
from sessions_app.errors import DepotError
from sessions_app.models import Organization
from sessions_app.signals import storage_usage


class QuotaExceeded(DepotError):
    status_code = 413
    default_detail = "This organization's storage quota would be exceeded."


def organization_usage(*, organization_id: int, workspace_id: int | None = None) -> dict[str, Any]:
    """{"bytes": total, "<kind>": {"count", "bytes"}, …} for the organization (or one of its
    workspaces)."""
    usage: dict[str, Any] = {}
    for _, answer in storage_usage.send(
        sender=Organization, organization_id=organization_id, workspace_id=workspace_id
    ):
        if isinstance(answer, dict):
            usage.update(answer)
    usage["bytes"] = sum(kind["bytes"] for kind in usage.values())
    return usage


def _quota_of(own: int | None) -> int | None:
    quota = own if own is not None else settings.DEPOT_STORAGE_QUOTA_BYTES
    return quota or None


def _own_quota(organization_id: int) -> int | None:
    """The organization's own `storage_quota_bytes` (None: unset, or no such organization), as
    `values_list(...).first()` reads it, in one prepared statement: the ORM built that query
    anew for every upload, about 0.3 ms of CPU around a primary-key read (issue 11)."""
    connection = connections[router.db_for_read(Organization)]
    conversions = raw_reads.converters(Organization, _QUOTA_FIELDS, connection)
    sql = (
        f"SELECT {raw_reads.column(Organization, 'storage_quota_bytes', connection)}"  # noqa: S608
        f" FROM {raw_reads.table(Organization, connection)}"
        f" WHERE {raw_reads.column(Organization, 'id', connection)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [organization_id])
        row = cursor.fetchone()
    return None if row is None else raw_reads.convert_row(row, conversions, connection)[0]


_QUOTA_FIELDS = ("storage_quota_bytes",)


def organization_quota(*, organization_id: int) -> int | None:
    """The organization's limit in bytes, or None for none."""
    return _quota_of(_own_quota(organization_id))


class _NotRead:
    pass


NOT_READ = _NotRead()


def quota_check(
    *,
    organization_id: int,
    adding: int,
    organization: Organization | None = None,
    own_quota: int | _NotRead | None = NOT_READ,
) -> None:
    """QuotaExceeded (413) when `adding` more bytes would take the organization past its
    quota. Checked inside the write's transaction; uploads committing at the same moment may
    pass it together and exceed the quota by their own size, never more. `organization`: the
    row, when the caller's request has read it already (its quota is not read again);
    `own_quota`: its `storage_quota_bytes`, when the caller read that in a statement of its
    own (`session_file_added`)."""
    if organization is not None:
        quota = _quota_of(organization.storage_quota_bytes)
    elif not isinstance(own_quota, _NotRead):
        quota = _quota_of(own_quota)
    else:
        quota = organization_quota(organization_id=organization_id)
    if quota is None or adding <= 0:
        return
    used = organization_usage(organization_id=organization_id)["bytes"]
    if used + adding > quota:
        raise QuotaExceeded(
            f"Storage quota exceeded: this organization stores {used} of {quota} bytes, "
            f"and this needs {adding} more."
        )
