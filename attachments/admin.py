from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from attachments.models import Attachment, Blob
from sessions_app.admin import AuditedAdmin


@admin.register(Blob)
class BlobAdmin(AuditedAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]
    readonly_fields = ["sha256", "size", "created_at"]

    # Blobs come and go with the rows that use them; the admin only looks.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(AuditedAdmin):
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
    list_filter = ["source", "purged", "mime_type"]
    search_fields = ["name", "sha256", "session__session_id", "user_reference"]
    list_select_related = ["session"]
    readonly_fields = [
        "attachment_id",
        "file_id",
        "session",
        "blob",
        "original_name",
        "mime_type",
        "size",
        "sha256",
        "source",
        "purged",
        "created_at",
    ]
    fields = [
        *readonly_fields,
        "name",
        "description",
        "workspace_path",
        "metadata",
        "node_id",
        "path",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
