"""The concatenation extension: a final upload joins complete partial uploads, in the order
its `Upload-Concat: final;<url> <url> …` lists them, into one file for its target.

SHA-256 states cannot be joined, and the partials arrived in parallel: their bytes are read once,
in order, into one staged copy (hashed as it is written), the way any upload is staged. The
partials are then gone, bytes and rows, whether the final succeeds or is refused."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from artifacts.tus import targets, writing
from artifacts.tus.models import TusState, TusTarget, TusUpload
from artifacts.tus.protocol import TusError
from attachments import storage
from sessions_app.principals import Principal


def create_final(principal: Principal, ids: list[str], metadata: dict[str, str]) -> TusUpload:
    if len(set(ids)) != len(ids):
        raise TusError(400, "Upload-Concat names a partial upload twice.")
    found = {
        upload.uid: upload
        for upload in TusUpload.objects.filter(
            uid__in=ids, organization_id=principal.organization_id, target=TusTarget.PARTIAL
        )
        if principal.can_see_workspace(upload.workspace_id)
    }
    missing = [uid for uid in ids if uid not in found]
    if missing:
        raise TusError(404, f"Partial upload {missing[0]} not found.")
    partials = [found[uid] for uid in ids]
    if any(p.state != TusState.COMPLETE for p in partials):
        raise TusError(400, "Every partial upload must be complete before the final one.")
    total = sum(p.length or 0 for p in partials)
    if total > settings.DEPOT_MAX_UPLOAD_BYTES:
        raise TusError(413, "The joined upload is larger than the upload limit.")
    fields = targets.resolve(principal, metadata, partial=False)
    _claim([p.pk for p in partials])
    final = TusUpload.objects.create(
        organization_id=principal.organization_id,
        default_workspace_id=principal.default_workspace_id,
        workspace_limit_id=principal.workspace_limit_id,
        api_key_id=principal.api_key_id,
        created_by=principal.label,
        metadata=metadata,
        length=total,
        offset=total,
        concat=ids,
        state=TusState.FINISHING,
        sha256_state=b"",
        expires_at=timezone.now() + timedelta(seconds=settings.DEPOT_TUS_EXPIRE_SECONDS),
        **fields,
    )
    try:
        writer = storage.open_writer()
        try:
            for partial in partials:
                for chunk in storage.read_chunks(partial.data_key):
                    writer.write(chunk)
            staged = writer.finish()
        except BaseException:
            writer.abort()
            raise
        writing.deliver(final, staged)
    except BaseException:
        TusUpload.objects.filter(pk=final.pk).delete()
        raise
    finally:
        for partial in partials:
            writing.remove(partial)
    return final


def _claim(pks: list[int]) -> None:
    """Claim every partial or none: a second final naming one of them finds it taken (409).

    All or nothing in one transaction, so a refused claim undoes only its own rows, never a
    partial another final claimed and is still joining. The rows are locked in primary-key
    order first (PostgreSQL; two finals naming overlapping partials in any order cannot
    deadlock); on SQLite the UPDATE takes the database's write lock. No storage I/O inside."""
    with transaction.atomic():
        list(TusUpload.objects.select_for_update().filter(pk__in=pks).order_by("pk").values("pk"))
        taken = TusUpload.objects.filter(pk__in=pks, state=TusState.COMPLETE).update(
            state=TusState.CONSUMED
        )
        if taken != len(pks):
            raise TusError(409, "Another final upload is joining these partial uploads.")
