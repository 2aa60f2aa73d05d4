"""Blobs (content-addressed bytes) and attachments (files in a session)."""

import uuid

from django.db import models

from sessions_app.models import Session


class Blob(models.Model):
    """Bytes stored once under a key derived from their SHA-256, however many rows use them.

    Rows in any app point here with a foreign key; a blob nothing points at is released and its
    bytes deleted after the releasing transaction commits (`attachments.services.blob_release`).
    """

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size} B)"

    @property
    def storage_key(self) -> str:
        return blob_key(self.sha256)


def blob_key(sha256: str) -> str:
    # Two levels of fan-out keep directories small on local disk; S3 does not care.
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class AttachmentSource(models.TextChoices):
    UPLOAD = "upload"
    WORKSPACE = "workspace"
    API = "api"


class IndexStatus(models.TextChoices):
    """Where text extraction (and for artifacts, indexing) stands, for both kinds of file."""

    PENDING = "pending"
    INDEXED = "indexed"
    FAILED = "failed"


class Attachment(models.Model):
    """A file in a session. One UUID gives both public ids: `att_<hex>` and `f-<uuid>`."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attachments")
    # Null once auto-clean has purged the bytes; sha256/size/mime stay for the record.
    blob = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    name = models.CharField(max_length=255)
    original_name = models.TextField(blank=True, default="")
    mime_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.CharField(
        max_length=16, choices=AttachmentSource.choices, default=AttachmentSource.UPLOAD
    )
    workspace_path = models.CharField(max_length=1024, blank=True, default="")
    description = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    node_id = models.CharField(max_length=255, blank=True, default="")
    path = models.CharField(max_length=1024, blank=True, default="")
    user_reference = models.CharField(max_length=255, blank=True, default="")
    purged = models.BooleanField(default=False)
    # Extracted in the background (attachments/tasks.py): never inside the upload request.
    content_text = models.TextField(blank=True, default="")
    index_status = models.CharField(max_length=16, default=IndexStatus.PENDING)
    index_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["session", "-id"], name="attachment_session_idx")]

    def __str__(self) -> str:
        return f"{self.attachment_id} {self.name}"

    @property
    def attachment_id(self) -> str:
        return f"att_{self.uid.hex}"

    @property
    def file_id(self) -> str:
        return f"f-{self.uid}"

    @property
    def extension(self) -> str:
        stem, dot, extension = self.name.rpartition(".")
        return extension.lower() if dot and stem else ""


def parse_attachment_id(public_id: str) -> uuid.UUID | None:
    """`att_<32 hex>` or `f-<uuid>` → the UUID, or None when it is neither."""
    try:
        if public_id.startswith("att_") and len(public_id) == 36:
            return uuid.UUID(hex=public_id[4:])
        if public_id.startswith("f-") and len(public_id) == 38:
            return uuid.UUID(public_id[2:])
    except ValueError:
        return None
    return None
