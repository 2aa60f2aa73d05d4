"""The audit log's one writer. Services call `audit_record` inside their own transaction, so
an entry exists exactly when the act it records was committed."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from sessions_app.models import AuditAction, AuditEntry
from sessions_app.principals import Principal

# A request's principal, a Django user (admin), or a label for the operator's commands
# ("command:purge_expired"); None when nothing says.
Actor = Principal | AbstractBaseUser | str | None


def actor_fields(actor: Actor) -> dict[str, Any]:
    if isinstance(actor, Principal):
        return {"actor": actor.label, "api_key_id": actor.api_key_id, "user_id": actor.user_id}
    if isinstance(actor, AbstractBaseUser):
        return {"actor": f"user:{actor.get_username()}", "user_id": actor.pk}
    return {"actor": actor or "system"}


def audit_record(
    *,
    action: AuditAction,
    actor: Actor,
    organization_id: int | None,
    target: str,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        action=action,
        organization_id=organization_id,
        target=target[:255],
        detail=detail or {},
        **actor_fields(actor),
    )
