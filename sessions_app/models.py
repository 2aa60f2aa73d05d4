"""Tenancy (organization → workspace → namespace), sessions, threads and API keys."""

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
DEFAULT_NAMESPACE = "default"

slug_validator = RegexValidator(
    SLUG_PATTERN, "Use 1–64 lowercase letters, digits or hyphens, not starting or ending with one."
)
SESSION_ID_MESSAGE = "Session ids are 1–128 characters of letters, digits, '_' or '-'."
session_id_validator = RegexValidator(SESSION_ID_PATTERN, SESSION_ID_MESSAGE)


class Organization(models.Model):
    slug = models.CharField(max_length=64, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    # Bytes the organization may store (attachments and every artifact version, counted as
    # stored, before deduplication); empty: DEPOT_STORAGE_QUOTA_BYTES (0 there: no limit).
    storage_quota_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Workspace(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="workspaces"
    )
    slug = models.CharField(max_length=64, validators=[slug_validator])
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__slug", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="workspace_slug_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"


class Namespace(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="namespaces")
    slug = models.CharField(max_length=64, validators=[slug_validator])
    # The namespace feed's last sequence, bumped under this row's lock like a session's.
    last_event_sequence = models.PositiveBigIntegerField(default=0)
    # Its artifacts (latest versions, expired ones too until the purge deletes them): the
    # seed-002 list's `total` without a COUNT. Kept by artifacts.services.artifact_create (+1)
    # and artifact_delete (-1, also for the purge) under this row's lock, after the event
    # append took it; the list subtracts its expired-but-unpurged ones (README, Artifacts).
    artifact_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace__organization__slug", "workspace__slug", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="namespace_slug_per_ws")
        ]

    def __str__(self) -> str:
        return f"{self.workspace}/{self.slug}"


class Membership(models.Model):
    """Lets a Django user (admin, browsable API, web pages) act inside an organization."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="depot_memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization}"


class SessionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Session(models.Model):
    """An agent run. `session_id` is the public id, unique within a WORKSPACE (not the
    organization): a workspace-limited key must not learn which ids exist in the organization's
    other workspaces, so "taken in another workspace" and "free" have to answer alike, and the
    only way they can is for the other workspace's id not to be taken here at all. `workspace`
    is `namespace.workspace`, denormalized so the database can hold that uniqueness; `save()`
    sets it from the namespace, and nothing else writes it."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sessions"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sessions")
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="sessions")
    session_id = models.CharField(max_length=128, validators=[session_id_validator])
    reference = models.CharField(max_length=255, blank=True, default="")
    user_reference = models.CharField(max_length=255, blank=True, default="")
    workflow_id = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.ACTIVE
    )
    metadata = models.JSONField(default=dict, blank=True)
    # The last event sequence handed out; bumped under this row's lock so sequence order is
    # commit order (engineering.md, "Event cursors").
    last_event_sequence = models.PositiveBigIntegerField(default=0)
    # Attachment rows of the session, kept by the attachment writes under the session's lock,
    # so the per-session file limit is one UPDATE, not a COUNT(*) that grows with the session.
    file_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "session_id"], name="session_id_per_workspace"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "reference"], name="session_reference_idx"),
            models.Index(fields=["organization", "session_id"], name="session_id_in_org_idx"),
        ]

    def __str__(self) -> str:
        return self.session_id

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The namespace decides the workspace; the caller never sets it.
        self.workspace_id = self.namespace.workspace_id
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "namespace" in update_fields:
            kwargs["update_fields"] = {*update_fields, "workspace"}
        super().save(*args, **kwargs)

    @staticmethod
    def mint_id() -> str:
        return f"s-{uuid.uuid4()}"


class Thread(models.Model):
    """A conversation inside a namespace; exists once something names it."""

    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="threads")
    thread_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["namespace", "thread_id"], name="thread_id_per_ns")
        ]

    def __str__(self) -> str:
        return self.thread_id


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def usable(self) -> "ApiKeyQuerySet":
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """An API key. Only the SHA-256 of the secret is kept; the key is shown once at creation.

    A key reads `dpt_<prefix>_<secret>`: the prefix finds the row, the hash proves the secret.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    # When set, the key sees only this workspace.
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, null=True, blank=True, related_name="limited_keys"
    )
    # Surfaces without a namespace in the path use this workspace's `default` namespace.
    default_workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="default_for_keys"
    )
    name = models.CharField(max_length=200, blank=True, default="")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    read_only = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(workspace__isnull=True)
                | models.Q(workspace=models.F("default_workspace")),
                name="limited_key_defaults_to_its_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"dpt_{self.prefix}_… ({self.name or self.organization.slug})"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


# Seed 000's id for the file of one artifact version (an artifact event's `attachment_id`):
# `ver_<hex>` for the version `art_<hex>`. An `art_` id on the seed-000 routes stands for the
# artifact, so version 1's own id (which is also the root's) opens the latest version; this one
# always opens the version the event is about.
VERSION_FILE_PREFIX = "ver_"
ARTIFACT_ID_PREFIX = "art_"


def version_file_id(artifact_id: str | None) -> str | None:
    if artifact_id is None or not artifact_id.startswith(ARTIFACT_ID_PREFIX):
        return artifact_id
    return VERSION_FILE_PREFIX + artifact_id.removeprefix(ARTIFACT_ID_PREFIX)


def artifact_id_of_version_file(file_id: str) -> str | None:
    """The version id a `ver_` id names, or None for any other id."""
    if not file_id.startswith(VERSION_FILE_PREFIX):
        return None
    return ARTIFACT_ID_PREFIX + file_id.removeprefix(VERSION_FILE_PREFIX)


class EventKind(models.TextChoices):
    ATTACHMENT_CREATED = "attachment.created"
    ATTACHMENT_DELETED = "attachment.deleted"
    ARTIFACT_CREATED = "artifact.created"
    ARTIFACT_VERSION_CREATED = "artifact.version_created"
    ARTIFACT_UPDATED = "artifact.updated"
    ARTIFACT_DELETED = "artifact.deleted"
    SESSION_COMPLETED = "session.completed"


class ChangeType(models.TextChoices):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class Event(models.Model):
    """One entry of the append-only log. `sequence` is 1, 2, 3… per session (null for an
    artifact that belongs to no session, and for the deletion events of a deleted session);
    `namespace_sequence` is 1, 2, 3… per namespace."""

    event_id = models.CharField(max_length=40, unique=True, editable=False)
    # The log is append-only: deleting a session unlinks its events instead of deleting them, so
    # the namespace feed keeps its history; `session_public_id` still names the session.
    session = models.ForeignKey(
        Session, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    session_public_id = models.CharField(max_length=128, blank=True, default="")
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    namespace = models.ForeignKey(Namespace, on_delete=models.CASCADE, related_name="events")
    namespace_sequence = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    change_type = models.CharField(max_length=16, choices=ChangeType.choices)
    artifact_id = models.CharField(max_length=64, null=True, blank=True)
    attachment_id = models.CharField(max_length=64, null=True, blank=True)
    node_id = models.CharField(max_length=255, null=True, blank=True)
    path = models.CharField(max_length=1024, null=True, blank=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    mime = models.CharField(max_length=255, null=True, blank=True)
    hash = models.CharField(max_length=71, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["namespace_id", "namespace_sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "sequence"], name="event_sequence_per_session"
            ),
            models.UniqueConstraint(
                fields=["namespace", "namespace_sequence"], name="event_sequence_per_namespace"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.namespace_id}#{self.namespace_sequence} {self.kind}"

    @staticmethod
    def mint_id() -> str:
        return f"evt_{uuid.uuid4().hex}"


class AuditAction(models.TextChoices):
    API_KEY_CREATED = "api_key.created"
    API_KEY_ROTATED = "api_key.rotated"
    API_KEY_REVOKED = "api_key.revoked"
    SESSION_DELETED = "session.deleted"
    ATTACHMENT_DELETED = "attachment.deleted"
    ARTIFACT_DELETED = "artifact.deleted"
    ORPHANS_COLLECTED = "orphans.collected"
    ADMIN_ADDED = "admin.added"
    ADMIN_CHANGED = "admin.changed"
    ADMIN_DELETED = "admin.deleted"


class AuditEntry(models.Model):
    """Who did what and when, from which key or user: key creation, rotation and revocation,
    deletes, purges and admin actions. Append-only: written by the services that act (in the
    same transaction), shown read-only in admin, never edited."""

    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit"
    )
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    # "key:<name or prefix>", "user:<username>", or "command:<name>" for the operator's tools.
    actor = models.CharField(max_length=255)
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What was acted on: a public id, or a description for admin actions.
    target = models.CharField(max_length=255)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["organization", "-id"], name="audit_per_organization")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.target}"
