"""Attachments and blobs, read-only: an attachment's bytes, hash, size and tenancy never change
(the API has no edit either), its delete goes through `attachment_delete` (the
`attachment.deleted` event, its blob released once nothing uses it). Blob rows come and go
with the rows that use them; the blob list offers `collect_orphans` (a dry run first)."""

from io import StringIO
from typing import Any

from django.contrib import admin
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from attachments import services
from attachments.models import Attachment, Blob
from sessions_app.admin import AuditedAdmin, ServiceDeleteAdmin


@admin.register(Blob)
class BlobAdmin(AuditedAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        collect = self.admin_site.admin_view(self.collect_orphans_view)
        return [
            path("collect-orphans/", collect, name="attachments_blob_collect_orphans"),
            *super().get_urls(),
        ]

    def collect_orphans_view(self, request: HttpRequest) -> HttpResponse:
        """GET: what `collect_orphans --dry-run` would do. POST: do it."""
        if not request.user.is_superuser:  # type: ignore[union-attr]
            return HttpResponse("Only superusers collect orphans.", status=403)
        dry_run = request.method != "POST"
        report = StringIO()
        call_command("collect_orphans", dry_run=dry_run, stdout=report)
        return TemplateResponse(
            request,
            "admin/attachments/blob/collect_orphans.html",
            {
                **self.admin_site.each_context(request),
                "title": "Collect orphans" + (" (dry run)" if dry_run else ""),
                "dry_run": dry_run,
                "report": report.getvalue(),
                "opts": self.model._meta,
            },
        )


def _delete_attachment(attachment: Attachment, actor: Any) -> None:
    services.attachment_delete(attachment=attachment, actor=actor)


@admin.register(Attachment)
class AttachmentAdmin(ServiceDeleteAdmin):
    list_display = [
        "name",
        "attachment_id",
        "session",
        "mime_type",
        "size",
        "source",
        "purged",
        "created_at",
    ]
    list_filter = ["source", "purged", "index_status", "mime_type"]
    search_fields = ["name", "sha256", "session__session_id", "user_reference"]
    list_select_related = ["session"]
    date_hierarchy = "created_at"
    # Everything but the extracted text, which may run to megabytes.
    fields = [
        "attachment_id",
        "file_id",
        "session_link",
        "name",
        "original_name",
        "mime_type",
        "size",
        "sha256",
        "blob",
        "source",
        "purged",
        "description",
        "workspace_path",
        "metadata",
        "node_id",
        "path",
        "user_reference",
        "index_status",
        "index_error",
        "created_at",
    ]
    readonly_fields = ["attachment_id", "file_id", "session_link"]
    delete_service = _delete_attachment

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Shown, never edited: the API changes no attachment in place either.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="session")
    def session_link(self, attachment: Attachment) -> str:
        url = reverse("admin:sessions_app_session_change", args=[attachment.session_id])
        return format_html('<a href="{}">{}</a>', url, attachment.session)
