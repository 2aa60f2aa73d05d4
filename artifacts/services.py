"""Writes for artifacts: versions, in-place updates, deletion, promotion, expiry.

Version numbers (engineering.md): the root row is locked in a short transaction, the next
number is max+1 and the previous latest is flipped; a unique (root, version) constraint and a
partial unique index on root WHERE is_latest back that up, and a violation becomes a 409. Bytes
go to storage before the transaction, never while the lock is held.

Locks follow the one order of sessions_app/locks.py: root → latest version → blob → session →
namespace, the namespace last (by the event append, the last statement of every write).
"""

import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from artifacts.locks import (
    artifact_latest_for_update,
    artifact_latest_replace,
    artifact_parents_copy,
    artifact_root_for_update,
    artifact_root_lock,
)
from artifacts.models import Artifact, ArtifactChunk, Source
from artifacts.new_content import (
    INDEXED_FIELDS,
    INHERITED_FIELDS,
    NewContent,
    content_fields,
    staged_content,
)
from artifacts.tasks import index_artifact as index_artifact_task
from attachments import storage
from attachments.file_identity import display_name
from attachments.file_types import is_textual  # noqa: F401  (callers outside import it from here)
from attachments.services import blob_acquire, blob_release
from sessions_app import events
from sessions_app.audit import Actor, audit_record
from sessions_app.errors import Conflict, InvalidInput
from sessions_app.models import AuditAction, EventKind, Namespace, Session, Thread, Workspace
from sessions_app.quota import quota_check


def _expiry(fields: dict[str, Any]) -> None:
    if "ttl_seconds" in fields:
        ttl = fields["ttl_seconds"]
        fields["expires_at"] = timezone.now() + timedelta(seconds=ttl) if ttl else None


def _record(artifact: Artifact, kind: EventKind) -> None:
    """The event for a write: in the session's log when the artifact has a session, and in
    its namespace's feed either way."""
    events.event_append(
        kind=kind,
        session=Session(pk=artifact.session_id) if artifact.session_id else None,
        namespace_id=artifact.namespace_id,
        artifact_id=artifact.artifact_id,
        # A display name (§6: at most 255 characters, no control characters): a title may be
        # 500 characters, the event's column holds 255.
        name=display_name(artifact.file_name or artifact.name),
        size=artifact.size_bytes,
        mime=artifact.content_type,
        hash=artifact.content_hash,
        path=artifact.file_name or None,
    )


def _artifacts_counted(namespace_id: int, delta: int) -> None:
    """The namespace's artifact count (the seed-002 list's total) moved by `delta`, in the
    write's transaction. It runs after the event append, which already holds the namespace
    row, the last lock of the order, so it takes no new lock and waits on nobody."""
    count = F("artifact_count") + delta
    # Never below zero: a count that fell behind (artifacts written by a server still on the
    # code before the counter, during a rolling deploy) must not turn a DELETE into a CHECK
    # violation; `manage.py recount_artifacts` (artifacts_recount) sets it right.
    Namespace.objects.filter(pk=namespace_id).update(
        artifact_count=count if delta >= 0 else Greatest(count, 0)
    )


def artifacts_recount(*, namespace: Namespace | None = None) -> int:
    """Each namespace's `artifact_count` set to its artifacts (latest versions) as they are:
    the repair for a count that drifted (see `_artifacts_counted`). Each under its namespace
    row's lock, the last of the lock order and the one every counting write holds, so no write
    counts in between. Returns how many namespaces were corrected."""
    corrected = 0
    if namespace is not None:
        pks = [namespace.pk]
    else:
        pks = list(Namespace.objects.order_by("pk").values_list("pk", flat=True))
    for pk in pks:
        with transaction.atomic():
            locked = Namespace.objects.select_for_update().only("artifact_count").get(pk=pk)
            real = Artifact.objects.filter(namespace_id=pk, is_latest=True).count()
            if locked.artifact_count != real:
                Namespace.objects.filter(pk=pk).update(artifact_count=real)
                corrected += 1
    return corrected


def artifact_create(
    *,
    namespace: Namespace,
    content: NewContent,
    fields: dict[str, Any],
    session_lookup: Callable[[], Session] | None = None,
    thread_id: str | None = None,
    derived_from: list[Artifact] | None = None,
    created_by: str = "",
) -> Artifact:
    """Version 1 of a new artifact. `session_lookup` runs inside the transaction, so a session
    it creates is rolled back with the artifact if anything fails."""
    fields = dict(fields)
    _expiry(fields)
    with staged_content(content), transaction.atomic():
        # The blob before the session lookup, which may insert (and so lock) a session row.
        blob = blob_acquire(staged=content.staged) if content.staged is not None else None
        quota_check(organization_id=namespace.workspace.organization_id, adding=content.size)
        row = Artifact(
            namespace=namespace,
            session=session_lookup() if session_lookup else None,
            created_by=created_by,
            **fields,
            **content_fields(content),
        )
        if blob is not None:
            row.blob = blob
        if thread_id:
            row.thread, _ = Thread.objects.get_or_create(namespace=namespace, thread_id=thread_id)
        row.save()
        Artifact.objects.filter(pk=row.pk).update(root_id=row.pk)
        row.root_id = row.pk
        if derived_from:
            row.derived_from.set(derived_from)
        index_artifact_task.enqueue(row.pk)
        _record(row, EventKind.ARTIFACT_CREATED)
        _artifacts_counted(row.namespace_id, 1)
        return row


def artifact_version_create(
    *,
    artifact: Artifact,
    content: NewContent,
    fields: dict[str, Any] | None = None,
    created_by: str = "",
) -> tuple[Artifact, bool]:
    """A new latest version of `artifact`'s root. Content identical to the latest makes no new
    version: the mutable `fields` are then applied in place. Returns (version, created).

    `artifact` is the caller's read, done before the transaction; when it is the latest, its
    replacement under the locks is one statement that also proves it still is. The new version
    carries the related rows that read brought (for an answer built without reading again)."""
    fields = dict(fields or {})
    _expiry(fields)
    root_pk = artifact.root_pk
    with staged_content(content), transaction.atomic():
        # The root row comes with the version (its id is in every answer): from the read when
        # it brought it, else with its lock.
        root = _root_read(artifact)
        if root is None:
            root = artifact_root_for_update(root_pk)
        else:
            artifact_root_lock(root_pk)
        replace = partial(
            artifact_latest_replace,
            root_pk=root_pk,
            unless_hash=content.content_hash,
            inherited=INHERITED_FIELDS,
        )
        replaced_pk = artifact.pk
        # (A read holding the same content as the new one goes straight to the in-place path.)
        fresh = artifact.is_latest and artifact.content_hash != content.content_hash
        replaced = replace(latest_pk=replaced_pk) if fresh else None
        if replaced is None:
            # Not the latest (any more), or the same content: read the latest under the lock.
            latest = artifact_latest_for_update(root_pk)
            if latest.content_hash == content.content_hash:
                return _update_in_place(latest, fields), False
            replaced_pk = latest.pk
            replaced = replace(latest_pk=replaced_pk)
            if replaced is None:  # the root's and the latest's locks are held: cannot happen
                raise Conflict("Another version was created at the same time; retry.")
        _quota_check(artifact, adding=content.size)
        row = Artifact(
            root_id=root_pk,
            version=replaced.number,
            created_by=created_by or replaced.created_by,
            **{**replaced.inherited, **fields},
            **content_fields(content),
        )
        row.root = root
        _carry_related(artifact, row)
        if content.staged is not None:
            row.blob = blob_acquire(staged=content.staged)
        if replaced.chunk_count:
            # Search reads latest versions only: the replaced one's chunks are dead weight.
            # (The indexer writes chunks and their count together, under the version's lock.)
            ArtifactChunk.objects.filter(artifact_id=replaced_pk).delete()
        try:
            # No savepoint: a violation ends the whole transaction with the 409.
            row.save()
        except IntegrityError as error:
            raise Conflict("Another version was created at the same time; retry.") from error
        if replaced.has_parents:
            artifact_parents_copy(from_pk=replaced_pk, to_pk=row.pk)
        index_artifact_task.enqueue(row.pk)
        _record(row, EventKind.ARTIFACT_VERSION_CREATED)
        return row, True


def _root_read(artifact: Artifact) -> Artifact | None:
    """The root row `artifact`'s read brought (version 1 is its own root), or None."""
    if artifact.pk == artifact.root_pk:
        return artifact
    return artifact.root if Artifact.root.is_cached(artifact) else None  # type: ignore[attr-defined]


# The related rows, besides the root, that an answer about a version names.
CARRIED_RELATIONS = ("namespace", "thread", "session", "promoted_to_source")


def _carry_related(read: Artifact, row: Artifact) -> None:
    """Give `row` the related rows `read` already holds, where `row` names the same ones."""
    for name in CARRIED_RELATIONS:
        field = Artifact._meta.get_field(name)
        if not field.is_cached(read):  # type: ignore[union-attr]
            continue
        related = field.get_cached_value(read)  # type: ignore[union-attr]
        if getattr(row, field.attname) == (related.pk if related is not None else None):  # type: ignore[union-attr]
            field.set_cached_value(row, related)  # type: ignore[union-attr]


def _quota_check(artifact: Artifact, *, adding: int) -> None:
    """The quota check, with the organization `artifact`'s read brought when it did."""
    namespace = artifact.namespace if Artifact.namespace.is_cached(artifact) else None  # type: ignore[attr-defined]
    workspace = (
        namespace.workspace
        if namespace is not None and Namespace.workspace.is_cached(namespace)  # type: ignore[attr-defined]
        else None
    )
    if workspace is not None and Workspace.organization.is_cached(workspace):  # type: ignore[attr-defined]
        organization = workspace.organization
        quota_check(organization_id=organization.pk, adding=adding, organization=organization)
        return
    if workspace is not None:
        quota_check(organization_id=workspace.organization_id, adding=adding)
        return
    quota_check(
        organization_id=Namespace.objects.values_list("workspace__organization_id", flat=True)
        .filter(pk=artifact.namespace_id)
        .get(),
        adding=adding,
    )


def _update_in_place(latest: Artifact, fields: dict[str, Any]) -> Artifact:
    changed = [name for name, value in fields.items() if getattr(latest, name) != value]
    if not changed:
        return latest
    for name in changed:
        setattr(latest, name, fields[name])
    latest.save(update_fields=[*changed, "updated_at"])
    if set(changed) & INDEXED_FIELDS:
        index_artifact_task.enqueue(latest.pk)
    _record(latest, EventKind.ARTIFACT_UPDATED)
    return latest


@transaction.atomic
def artifact_update(*, artifact: Artifact, fields: dict[str, Any]) -> Artifact:
    """Change mutable fields of the latest version in place (no new version)."""
    fields = dict(fields)
    _expiry(fields)
    artifact_root_for_update(artifact.root_pk)
    return _update_in_place(artifact_latest_for_update(artifact.root_pk), fields)


def artifact_put(
    *,
    artifact: Artifact,
    data: dict[str, Any],
    upload: tuple[storage.StagedBlob, str] | None = None,
    created_by: str = "",
) -> Artifact:
    """Seed 002's PUT: new content (inline `content`, or an uploaded file) makes a new version
    (none when it equals the latest: the other fields then change in place); the other fields
    alone change the latest version in place; `content_type` without content, or content and
    a file together, is a 422.

    `data` is the validated body. Inline content without a `content_type` keeps the latest
    version's type, or text/markdown when the latest is a file."""
    fields = dict(data)
    content_type = fields.pop("content_type", None)
    if upload is None and "content" not in fields:
        if content_type is not None:
            raise InvalidInput.single(
                ["body", "content_type"], "content_type needs content.", "value_error"
            )
        return artifact_update(artifact=artifact, fields=fields)
    if upload is not None:
        if "content" in fields:
            # Two new contents: which one would win is nobody's guess (it was a 500).
            raise InvalidInput.single(
                ["body", "content"], "Send content or a file, not both.", "value_error"
            )
        staged, file_name = upload
        content = NewContent(staged=staged, file_name=file_name)
    else:
        latest_type = artifact.content_type if artifact.blob_id is None else "text/markdown"
        content = NewContent(text=fields.pop("content"), content_type=content_type or latest_type)
    version, _ = artifact_version_create(
        artifact=artifact, content=content, fields=fields, created_by=created_by
    )
    return version


@transaction.atomic
def artifact_delete(*, artifact: Artifact, actor: Actor = None) -> None:
    """Delete the artifact with all its versions; their bytes go once nothing uses them."""
    root = artifact_root_for_update(artifact.root_pk)
    versions = Artifact.objects.filter(root=root)
    latest = versions.get(is_latest=True)
    blob_ids = set(versions.exclude(blob=None).values_list("blob_id", flat=True))
    # Versions point at the root, so delete them before the root itself. The cascade (every
    # version's chunks and lineage) may take seconds: it runs before the event append, so the
    # namespace row is not held meanwhile and the namespace's other writers go on.
    versions.exclude(pk=root.pk).delete()
    root.delete()
    for blob_id in blob_ids:
        blob_release(blob_id=blob_id)
    audit_record(
        action=AuditAction.ARTIFACT_DELETED,
        actor=actor,
        organization_id=Namespace.objects.values_list("workspace__organization_id", flat=True)
        .filter(pk=root.namespace_id)
        .first(),
        target=root.artifact_id,
        detail={"name": latest.name, "versions": latest.version},
    )
    _record(latest, EventKind.ARTIFACT_DELETED)
    _artifacts_counted(root.namespace_id, -1)


@transaction.atomic
def artifact_promote(*, artifact: Artifact, created_by: str = "") -> tuple[Source, bool]:
    """Make the artifact a knowledge source. Promoting again returns the same source."""
    root = artifact_root_for_update(artifact.root_pk)
    existing = Source.objects.filter(artifact=root).first()
    if existing is not None:
        return existing, False
    latest = Artifact.objects.get(root=root, is_latest=True)
    source = Source.objects.create(
        source_id=f"src_{uuid.uuid4().hex}",
        namespace_id=root.namespace_id,
        artifact=root,
        name=latest.name,
        created_by=created_by,
    )
    Artifact.objects.filter(root=root).update(promoted_to_source=source)
    return source, True


def artifacts_purge_expired(*, namespace: Namespace | None = None) -> int:
    """Delete every expired, unpinned artifact (judged by its latest version). Safe to run
    again: each artifact is deleted in its own transaction and a vanished one is skipped."""
    expired = Artifact.objects.latest_versions().expired()
    if namespace is not None:
        expired = expired.filter(namespace=namespace)
    purged = 0
    for root_id in list(expired.values_list("root_id", flat=True)):
        with transaction.atomic():
            try:
                artifact_root_for_update(root_id)
            except Artifact.DoesNotExist:
                continue  # deleted meanwhile
            latest = Artifact.objects.filter(root_id=root_id, is_latest=True).first()
            if latest is None or not latest.is_expired:
                continue
            artifact_delete(artifact=latest, actor="command:purge_expired")
            purged += 1
    return purged
