from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sessions_app import services
from sessions_app.audit import audit_record
from sessions_app.models import (
    ApiKey,
    AuditAction,
    AuditEntry,
    Event,
    Membership,
    Namespace,
    Organization,
    Session,
    SessionStatus,
    Thread,
    Workspace,
)
from sessions_app.quota import organization_quota, organization_usage


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


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, read-only: nobody adds, changes or deletes an entry here."""

    list_display = ["created_at", "organization", "actor", "action", "target"]
    list_filter = ["action", "organization"]
    search_fields = ["actor", "target"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0
    fields = ["slug", "name", "created_at"]
    readonly_fields = ["created_at"]
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    list_display = ["slug", "name", "storage_used", "storage_quota_bytes", "created_at"]
    search_fields = ["slug", "name"]
    readonly_fields = ["storage_used"]
    inlines = [WorkspaceInline]

    @admin.display(description="storage used (bytes)")
    def storage_used(self, organization: Organization) -> str:
        if organization.pk is None:
            return "-"
        usage = organization_usage(organization_id=organization.pk)
        quota = organization_quota(organization_id=organization.pk)
        return f"{usage['bytes']:,}" + (f" of {quota:,}" if quota else " (no quota)")


class NamespaceInline(admin.TabularInline):
    model = Namespace
    extra = 0
    fields = ["slug", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Workspace)
class WorkspaceAdmin(AuditedAdmin):
    list_display = ["slug", "organization", "name", "created_at"]
    list_filter = ["organization"]
    search_fields = ["slug", "name"]
    list_select_related = ["organization"]
    inlines = [NamespaceInline]

    def save_model(self, request: HttpRequest, obj: Workspace, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Every workspace has a `default` namespace, whichever way it was made.
        Namespace.objects.get_or_create(workspace=obj, slug="default")


@admin.register(Namespace)
class NamespaceAdmin(AuditedAdmin):
    list_display = ["slug", "workspace", "created_at"]
    list_filter = ["workspace__organization"]
    list_select_related = ["workspace__organization"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "organization", "read_only", "created_at"]
    list_select_related = ["user", "organization"]


@admin.register(Session)
class SessionAdmin(AuditedAdmin):
    list_display = ["session_id", "organization", "namespace", "status", "reference", "created_at"]
    list_filter = ["status", "organization"]
    search_fields = ["session_id", "reference", "user_reference", "workflow_id"]
    list_select_related = ["organization", "namespace__workspace__organization"]
    readonly_fields = ["last_event_sequence", "created_at", "updated_at", "completed_at"]
    actions = ["complete_sessions"]

    @admin.action(description="Complete selected sessions")
    def complete_sessions(self, request: HttpRequest, queryset: QuerySet[Session]) -> None:
        completed = 0
        for session in queryset.filter(status=SessionStatus.ACTIVE):
            services.session_complete(session=session)
            completed += 1
        self.message_user(request, f"Completed {completed} session(s).", messages.SUCCESS)


@admin.register(Thread)
class ThreadAdmin(AuditedAdmin):
    list_display = ["thread_id", "namespace", "created_at"]
    search_fields = ["thread_id"]
    list_select_related = ["namespace__workspace__organization"]


@admin.register(Event)
class EventAdmin(AuditedAdmin):
    list_display = ["event_id", "session", "sequence", "kind", "name", "size", "created_at"]
    list_filter = ["kind"]
    search_fields = ["event_id", "session__session_id", "artifact_id", "attachment_id"]
    list_select_related = ["session"]

    # The log is append-only: the admin reads it, never edits it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdmin):
    list_display = [
        "__str__",
        "organization",
        "default_workspace",
        "workspace",
        "read_only",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["read_only", "organization"]
    list_select_related = [
        "organization",
        "default_workspace__organization",
        "workspace__organization",
    ]
    search_fields = ["name", "prefix"]
    fields = [
        "name",
        "organization",
        "default_workspace",
        "workspace",
        "read_only",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    readonly_fields = ["revoked_at", "last_used_at"]
    actions = ["revoke_keys", "rotate_keys"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        api_key, raw_key = services.api_key_create(
            organization=obj.organization,
            default_workspace=obj.default_workspace,
            limit_to_workspace=obj.workspace_id is not None,
            read_only=obj.read_only,
            expires_at=obj.expires_at,
            name=obj.name,
            actor=request.user,  # type: ignore[arg-type]
        )
        obj.pk = api_key.pk
        self.message_user(
            request,
            f"New API key (shown once, copy it now): {raw_key}",
            messages.WARNING,
        )

    @admin.action(description="Revoke selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            services.api_key_revoke(api_key=api_key, actor=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)

    @admin.action(description="Rotate selected keys (new secret, old key revoked)")
    def rotate_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset.filter(revoked_at__isnull=True):
            _, raw_key = services.api_key_rotate(
                api_key=api_key,
                actor=request.user,  # type: ignore[arg-type]
            )
            self.message_user(
                request,
                f"{api_key.name or api_key.prefix}: new key (shown once, copy it now): {raw_key}",
                messages.WARNING,
            )
