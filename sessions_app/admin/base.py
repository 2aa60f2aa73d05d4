"""What every Depot model admin shares: the audit trail of admin edits, and deletes that go
through the app's delete service (so events fire and unused blobs are released) instead of
Django's bare `QuerySet.delete()`."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from sessions_app.audit import audit_record
from sessions_app.models import AuditAction


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made through admin also goes to the audit log, with the
    operator as the actor (Django's own admin log stays as it is)."""

    def _audit(self, request: HttpRequest, action: AuditAction, obj: Any, detail: Any) -> None:
        audit_record(
            action=action,
            actor=request.user,  # type: ignore[arg-type]  # admin views need a login
            organization_id=_organization_of(obj),
            target=f"{obj._meta.label}:{obj.pk} {obj}",
            detail={"change": detail} if detail else {},
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, AuditAction.ADMIN_ADDED, obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, AuditAction.ADMIN_CHANGED, obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, AuditAction.ADMIN_DELETED, obj, None)
        return super().log_deletions(request, queryset)


class ServiceDeleteAdmin(AuditedAdmin):
    """Single and bulk deletes call `delete_service(obj, actor)`, one object at a time, each
    in the service's own transaction (and lock order)."""

    delete_service: Callable[[Any, Any], None]

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        type(self).delete_service(obj, request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in list(queryset):
            type(self).delete_service(obj, request.user)


def _organization_of(obj: Any) -> int | None:
    """The organization an admin-edited row belongs to, where it says."""
    for path in ("organization_id", "workspace.organization_id", "session.organization_id"):
        value: Any = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, int):
            return value
    namespace = getattr(obj, "namespace", None)
    workspace = getattr(namespace, "workspace", None)
    return getattr(workspace, "organization_id", None)


def changelist_link(url_name: str, label: str, **filters: Any) -> str:
    """A link to another model's admin list, filtered (e.g. a session's attachments)."""
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', reverse(url_name), query, label)
