"""Reads for attachments, scoped through the session (and so the caller's principal)."""

from typing import Any

from django.db.models import Count, QuerySet, Sum

from attachments.models import Attachment, parse_attachment_id
from sessions_app.errors import NotFound
from sessions_app.models import Namespace, Session


def attachment_list(*, session: Session) -> QuerySet[Attachment]:
    return Attachment.objects.filter(session=session).order_by("-id")


def attachment_find(*, session: Session, public_id: str) -> Attachment | None:
    uid = parse_attachment_id(public_id)
    if uid is None:
        return None
    return Attachment.objects.filter(session=session, uid=uid).select_related("session").first()


def attachment_get(*, session: Session, public_id: str) -> Attachment:
    attachment = attachment_find(session=session, public_id=public_id)
    if attachment is None:
        raise NotFound(f"Attachment '{public_id}' not found.")
    return attachment


def attachment_get_in_namespace(*, namespace: Namespace, public_id: str) -> Attachment:
    """Seed 003 addresses files by id within an app/environment (workspace/namespace)."""
    uid = parse_attachment_id(public_id)
    attachment = (
        Attachment.objects.filter(session__namespace=namespace, uid=uid)
        .select_related("session")
        .first()
        if uid
        else None
    )
    if attachment is None:
        raise NotFound(f"File '{public_id}' not found.")
    return attachment


def attachments_usage(
    *, organization_id: int, workspace_id: int | None = None, **kwargs: Any
) -> dict[str, dict[str, int]]:
    """`storage_usage` receiver: the organization's attachments that still hold bytes."""
    rows = Attachment.objects.filter(session__organization_id=organization_id, purged=False)
    if workspace_id is not None:
        rows = rows.filter(session__namespace__workspace_id=workspace_id)
    totals = rows.aggregate(count=Count("id"), bytes=Sum("size"))
    return {"attachments": {"count": totals["count"], "bytes": totals["bytes"] or 0}}
