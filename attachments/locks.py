"""Blob row locks. The order every writer follows is in sessions_app/locks.py: artifact root →
latest version → **blob** → session → namespace."""

from attachments.models import Blob
from sessions_app.locks import require_atomic


def blob_for_update(sha256: str, *, size: int) -> tuple[Blob, bool]:
    """The locked row of these bytes, made if missing; returns (blob, created). A row we have
    just made is locked too: another writer inserting the same sha256 waits for our commit."""
    require_atomic("blob_for_update")
    return Blob.objects.select_for_update().get_or_create(sha256=sha256, defaults={"size": size})


def existing_blob_for_update(pk: int) -> Blob | None:
    require_atomic("existing_blob_for_update")
    return Blob.objects.select_for_update().filter(pk=pk).first()
