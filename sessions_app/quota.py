"""Storage usage and the per-organization quota. Usage is what an organization stores: its
attachments' and all its artifact versions' bytes, counted as stored (two copies of the same
bytes count twice, although Depot keeps them once). Each app that stores bytes reports its own
through the `storage_usage` signal, so this app imports neither."""

from typing import Any

from django.conf import settings

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


def organization_quota(*, organization_id: int) -> int | None:
    """The organization's limit in bytes, or None for none."""
    own = (
        Organization.objects.filter(pk=organization_id)
        .values_list("storage_quota_bytes", flat=True)
        .first()
    )
    return _quota_of(own)


def quota_check(
    *, organization_id: int, adding: int, organization: Organization | None = None
) -> None:
    """QuotaExceeded (413) when `adding` more bytes would take the organization past its
    quota. Checked inside the write's transaction; uploads committing at the same moment may
    pass it together and exceed the quota by their own size, never more. `organization`: the
    row, when the caller's request has read it already (its quota is not read again)."""
    if organization is not None:
        quota = _quota_of(organization.storage_quota_bytes)
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
