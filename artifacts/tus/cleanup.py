"""Expiration: an unfinished upload is removed, bytes first, once `expires_at` passes
(DEPOT_TUS_EXPIRE_SECONDS after its creation); a finished upload's row goes then too (its bytes
became a blob long before). Bytes under `tus/` that no row names any more (a server killed
between the two steps) and unfinished S3 multipart uploads there go after the orphan grace."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from artifacts.tus import writing
from artifacts.tus.models import STORAGE_PREFIX, TusUpload
from attachments import storage

logger = logging.getLogger(__name__)


def expire_uploads() -> dict[str, int]:
    now = timezone.now()
    removed = failed = 0
    expired = TusUpload.objects.filter(expires_at__lte=now).exclude(
        # A writer holding a live lease finishes first; its lease runs out if it died.
        Q(lease_until__gt=now) & ~Q(lease_token="")
    )
    for upload in expired.iterator(chunk_size=200):
        try:
            writing.remove(upload)
            removed += 1
        except storage.STORAGE_ERRORS:
            failed += 1
            logger.warning("could not remove expired tus upload %s", upload.uid, exc_info=True)
    cutoff = now - timedelta(seconds=settings.DEPOT_ORPHAN_GRACE_SECONDS)
    known = set(TusUpload.objects.values_list("uid", flat=True))
    orphans = 0
    for key, modified in list(storage.iter_keys(STORAGE_PREFIX)):
        uid = key[len(STORAGE_PREFIX) :].split("/", 1)[0]
        if uid not in known and modified < cutoff:
            storage.delete(key)
            orphans += 1
    for key, upload_id, started in list(storage.iter_unfinished_uploads(STORAGE_PREFIX)):
        uid = key[len(STORAGE_PREFIX) :].split("/", 1)[0]
        if uid not in known and started < cutoff:
            storage.abort_unfinished_upload(key, upload_id)
            orphans += 1
    return {"removed": removed, "failed": failed, "orphans": orphans}
