from typing import Any

from django.contrib import admin
from django.db.models import F, Max, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from artifacts.models import Artifact, Source
from sessions_app.admin import AuditedAdmin


class VersionInline(admin.TabularInline):
    model = Artifact
    fk_name = "root"
    extra = 0
    can_delete = False
    fields = [
        "version",
        "artifact_id",
        "is_latest",
        "content_hash",
        "size_bytes",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    ordering = ["-version"]
    verbose_name_plural = "Version history"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("expired", "Expired"),
            ("expiring", "Has a TTL"),
            ("pinned", "Pinned"),
            ("never", "No TTL"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Artifact]) -> QuerySet[Artifact]:
        value = self.value()
        if value == "expired":
            return queryset.expired()  # type: ignore[attr-defined]
        if value == "expiring":
            return queryset.filter(expires_at__gt=timezone.now(), is_pinned=False)
        if value == "pinned":
            return queryset.filter(is_pinned=True)
        if value == "never":
            return queryset.filter(expires_at__isnull=True)
        return queryset


@admin.register(Artifact)
class ArtifactAdmin(AuditedAdmin):
    list_display = [
        "name",
        "artifact_id",
        "latest_version",
        "artifact_type",
        "workflow_id",
        "namespace",
        "size_bytes",
        "expires_at",
        "created_at",
    ]
    list_filter = ["namespace", "artifact_type", "workflow_id", ExpiryFilter, "is_indexed"]
    search_fields = ["name", "artifact_id", "workflow_id", "session__session_id"]
    list_select_related = ["namespace__workspace__organization"]
    readonly_fields = [
        "artifact_id",
        "root",
        "version",
        "is_latest",
        "replaced_by_version",
        "content_hash",
        "size_bytes",
        "blob",
        "file_name",
        "content_type",
        "created_by",
        "created_at",
        "updated_at",
        "promoted_to_source",
    ]
    raw_id_fields = ["session", "thread", "derived_from"]
    inlines = [VersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artifact]:
        # One row per artifact (its root, version 1), whose change page lists every version.
        return (
            super()
            .get_queryset(request)
            .filter(root_id=F("id"))
            .annotate(latest_version_number=Max("versions__version"))
        )

    @admin.display(description="versions", ordering="latest_version_number")
    def latest_version(self, obj: Artifact) -> int:
        return obj.latest_version_number  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Source)
class SourceAdmin(AuditedAdmin):
    list_display = ["source_id", "name", "namespace", "created_by", "created_at"]
    search_fields = ["source_id", "name"]
    list_select_related = ["namespace__workspace__organization"]
