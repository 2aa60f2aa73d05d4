"""Versioned artifacts (one row per version), their lineage, and knowledge sources."""

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from attachments.models import Blob, IndexStatus
from sessions_app.models import Namespace, Session, Thread

PREVIEW_CHARS = 500


def mint_artifact_id() -> str:
    return f"art_{uuid.uuid4().hex}"


class ArtifactQuerySet(models.QuerySet["Artifact"]):
    def latest_versions(self) -> "ArtifactQuerySet":
        return self.filter(is_latest=True)

    def unexpired(self, now: datetime | None = None) -> "ArtifactQuerySet":
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now or timezone.now()) | Q(is_pinned=True)
        )

    def expired(self) -> "ArtifactQuerySet":
        return self.filter(expires_at__lte=timezone.now(), is_pinned=False)


class Artifact(models.Model):
    """One version of an artifact. `root` is version 1 (and version 1's root is itself); the
    root's id stands for the artifact. Content is inline text or a blob, never both."""

    artifact_id = models.CharField(max_length=40, unique=True, default=mint_artifact_id)
    root = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="versions"
    )
    version = models.PositiveIntegerField(default=1)
    is_latest = models.BooleanField(default=True)
    replaced_by_version = models.PositiveIntegerField(default=0)

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="artifacts")
    session = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="artifacts"
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.SET_NULL, null=True, blank=True, related_name="artifacts"
    )

    name = models.CharField(max_length=500)
    description = models.TextField(blank=True, default="")
    artifact_type = models.CharField(max_length=100, blank=True, default="")
    workflow_id = models.CharField(max_length=255, blank=True, default="")
    phase_id = models.CharField(max_length=255, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    scope = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=50, blank=True, default="active")
    is_primary_deliverable = models.BooleanField(default=False)

    # Provenance.
    source = models.CharField(max_length=255, blank=True, default="")
    source_execution_id = models.CharField(max_length=255, blank=True, default="")
    source_step_id = models.CharField(max_length=255, blank=True, default="")
    source_tool = models.CharField(max_length=255, blank=True, default="")
    created_by = models.CharField(max_length=255, blank=True, default="")

    # Lifetime.
    ttl_seconds = models.PositiveIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    is_pinned = models.BooleanField(default=False)

    # Content: inline text, or a file kept as a blob.
    content = models.TextField(null=True, blank=True)
    content_type = models.CharField(max_length=255, default="text/markdown")
    blob = models.ForeignKey(
        Blob, on_delete=models.PROTECT, null=True, blank=True, related_name="artifacts"
    )
    file_name = models.CharField(max_length=255, blank=True, default="")
    content_hash = models.CharField(max_length=71)
    size_bytes = models.PositiveBigIntegerField(default=0)
    content_text = models.TextField(blank=True, default="")
    content_preview = models.CharField(max_length=PREVIEW_CHARS, blank=True, default="")

    # Indexing state, written by the background indexer (artifacts/indexing.py).
    index_status = models.CharField(
        max_length=16, choices=IndexStatus.choices, default=IndexStatus.PENDING
    )
    is_indexed = models.BooleanField(default=False)
    indexed_at = models.DateTimeField(null=True, blank=True)
    index_collection = models.CharField(max_length=255, blank=True, default="")
    index_error = models.TextField(blank=True, default="")
    index_attempts = models.PositiveIntegerField(default=0)
    embedding_model_id = models.CharField(max_length=255, blank=True, default="")
    chunk_count = models.PositiveIntegerField(default=0)

    promoted_to_source = models.ForeignKey(
        "Source", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    derived_from = models.ManyToManyField(
        "self", symmetrical=False, related_name="derivatives", blank=True
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArtifactQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["root", "version"], name="artifact_version_unique"),
            models.UniqueConstraint(
                fields=["root"], condition=Q(is_latest=True), name="artifact_one_latest"
            ),
            models.CheckConstraint(
                condition=Q(content__isnull=True) | Q(blob__isnull=True),
                name="artifact_inline_or_file",
            ),
        ]
        indexes = [
            # Lists and their counts read the latest versions of a namespace in root order.
            models.Index(
                fields=["namespace", "-root"],
                condition=Q(is_latest=True),
                name="artifact_ns_latest_idx",
            ),
            # The seed-002 list's `total` is the namespace's artifact_count less the artifacts
            # that expired and wait for the purge: this counts those (few, and only rows with
            # an expiry are in it).
            models.Index(
                fields=["namespace", "expires_at"],
                condition=Q(is_latest=True, is_pinned=False, expires_at__isnull=False),
                name="artifact_ns_expiring_idx",
            ),
            # A list filtered by type still counts, over this index only.
            models.Index(
                fields=["namespace", "artifact_type", "-root"],
                condition=Q(is_latest=True),
                name="artifact_ns_type_latest_idx",
            ),
            models.Index(fields=["workflow_id"], name="artifact_workflow_idx"),
            models.Index(fields=["expires_at"], name="artifact_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def root_artifact_id(self) -> str:
        # Version 1 is its own root: answer without loading the relation.
        if self.root_id is None or self.root_id == self.pk or self.root is None:
            return self.artifact_id
        return self.root.artifact_id

    @property
    def root_pk(self) -> int:
        """The root row's key (version 1's own key for version 1)."""
        return self.root_id if self.root_id is not None else self.pk

    @property
    def has_file(self) -> bool:
        return self.blob_id is not None

    @property
    def mime_type(self) -> str:
        return self.content_type

    @property
    def sha256(self) -> str:
        return self.content_hash.removeprefix("sha256:")

    @property
    def is_expired(self) -> bool:
        return bool(self.expires_at and not self.is_pinned and self.expires_at <= timezone.now())


class Source(models.Model):
    """A knowledge source made by promoting an artifact (seed 002)."""

    source_id = models.CharField(max_length=40, unique=True)
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="sources")
    artifact = models.OneToOneField(
        Artifact, on_delete=models.SET_NULL, null=True, blank=True, related_name="source_record"
    )
    name = models.CharField(max_length=500)
    created_by = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.source_id} {self.name}"


class ArtifactChunk(models.Model):
    """A piece of a version's text, the unit of search. The lexical index over `text` is kept
    by the database itself (migration 0003): a trigger-maintained `search_vector` with a GIN
    index on PostgreSQL, an FTS5 table kept by triggers on SQLite."""

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="chunks")
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    # float32 vector from the optional semantic model, else null.
    embedding = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["artifact_id", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["artifact", "ordinal"], name="chunk_ordinal_unique")
        ]
        # Search reads a namespace's newest matching chunks first. (The foreign key keeps its
        # own index: dropping it would make SQLite rebuild the table, and with it lose the
        # full-text triggers of migration 0003.)
        indexes = [models.Index(fields=["namespace", "id"], name="chunk_ns_id_idx")]

    def __str__(self) -> str:
        return f"{self.artifact_id}#{self.ordinal}"
