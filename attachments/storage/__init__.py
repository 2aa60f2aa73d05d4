"""The one storage helper: the only code that knows local disk from S3.

Bytes are written to a temporary key while being hashed, then promoted to the key derived from
their SHA-256 (`blobs/ab/cd/<sha256>`). Nothing here touches the database.

Callers use the functions below; each picks the backend (`local.py`, `s3.py`) by the storage
Django is configured with. What both share (staged bytes, the writer protocol, an opened
object) is in `base.py`.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, default_storage

from attachments.models import blob_key
from attachments.storage.base import (
    BLOB_PREFIX,
    READ_CHUNK,
    STORAGE_ERRORS,
    TEMP_PREFIX,
    BlobMissing,
    BlobWriter,
    Chunk,
    OpenedBlob,
    StagedBlob,
    iterate_in_thread,
)
from attachments.storage.local import LocalBlobWriter, local_keys, local_move, local_open
from attachments.storage.local import local_path as _local_path
from attachments.storage.s3 import (
    S3_PART_SIZE,
    S3BlobWriter,
    s3_abort_upload,
    s3_copy,
    s3_listing,
    s3_open,
    s3_presigned_url,
)
from attachments.storage.s3 import s3_location as _s3_location

__all__ = [
    "BLOB_PREFIX",
    "READ_CHUNK",
    "S3_PART_SIZE",
    "SIGNED_URL_SALT",
    "STORAGE_ERRORS",
    "TEMP_PREFIX",
    "BlobMissing",
    "BlobWriter",
    "Chunk",
    "LocalBlobWriter",
    "OpenedBlob",
    "S3BlobWriter",
    "StagedBlob",
    "_is_local",
    "_local_path",
    "_s3_location",
    "abort_unfinished_upload",
    "delete",
    "exists",
    "iter_keys",
    "iter_unfinished_uploads",
    "iterate_in_thread",
    "open_blob",
    "open_writer",
    "presigned_url",
    "promote",
    "read_chunks",
    "s3_download_mode",
    "sign_download",
    "unsign_download",
    "write_stream",
]

SIGNED_URL_SALT = "depot.signed-download"


def _is_local() -> bool:
    return isinstance(default_storage, FileSystemStorage)


def open_writer() -> BlobWriter:
    return LocalBlobWriter() if _is_local() else S3BlobWriter()


def write_stream(chunks: Iterator[bytes]) -> StagedBlob:
    """Stage an iterator of byte chunks (used by register_file and non-streamed uploads)."""
    writer = open_writer()
    try:
        for chunk in chunks:
            writer.write(chunk)
        return writer.finish()
    except BaseException:
        writer.abort()
        raise


def exists(key: str) -> bool:
    return default_storage.exists(key)


def delete(key: str) -> None:
    default_storage.delete(key)


def promote(staged: StagedBlob) -> bool:
    """Move the staged bytes to their content key unless they are already there.

    Returns True when the temporary key was consumed; otherwise the caller deletes it.
    """
    final = blob_key(staged.sha256)
    if exists(final):
        return False
    if _is_local():
        local_move(staged.temp_key, final)
    else:
        s3_copy(staged.temp_key, final)
        delete(staged.temp_key)
    return True


def open_blob(key: str, start: int = 0, end: int | None = None) -> OpenedBlob:
    """Open bytes `start`..`end` (inclusive; None = to the end) of `key` now, so that a
    delete after this call cannot cut them short. Raises `BlobMissing` when `key` is absent.
    Blocking: call it from sync code (a view) or a worker thread."""
    if _is_local():
        return local_open(key, start, None if end is None else end - start + 1)
    return s3_open(key, start, end)


def read_chunks(key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes `start`..`end` (inclusive; None = to the end) of `key`, in chunks. Opens the
    object on the first `next()`: a caller that must not start what it cannot finish (a
    response whose headers promise a length) uses `open_blob` first instead."""
    yield from open_blob(key, start, end).chunks()


def iter_keys(prefix: str) -> Iterator[tuple[str, datetime]]:
    """Every stored key under `prefix`, with its last-modified time (UTC)."""
    if _is_local():
        yield from local_keys(prefix)
        return
    for key, item in s3_listing(prefix, "list_objects_v2", "Contents"):
        yield key, item["LastModified"]


def iter_unfinished_uploads(prefix: str) -> Iterator[tuple[str, str, datetime]]:
    """S3 multipart uploads begun under `prefix` and never completed or aborted, as (key,
    upload id, start time). Their parts are stored bytes that no object listing shows: an upload
    whose abort failed (S3 unreachable at that moment) or whose server was killed leaves one.
    Local disk has none (its temporary file is a key like any other)."""
    if _is_local():
        return
    for key, item in s3_listing(prefix, "list_multipart_uploads", "Uploads"):
        yield key, item["UploadId"], item["Initiated"]


def abort_unfinished_upload(key: str, upload_id: str) -> None:
    """Drop the parts of an unfinished multipart upload (see `iter_unfinished_uploads`)."""
    s3_abort_upload(key, upload_id)


def presigned_url(
    key: str, *, expires_in: int, file_name: str, content_type: str, as_attachment: bool
) -> str | None:
    """A direct S3 URL for `key`, or None on local disk (Depot serves those bytes itself)."""
    if _is_local():
        return None
    return s3_presigned_url(
        key,
        expires_in=expires_in,
        file_name=file_name,
        content_type=content_type,
        as_attachment=as_attachment,
    )


def sign_download(payload: dict[str, Any]) -> str:
    """A tamper-proof token for a Depot-served download (local disk's presigned URL)."""
    return signing.dumps(payload, salt=SIGNED_URL_SALT, compress=True)


def unsign_download(token: str) -> dict[str, Any]:
    """The payload of an untampered token, else `signing.BadSignature`. The payload carries
    its own expiry, which the caller checks."""
    return signing.loads(token, salt=SIGNED_URL_SALT)


def s3_download_mode() -> str:
    """`redirect` sends S3 downloads to a presigned URL; `proxy` streams them through Depot."""
    return "proxy" if _is_local() else settings.DEPOT_S3_DOWNLOAD
