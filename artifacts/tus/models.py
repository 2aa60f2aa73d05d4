"""A tus upload in progress: where its bytes are, how far they go, and what they become.

The bytes live under `tus/<uid>/` in the storage backend (not under `tmp/`, whose orphans
`collect_orphans` removes after a grace shorter than an upload may take). The row is the truth
about them: the offset, the saved SHA-256 state and (on S3) the multipart upload's parts and the
short tail that has not filled a part yet are updated together, after the bytes are durable.
"""

import uuid
from typing import Any

from django.db import models
from django.db.models import Case, F, Q, Sum, When
from django.utils import timezone

from sessions_app.models import Organization

STORAGE_PREFIX = "tus/"


def new_uid() -> str:
    return uuid.uuid4().hex


class TusTarget(models.TextChoices):
    ATTACHMENT = "attachment"  # metadata session_id
    ARTIFACT = "artifact"  # metadata namespace + name: a new artifact
    VERSION = "version"  # metadata namespace + artifact_id: its next version
    PARTIAL = "partial"  # Upload-Concat: partial (joined later by a final upload)


class TusState(models.TextChoices):
    OPEN = "open"  # taking bytes
    COMPLETE = "complete"  # a partial upload with all its bytes, waiting for its final
    FINISHING = "finishing"  # all bytes in; becoming an attachment or artifact version
    FINISHED = "finished"  # became an attachment or artifact version; bytes promoted
    CONSUMED = "consumed"  # a partial joined into a final upload; bytes gone


class TusUpload(models.Model):
    uid = models.CharField(max_length=32, unique=True, default=new_uid)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    # The key that created it, as a principal again at the end (its workspace reach and label).
    workspace_id = models.BigIntegerField()
    default_workspace_id = models.BigIntegerField()
    workspace_limit_id = models.BigIntegerField(null=True)
    api_key_id = models.BigIntegerField(null=True)
    created_by = models.CharField(max_length=300, blank=True)

    target = models.CharField(max_length=16, choices=TusTarget.choices)
    metadata = models.JSONField(default=dict)
    session_id = models.CharField(max_length=200, blank=True)
    namespace_id = models.BigIntegerField(null=True)
    artifact_root_id = models.BigIntegerField(null=True)

    length = models.BigIntegerField(null=True)  # None: deferred
    offset = models.BigIntegerField(default=0)
    state = models.CharField(max_length=16, choices=TusState.choices, default=TusState.OPEN)
    sha256_state = models.BinaryField()
    head = models.BinaryField(default=b"")  # the first bytes, for MIME sniffing at the end
    # S3 only: the multipart upload, its parts [{"n", "etag", "size"}], the tail object.
    multipart_id = models.CharField(max_length=1024, blank=True)
    parts = models.JSONField(default=list)
    tail_key = models.CharField(max_length=300, blank=True)
    tail_size = models.BigIntegerField(default=0)
    # One PATCH at a time: a lease renewed while the PATCH lives (artifacts/tus/lease.py),
    # naming the process that holds it, so that a restarted server knows a dead one's.
    lease_token = models.CharField(max_length=32, blank=True)
    lease_holder = models.CharField(max_length=300, blank=True)
    lease_until = models.DateTimeField(null=True)
    # A deferred-length upload's PATCH reserves the quota room it may fill (counted while its
    # lease lives), so parallel PATCHes cannot each take the same room.
    reserved = models.BigIntegerField(default=0)
    # A final upload (concatenation): the partial uploads it joined, in order.
    concat = models.JSONField(default=list)

    # A direct-to-S3 upload (artifacts/tus/direct.py): the client PUTs the parts to S3 itself;
    # the tus endpoints do not see it.
    direct = models.BooleanField(default=False)
    result_id = models.CharField(max_length=40, blank=True)  # attachment or artifact id
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "state"])]

    def __str__(self) -> str:
        return f"tus upload {self.uid} ({self.state}, {self.offset}/{self.length})"

    @property
    def prefix(self) -> str:
        return f"{STORAGE_PREFIX}{self.uid}/"

    @property
    def data_key(self) -> str:
        return f"{self.prefix}data"

    @property
    def unfinished(self) -> bool:
        return self.state in (TusState.OPEN, TusState.COMPLETE)


def tus_usage(*, organization_id: int, workspace_id: int | None = None, **kwargs: Any) -> Any:
    """`storage_usage` receiver: unfinished uploads count against the quota, at their declared
    length (or, when the length is deferred, what they hold plus what a live PATCH reserved).
    Absent when there are none."""
    rows = TusUpload.objects.filter(
        organization_id=organization_id, state__in=[TusState.OPEN, TusState.COMPLETE]
    )
    if workspace_id is not None:
        rows = rows.filter(workspace_id=workspace_id)
    live = Q(lease_until__gt=timezone.now()) & ~Q(lease_token="")
    totals = rows.aggregate(
        count=models.Count("id"),
        bytes=Sum(
            Case(
                When(Q(length__isnull=True) & live, then=F("offset") + F("reserved")),
                When(length__isnull=True, then=F("offset")),
                default=F("length"),
                output_field=models.BigIntegerField(),
            )
        ),
    )
    if not totals["count"]:
        return {}
    return {"tus_uploads": {"count": totals["count"], "bytes": totals["bytes"] or 0}}
