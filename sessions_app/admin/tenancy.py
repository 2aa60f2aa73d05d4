"""Organizations, workspaces, namespaces, memberships and the audit log.

Slugs and parents are read-only after creation (they are path components of every API URL
and the tenancy of every row below them). Nothing here deletes a tenant: a cascade from an
organization would drop sessions, files and artifacts without their services (no events, no
blob release); delete what it holds first, through its own admin."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sessions_app.admin.base import AuditedAdmin
from sessions_app.models import AuditEntry, Membership, Namespace, Organization, Workspace
from sessions_app.principals import ACTING_ORGANIZATION_SESSION_KEY
from sessions_app.quota import organization_quota, organization_usage


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


class NoDeleteAdmin(AuditedAdmin):
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WorkspaceInline(admin.TabularInline):
    model = Workspace
    extra = 0
    fields = ["slug", "name", "created_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    # Listed here, added on the workspace admin's own page (an inline row would leave the
    # slug of existing rows editable).
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(NoDeleteAdmin):
    list_display = ["slug", "name", "storage_used", "storage_quota_bytes", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [WorkspaceInline]
    actions = ["act_in_organization"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["storage_used", "created_at"] + (["slug"] if obj is not None else [])

    @admin.display(description="storage used (bytes)")
    def storage_used(self, organization: Organization) -> str:
        if organization.pk is None:
            return "-"
        usage = organization_usage(organization_id=organization.pk)
        quota = organization_quota(organization_id=organization.pk)
        return f"{usage['bytes']:,}" + (f" of {quota:,}" if quota else " (no quota)")

    @admin.action(description="Act in this organization in the browsable API (superusers)")
    def act_in_organization(self, request: HttpRequest, queryset: QuerySet[Organization]) -> None:
        # The choice lives in the operator's login session: the browsable API (and every
        # cookie-authenticated request) then acts there, with full rights, no Membership.
        if not getattr(request.user, "is_superuser", False):
            self.message_user(request, "Only superusers act without a Membership.", messages.ERROR)
            return
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one organization.", messages.ERROR)
            return
        organization = queryset.get()
        request.session[ACTING_ORGANIZATION_SESSION_KEY] = organization.pk
        self.message_user(
            request, f"The browsable API now acts in {organization.slug}.", messages.SUCCESS
        )


class NamespaceInline(admin.TabularInline):
    model = Namespace
    extra = 0
    fields = ["slug", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Workspace)
class WorkspaceAdmin(NoDeleteAdmin):
    list_display = ["slug", "organization", "name", "created_at"]
    list_filter = ["organization"]
    search_fields = ["slug", "name"]
    list_select_related = ["organization"]
    inlines = [NamespaceInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["created_at"] + (["organization", "slug"] if obj is not None else [])

    def save_model(self, request: HttpRequest, obj: Workspace, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # Every workspace has a `default` namespace, whichever way it was made.
        Namespace.objects.get_or_create(workspace=obj, slug="default")


@admin.register(Namespace)
class NamespaceAdmin(NoDeleteAdmin):
    list_display = ["slug", "workspace", "created_at"]
    list_filter = ["workspace__organization"]
    list_select_related = ["workspace__organization"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["workspace", "slug"] if obj is not None else []
        return [*fixed, "last_event_sequence", "artifact_count", "created_at"]

    def save_model(self, request: HttpRequest, obj: Namespace, form: Any, change: bool) -> None:
        # The counters move under the row's lock in the services: a change writes only what
        # the form changed, never a counter read before a concurrent write moved it.
        if change:
            obj.save(update_fields=form.changed_data)
        else:
            super().save_model(request, obj, form, change)


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ["user", "organization", "read_only", "created_at"]
    list_select_related = ["user", "organization"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["created_at"] + (["user", "organization"] if obj is not None else [])
