"""Writes for blobs and attachments.

Bytes and rows (engineering.md): bytes are staged under a temporary key while hashed, moved to
their content key, and only then does a short transaction create the rows. A failure after the
bytes land leaves an orphan that `collect_orphans` removes; a failure before the commit leaves
no row. Bytes are deleted only after the transaction that released them commits.

A release and an upload of the same content can race. Both sides settle it under the blob row's
lock: the release deletes the bytes and then the row while holding it; the upload takes the row
(or makes a new one) and, still holding it, checks the bytes are there, moving its own staged
copy in if a release got to them first. The upload keeps its staged copy until it commits. That
check is the one storage call made under a row lock (sessions_app/locks.py says why).
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from attachments import storage
from attachments.extraction import extractor_for
from attachments.file_identity import display_name, sniff_mime
from attachments.locks import blob_for_update, existing_blob_for_update
from attachments.models import Attachment, AttachmentSource, Blob, IndexStatus, blob_key
from attachments.tasks import extract_attachment_text
from sessions_app import events, raw_writes
from sessions_app import services as session_services
from sessions_app.audit import Actor, audit_record
from sessions_app.errors import InvalidInput, NotFound, StorageUnavailable
from sessions_app.locks import session_for_update
from sessions_app.models import AuditAction, EventKind, Session
from sessions_app.quota import quota_check
from sessions_app.signals import session_completed, session_deleting

logger = logging.getLogger(__name__)


# --- blobs ---


def blob_acquire(*, staged: storage.StagedBlob) -> Blob:
    """The locked blob row for `staged`, with its bytes in place. Call inside a transaction,
    inside `blob_staged(staged)`, before locking any session (sessions_app/locks.py)."""
    blob, _ = blob_for_update(staged.sha256, size=staged.size)
    # A release may have deleted these bytes between our promote and our lock: use our copy.
    # The one storage call under a row lock: only this lock orders us against that release.
    bytes_lost = not storage.exists(blob_key(staged.sha256))
    if bytes_lost and (not storage.exists(staged.temp_key) or not storage.promote(staged)):
        raise StorageUnavailable("The stored bytes changed during the upload; retry.")
    staged.gone = staged.gone or bytes_lost  # our copy was moved in
    return blob


def blob_in_use(blob: Blob) -> bool:
    """Any row in any app that points at `blob` (found through the reverse relations, so this
    app never imports the apps above it)."""
    for relation in Blob._meta.related_objects:
        if relation.related_model._default_manager.filter(**{relation.field.name: blob}).exists():
            return True
    return False


def blob_release(*, blob_id: int) -> None:
    """Schedule `blob_id` for deletion once the current transaction commits, if unused then."""
    transaction.on_commit(lambda: blob_collect(blob_id=blob_id))


def blob_collect(*, blob_id: int) -> bool:
    """Delete an unused blob: bytes first, then the row, under the row's lock. Returns True
    when it deleted. Safe to call again; a failure leaves at worst a row without bytes, which
    the next upload of that content heals and `collect_orphans` reports."""
    try:
        with transaction.atomic():
            blob = existing_blob_for_update(blob_id)
            if blob is None or blob_in_use(blob):
                return False
            storage.delete(blob.storage_key)
            blob.delete()
            return True
    except Exception:
        logger.exception("could not collect blob %s", blob_id)
        return False


def staged_discard(staged: storage.StagedBlob) -> None:
    if staged.gone:
        return
    try:
        storage.delete(staged.temp_key)
    except Exception:
        logger.warning("could not delete staged upload %s", staged.temp_key, exc_info=True)
    else:
        staged.gone = True


def _drop_unclaimed(staged: storage.StagedBlob) -> None:
    """After a failed write: remove bytes we promoted unless a blob row claims them.

    The row is taken with `get_or_create`, not a plain locked read: a concurrent upload of the
    same content that has made the row but not committed yet is invisible to a read, and its
    bytes would go; an insert waits for that upload's commit instead."""
    with transaction.atomic():
        blob, created = blob_for_update(staged.sha256, size=staged.size)
        if created:
            storage.delete(blob_key(staged.sha256))
            blob.delete()


@contextmanager
def blob_staged(staged: storage.StagedBlob) -> Iterator[storage.StagedBlob]:
    """Promote `staged` to its content key for the block, which writes the rows in its own
    transaction (calling `blob_acquire`), and dispose of the staged copy whatever happens.
    A failed block leaves no new bytes. Use as
    `with blob_staged(staged), transaction.atomic(): ...`, so the cleanup runs after the
    rollback."""
    try:
        moved = storage.promote(staged)
        # Moved: the temporary key is gone (a local rename, or S3's copy and delete), and
        # deleting it again would be one more storage call (an S3 DELETE) for nothing.
        staged.gone = staged.gone or moved
        try:
            yield staged
        except BaseException:
            if moved:
                _drop_unclaimed(staged)
            raise
    finally:
        staged_discard(staged)


# --- attachments ---


def _check_mime_allowed(mime_type: str) -> None:
    allowed = settings.DEPOT_ALLOWED_MIME_TYPES
    if allowed and not any(mime_type.startswith(prefix) for prefix in allowed):
        raise InvalidInput.single(
            ["body", "file"],
            f"Files of type '{mime_type}' are not accepted here.",
            "mime_type_not_allowed",
        )


def _index_state(mime_type: str) -> dict[str, str]:
    """A type nothing extracts gets, at once, the state its extraction task would have left
    (failed, saying why) and no task: the embedded worker spent about 2.7 ms of CPU on each
    such upload, 10% of the upload rate (issue 11)."""
    if extractor_for(mime_type) is not None:
        return {}
    return {"index_status": IndexStatus.FAILED, "index_error": f"no text extractor for {mime_type}"}


def attachment_create(
    *,
    session_lookup: Callable[[], Session],
    staged: storage.StagedBlob,
    original_name: str,
    session_pk: int | None = None,
    source: AttachmentSource = AttachmentSource.UPLOAD,
    description: str = "",
    metadata: dict[str, Any] | None = None,
    node_id: str = "",
    path: str = "",
    workspace_path: str = "",
    user_reference: str = "",
) -> Attachment:
    """Turn staged bytes into an attachment of the session `session_lookup` returns (called
    inside the transaction, so a session it creates is rolled back with everything else), or
    of the row `session_pk` the caller read, if still there (`session_file_add`).

    Locks, in the order of sessions_app/locks.py: the blob, the session (before counting its
    files), the namespace (the event, last)."""
    name = display_name(original_name)
    # Kept as metadata, but PostgreSQL text cannot hold NUL: mark where it was.
    original_name = original_name.replace("\x00", "\ufffd")
    mime_type = sniff_mime(staged.head, name)
    try:
        _check_mime_allowed(mime_type)
    except InvalidInput:
        staged_discard(staged)
        raise

    with blob_staged(staged), transaction.atomic():
        # The blob before the session, as artifact writes do: a session lookup may insert (and
        # so lock) a new session row.
        blob = blob_acquire(staged=staged)
        # The session's lock and its file count in one statement.
        locked, added = session_services.session_file_add(
            session_lookup=session_lookup, session_pk=session_pk
        )
        quota_check(
            organization_id=locked.organization_id, adding=staged.size, own_quota=added.own_quota
        )
        attachment = Attachment(
            session=locked,
            blob=blob,
            name=name,
            original_name=original_name,
            mime_type=mime_type,
            size=staged.size,
            sha256=staged.sha256,
            source=source,
            description=description,
            metadata=metadata or {},
            node_id=node_id,
            path=path,
            workspace_path=workspace_path,
            user_reference=user_reference,
            **_index_state(mime_type),
        )
        extract = extractor_for(mime_type) is not None
        if extract:
            # Queued in this transaction (the task commits with the attachment, or not at all)
            # and before the event, so the namespace's lock stays the last statement
            # (sessions_app/locks.py); the task needs the row's id, so the row goes first.
            raw_writes.insert(attachment)
            extract_attachment_text.enqueue(attachment.pk)
        # Otherwise written with its event, by the event's own prepared INSERT on PostgreSQL
        # (one round trip for both rows, sessions_app/raw_writes.insert_numbered), just before
        # it on SQLite.
        events.event_append(
            session=locked,
            numbered=added.numbered,
            along=None if extract else attachment,
            kind=EventKind.ATTACHMENT_CREATED,
            attachment_id=attachment.attachment_id,
            node_id=node_id or None,
            path=path or workspace_path or None,
            name=name,
            size=staged.size,
            mime=mime_type,
            hash=f"sha256:{staged.sha256}",
        )
        return attachment


@transaction.atomic
def attachment_delete(*, attachment: Attachment, actor: Actor = None) -> None:
    # A session's attachment rows are written under the session's lock (uploads count them
    # under it, completion purges them under it), so take it before deleting one.
    session = session_for_update(attachment.session_id)
    blob_id = attachment.blob_id
    # The caller read the row before this lock: a DELETE of it that committed meanwhile left
    # nothing to delete (and nothing to count down, release or announce again).
    if not attachment.delete()[1].get(Attachment._meta.label):
        raise NotFound(f"Attachment '{attachment.attachment_id}' not found.")
    Session.objects.filter(pk=session.pk).update(file_count=F("file_count") - 1)
    if blob_id is not None:
        blob_release(blob_id=blob_id)
    audit_record(
        action=AuditAction.ATTACHMENT_DELETED,
        actor=actor,
        organization_id=session.organization_id,
        target=attachment.attachment_id,
        detail={"session_id": session.session_id, "name": attachment.name},
    )
    events.event_append(
        session=session, kind=EventKind.ATTACHMENT_DELETED, **_event_fields(attachment)
    )


def _event_fields(attachment: Attachment) -> dict[str, Any]:
    """The seed-000 payload of an attachment's event."""
    return {
        "attachment_id": attachment.attachment_id,
        "node_id": attachment.node_id or None,
        "path": attachment.path or attachment.workspace_path or None,
        "name": attachment.name,
        "size": attachment.size,
        "mime": attachment.mime_type,
        "hash": f"sha256:{attachment.sha256}",
    }


@transaction.atomic
def attachments_purge(*, session: Session) -> int:
    """Auto-clean: drop the bytes of a session's attachments, keep their rows (`purged`)."""
    attachments = list(Attachment.objects.select_for_update().filter(session=session, purged=False))
    for attachment in attachments:
        blob_id = attachment.blob_id
        attachment.blob = None
        attachment.purged = True
        attachment.save(update_fields=["blob", "purged"])
        if blob_id is not None:
            blob_release(blob_id=blob_id)
    return len(attachments)


def auto_clean_enabled() -> bool:
    return settings.DEPOT_AUTO_CLEAN_ATTACHMENTS


def _on_session_completed(sender: type[Session], *, session: Session, **kwargs: Any) -> None:
    if auto_clean_enabled():
        attachments_purge(session=session)


def _on_session_deleting(
    sender: type[Session], *, session: Session, **kwargs: Any
) -> list[events.EventDraft]:
    """The session's files go with it, each with an `attachment.deleted` event (the shape a
    single delete has, so a feed reader learns of each one); their blobs are released once it
    commits."""
    # Under the session's lock (session_delete), so the rows read are the rows deleted.
    files = Attachment.objects.filter(session=session)
    doomed = list(
        files.order_by("id").only(
            "uid",
            "blob",
            "node_id",
            "path",
            "workspace_path",
            "name",
            "size",
            "mime_type",
            "sha256",
        )
    )
    files.delete()
    for blob_id in {attachment.blob_id for attachment in doomed if attachment.blob_id is not None}:
        blob_release(blob_id=blob_id)
    return [
        events.EventDraft(kind=EventKind.ATTACHMENT_DELETED, payload=_event_fields(attachment))
        for attachment in doomed
    ]


def connect_session_receivers() -> None:
    """Called from AppConfig.ready(): sessions_app sends, this app (above it) listens."""
    session_completed.connect(_on_session_completed, dispatch_uid="attachments.purge")
    session_deleting.connect(_on_session_deleting, dispatch_uid="attachments.delete")


# --- files from an agent's workspace ---


def _read_file(path: Path) -> Any:
    with open(path, "rb") as file:
        while chunk := file.read(storage.READ_CHUNK):
            yield chunk


def register_file(
    *,
    session: Session,
    path: str | Path,
    workspace_root: str | Path | None = None,
    name: str | None = None,
    description: str = "",
    metadata: dict[str, Any] | None = None,
    node_id: str = "",
) -> Attachment:
    """Turn a file from an agent's workspace into an attachment of `session` and emit its
    event (seed 000's `AttachmentStore.register_file`). `workspace_path` is stored relative to
    `workspace_root`; a path outside the root is refused."""
    file_path = Path(path)
    if workspace_root is not None:
        root = Path(workspace_root).resolve()
        resolved = (
            (root / file_path).resolve() if not file_path.is_absolute() else file_path.resolve()
        )
        if not resolved.is_relative_to(root):
            raise InvalidInput.single(["path"], "The file is outside the workspace root.")
        relative = resolved.relative_to(root).as_posix()
        file_path = resolved
    else:
        relative = file_path.as_posix() if not file_path.is_absolute() else file_path.name
    if not file_path.is_file():
        raise InvalidInput.single(["path"], f"No such file: {relative}")
    staged = storage.write_stream(_read_file(file_path))
    return attachment_create(
        session_lookup=lambda: session,
        staged=staged,
        original_name=name or file_path.name,
        source=AttachmentSource.WORKSPACE,
        description=description,
        metadata=metadata,
        node_id=node_id,
        path=relative,
        workspace_path=relative,
    )
