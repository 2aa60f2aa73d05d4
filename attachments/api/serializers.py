from rest_framework import serializers

from attachments.models import Attachment
from sessions_app.api.common import StrictSerializer
from sessions_app.api.pagination import KeysetPagination


class AttachmentUpload(StrictSerializer):
    """Text fields of `POST /api/uploads/{session_id}`; the file itself is the `file` part."""

    file = serializers.FileField(help_text="The file (multipart part named `file`).")
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    metadata = serializers.CharField(
        required=False, allow_blank=True, help_text="A JSON object, as a string."
    )
    node_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    path = serializers.CharField(
        required=False, allow_blank=True, max_length=1024, help_text="Workspace-relative path."
    )

    def get_fields(self) -> dict:
        fields = super().get_fields()
        # The file arrives outside `request.data` (staged while streaming); validated apart.
        if self.context.get("file_outside_data"):
            fields.pop("file")
        return fields


class AttachmentUploadResponse(serializers.Serializer):
    attachment_id = serializers.CharField()
    name = serializers.CharField()
    mime = serializers.CharField(source="mime_type")
    mime_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()


class AttachmentListItem(serializers.ModelSerializer):
    attachment_id = serializers.CharField()
    mime = serializers.CharField(source="mime_type")

    class Meta:
        model = Attachment
        fields = [
            "attachment_id",
            "name",
            "mime",
            "mime_type",
            "size",
            "source",
            "sha256",
            "description",
            "workspace_path",
            "purged",
            "created_at",
        ]


ATTACHMENT_PAGES = KeysetPagination(
    component="AttachmentPageResponse",
    items="attachments",
    item_serializer=AttachmentListItem,
    fields=("attachments", "has_more", "next_cursor"),
)
AttachmentPageResponse = ATTACHMENT_PAGES.serializer


# --- seed 003 ---


class AppUpload(StrictSerializer):
    file = serializers.FileField(help_text="The file to upload.")
    userReference = serializers.CharField(max_length=255)
    uploadType = serializers.ChoiceField(
        choices=["runtime"],
        error_messages={"invalid_choice": "uploadType must be 'runtime'."},
    )
    sessionId = serializers.CharField(required=False, max_length=128)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.context.get("file_outside_data"):
            fields.pop("file")
        return fields


class AppUploadResponse(serializers.Serializer):
    fileId = serializers.CharField(source="file_id")
    fileName = serializers.CharField(source="name")
    filePath = serializers.SerializerMethodField()
    fileSize = serializers.IntegerField(source="size")
    mimeType = serializers.CharField(source="mime_type")
    extension = serializers.CharField()
    uploadedAt = serializers.SerializerMethodField()

    def get_filePath(self, attachment: Attachment) -> str:
        suffix = f".{attachment.extension}" if attachment.extension else ""
        return f"AppFileSystem/{attachment.file_id}{suffix}"

    def get_uploadedAt(self, attachment: Attachment) -> str:
        return attachment.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AppDelete(StrictSerializer):
    sessionId = serializers.CharField(required=False, max_length=128)
    sessionReference = serializers.CharField(required=False, max_length=255)
