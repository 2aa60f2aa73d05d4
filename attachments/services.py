"""Writes for blobs and attachments.

Bytes and rows (engineering.md): bytes are staged under a temporary key while hashed, moved to
their content key, and only then does a short transaction create the rows. A failure after the
bytes land leaves an orphan that `collect_orphans` removes; a failure before the commit leaves
no row. Bytes are deleted only after the transaction that released them commits.

A release and an upload of the same content can race. Both sides settle it under the blob row's
lock: the release deletes the bytes and then the row while holding it; the upload takes the row
(or makes a new one) and, still holding it, checks the bytes are there, moving its own staged
copy in if a release got to them first. The upload keeps its staged copy until it commits.
"""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from attachments import storage
from attachments.content import display_name, sniff_mime
from attachments.models import Attachment, AttachmentSource, Blob, blob_key
from attachments.tasks import extract_attachment_text
from sessions_app import events
from sessions_app.errors import Conflict, InvalidInput, StorageUnavailable
from sessions_app.models import EventKind, Session
from sessions_app.services import session_completed_hooks, session_deleting_hooks

logger = logging.getLogger(__name__)


# --- blobs ---


def blob_acquire(*, staged: storage.StagedBlob) -> Blob:
    """The locked blob row for `staged`, with its bytes in place. Call inside a transaction,
    after `storage.promote(staged)` ran outside it."""
    blob, _ = Blob.objects.select_for_update().get_or_create(
        sha256=staged.sha256, defaults={"size": staged.size}
    )
    # A release may have deleted these bytes between our promote and our lock: use our copy.
    bytes_lost = not storage.exists(blob_key(staged.sha256))
    if bytes_lost and (not storage.exists(staged.temp_key) or not storage.promote(staged)):
        raise StorageUnavailable("The stored bytes changed during the upload; retry.")
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
            blob = Blob.objects.select_for_update().filter(pk=blob_id).first()
            if blob is None or blob_in_use(blob):
                return False
            storage.delete(blob.storage_key)
            blob.delete()
            return True
    except Exception:
        logger.exception("could not collect blob %s", blob_id)
        return False


def staged_discard(staged: storage.StagedBlob) -> None:
    try:
        storage.delete(staged.temp_key)
    except Exception:
        logger.warning("could not delete staged upload %s", staged.temp_key, exc_info=True)


def _drop_unclaimed(sha256: str) -> None:
    """After a failed write: remove bytes we promoted unless a blob row claims them. A
    concurrent upload of the same content re-checks under the row lock (`blob_acquire`)."""
    with transaction.atomic():
        if not Blob.objects.select_for_update().filter(sha256=sha256).exists():
            storage.delete(blob_key(sha256))


def with_promoted_blob(staged: storage.StagedBlob, write: Callable[[], Any]) -> Any:
    """Promote `staged`, run `write` (which calls `blob_acquire` in its transaction), and
    dispose of the staged copy whatever happens. A failed write leaves no new bytes."""
    try:
        moved = storage.promote(staged)
        try:
            return write()
        except BaseException:
            if moved:
                _drop_unclaimed(staged.sha256)
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


def attachment_create(
    *,
    session_lookup: Callable[[], Session],
    staged: storage.StagedBlob,
    original_name: str,
    source: AttachmentSource = AttachmentSource.UPLOAD,
    description: str = "",
    metadata: dict[str, Any] | None = None,
    node_id: str = "",
    path: str = "",
    workspace_path: str = "",
    user_reference: str = "",
) -> Attachment:
    """Turn staged bytes into an attachment of the session `session_lookup` returns (called
    inside the transaction, so a session it creates is rolled back with everything else)."""
    name = display_name(original_name)
    # Kept as metadata, but PostgreSQL text cannot hold NUL: mark where it was.
    original_name = original_name.replace("\x00", "\ufffd")
    mime_type = sniff_mime(staged.head, name)
    try:
        _check_mime_allowed(mime_type)
    except InvalidInput:
        staged_discard(staged)
        raise

    @transaction.atomic
    def write() -> Attachment:
        session = session_lookup()
        locked = Session.objects.select_for_update().get(pk=session.pk)
        limit = settings.DEPOT_MAX_FILES_PER_SESSION
        if limit and Attachment.objects.filter(session=locked).count() >= limit:
            raise Conflict(f"Session '{session.session_id}' already holds {limit} files.")
        blob = blob_acquire(staged=staged)
        attachment = Attachment.objects.create(
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
        )
        events.event_append(
            session=locked,
            kind=EventKind.ATTACHMENT_CREATED,
            attachment_id=attachment.attachment_id,
            node_id=node_id or None,
            path=path or workspace_path or None,
            name=name,
            size=staged.size,
            mime=mime_type,
            hash=f"sha256:{staged.sha256}",
        )
        # Queued in this transaction: the task commits with the attachment, or not at all.
        extract_attachment_text.enqueue(attachment.pk)
        return attachment

    return with_promoted_blob(staged, write)


@transaction.atomic
def attachment_delete(*, attachment: Attachment) -> None:
    session = attachment.session
    blob_id = attachment.blob_id
    events.event_append(
        session=session,
        kind=EventKind.ATTACHMENT_DELETED,
        attachment_id=attachment.attachment_id,
        node_id=attachment.node_id or None,
        path=attachment.path or attachment.workspace_path or None,
        name=attachment.name,
        size=attachment.size,
        mime=attachment.mime_type,
        hash=f"sha256:{attachment.sha256}",
    )
    attachment.delete()
    if blob_id is not None:
        blob_release(blob_id=blob_id)


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


def _on_session_completed(session: Session) -> None:
    if auto_clean_enabled():
        attachments_purge(session=session)


def _on_session_deleting(session: Session) -> None:
    # Rows go with the session (cascade); their blobs are released once it commits.
    blob_ids = set(
        Attachment.objects.filter(session=session, blob__isnull=False).values_list(
            "blob_id", flat=True
        )
    )
    Attachment.objects.filter(session=session).delete()
    for blob_id in blob_ids:
        blob_release(blob_id=blob_id)


def register_session_hooks() -> None:
    if _on_session_completed not in session_completed_hooks:
        session_completed_hooks.append(_on_session_completed)
    if _on_session_deleting not in session_deleting_hooks:
        session_deleting_hooks.append(_on_session_deleting)


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
