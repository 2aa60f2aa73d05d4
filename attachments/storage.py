"""The one storage helper: the only code that knows local disk from S3.

Bytes are written to a temporary key while being hashed, then promoted to the key derived from
their SHA-256 (`blobs/ab/cd/<sha256>`). Nothing here touches the database.
"""

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils.http import content_disposition_header

from attachments.content import SNIFF_BYTES
from attachments.models import blob_key

TEMP_PREFIX = "tmp/"
BLOB_PREFIX = "blobs/"
READ_CHUNK = 1024 * 1024
# S3 parts must be at least 5 MiB (but the last); 8 MiB keeps memory per upload small.
S3_PART_SIZE = 8 * 1024 * 1024
SIGNED_URL_SALT = "depot.signed-download"
# What a storage backend raises when it cannot do its job: a disk error, S3 unreachable or
# refusing. Callers answer 503 (config/exceptions.py, the upload middleware); a missing object
# (FileNotFoundError, BlobMissing) is not among them in meaning, and is caught before.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (OSError, BotoCoreError, ClientError)


@dataclass
class StagedBlob:
    """Bytes written to `temp_key`, with what was learnt while writing them."""

    temp_key: str
    sha256: str
    size: int
    head: bytes


Chunk = bytes | bytearray | memoryview


class BlobWriter(Protocol):
    temp_key: str

    def write(self, chunk: Chunk) -> None: ...
    def write_many(self, chunks: list[memoryview]) -> None: ...
    def finish(self) -> StagedBlob: ...
    def abort(self) -> None: ...


def _is_local() -> bool:
    return isinstance(default_storage, FileSystemStorage)


def _local_path(key: str) -> Path:
    return Path(default_storage.path(key))


@dataclass
class _Digest:
    sha256: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytearray = field(default_factory=bytearray)

    def update(self, chunk: Chunk) -> None:
        self.sha256.update(chunk)
        self.size += len(chunk)
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]


class LocalBlobWriter:
    def __init__(self) -> None:
        self.temp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        self.path = _local_path(self.temp_key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")  # noqa: SIM115  (closed in finish/abort)
        self._digest = _Digest()

    def write(self, chunk: Chunk) -> None:
        self._digest.update(chunk)
        self._file.write(chunk)

    def write_many(self, chunks: list[memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def finish(self) -> StagedBlob:
        self._file.flush()
        # The bytes must be on disk before a row can point at them.
        os.fdatasync(self._file.fileno())
        self._file.close()
        digest = self._digest
        return StagedBlob(self.temp_key, digest.sha256.hexdigest(), digest.size, bytes(digest.head))

    def abort(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class S3BlobWriter:
    """A multipart upload to the temporary key, one part per 8 MiB; small files are one PUT."""

    def __init__(self) -> None:
        self.temp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        self._client, self._bucket, self._key = _s3_location(self.temp_key)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._digest = _Digest()

    def write(self, chunk: Chunk) -> None:
        self._digest.update(chunk)
        self._buffer += chunk
        if len(self._buffer) >= S3_PART_SIZE:
            self._flush_part()

    def write_many(self, chunks: list[memoryview]) -> None:
        for chunk in chunks:
            self.write(chunk)

    def _flush_part(self) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        response = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self._buffer.clear()

    def finish(self) -> StagedBlob:
        if self._upload_id is None:
            self._client.put_object(Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer))
        else:
            if self._buffer:
                self._flush_part()
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer = bytearray()
        digest = self._digest
        return StagedBlob(self.temp_key, digest.sha256.hexdigest(), digest.size, bytes(digest.head))

    def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        delete(self.temp_key)


def _s3_location(key: str) -> tuple[Any, str, str]:
    storage: Any = default_storage
    return storage.connection.meta.client, storage.bucket_name, storage._normalize_name(key)


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
        target = _local_path(final)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(_local_path(staged.temp_key), target)
    else:
        client, bucket, source = _s3_location(staged.temp_key)
        _, _, destination = _s3_location(final)
        client.copy({"Bucket": bucket, "Key": source}, bucket, destination)
        delete(staged.temp_key)
    return True


class BlobMissing(FileNotFoundError):
    """The object is not in storage (never was, or was deleted since its row was read)."""


class OpenedBlob:
    """A stored object already opened for reading: its bytes stay readable until `close()`
    even if the key is deleted meanwhile. On local disk an open file outlives its unlink
    (POSIX); on S3 a started GET's body keeps streaming the object it began with. So a
    response that opens its bytes before sending headers can always send them whole.

    Django streams it through `__aiter__` (each read in a worker thread) and calls `close()`
    when the response ends, also when it was never iterated. There is no `__iter__`, on
    purpose: Django buffers a sync iterator whole under ASGI."""

    def __init__(
        self, read: Callable[[int], bytes], close: Callable[[], None], length: int | None
    ) -> None:
        self._read = read
        self._close = close
        self._remaining = length
        self._closed = False

    def chunks(self) -> Iterator[bytes]:
        """The bytes in chunks of at most READ_CHUNK, closing the object at the end."""
        try:
            while self._remaining is None or self._remaining > 0:
                size = READ_CHUNK if self._remaining is None else min(READ_CHUNK, self._remaining)
                chunk = self._read(size)
                if not chunk:
                    return
                if self._remaining is not None:
                    self._remaining -= len(chunk)
                yield chunk
        finally:
            self.close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return iterate_in_thread(self.chunks())

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()


_S3_MISSING = {"NoSuchKey", "404", "NotFound"}


def open_blob(key: str, start: int = 0, end: int | None = None) -> OpenedBlob:
    """Open bytes `start`..`end` (inclusive; None = to the end) of `key` now, so that a
    delete after this call cannot cut them short. Raises `BlobMissing` when `key` is absent.
    Blocking: call it from sync code (a view) or a worker thread."""
    length = None if end is None else end - start + 1
    if _is_local():
        try:
            file = open(_local_path(key), "rb")  # noqa: SIM115  (closed by OpenedBlob)
        except FileNotFoundError:
            raise BlobMissing(key) from None
        try:
            file.seek(start)
        except BaseException:
            file.close()
            raise
        return OpenedBlob(file.read, file.close, length)
    client, bucket, name = _s3_location(key)
    request: dict[str, Any] = {"Bucket": bucket, "Key": name}
    if start > 0 or end is not None:
        # Only for a real range: S3 refuses even `bytes=0-` on an empty object.
        request["Range"] = f"bytes={start}-{'' if end is None else end}"
    try:
        body = client.get_object(**request)["Body"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _S3_MISSING:
            raise BlobMissing(key) from None
        raise
    # The range already bounds what S3 sends; StreamingBody checks it got all of it.
    return OpenedBlob(body.read, body.close, None)


def read_chunks(key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
    """Bytes `start`..`end` (inclusive; None = to the end) of `key`, in chunks. Opens the
    object on the first `next()`: a caller that must not start what it cannot finish (a
    response whose headers promise a length) uses `open_blob` first instead."""
    yield from open_blob(key, start, end).chunks()


async def iterate_in_thread(iterator: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Drive a blocking iterator from async code: each step runs in a worker thread so the
    event loop never waits on disk or S3, and the next chunk is produced only once the previous
    one was sent (uvicorn's back-pressure keeps memory flat for slow clients)."""
    sentinel = object()
    try:
        while True:
            chunk = await asyncio.to_thread(next, iterator, sentinel)
            if chunk is sentinel:
                return
            yield chunk  # type: ignore[misc]
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await asyncio.to_thread(close)


def iter_keys(prefix: str) -> Iterator[tuple[str, datetime]]:
    """Every stored key under `prefix`, with its last-modified time (UTC)."""
    if _is_local():
        root = Path(cast(FileSystemStorage, default_storage).location)
        base = root / prefix
        if not base.exists():
            return
        for directory, _, files in os.walk(base):
            for file_name in files:
                path = Path(directory) / file_name
                try:
                    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
                except FileNotFoundError:
                    continue  # removed while we walked
                yield path.relative_to(root).as_posix(), modified
        return
    for key, item in _s3_listing(prefix, "list_objects_v2", "Contents"):
        yield key, item["LastModified"]


def _s3_listing(prefix: str, operation: str, items: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key relative to the storage's location, item) of every entry an S3 listing operation
    pages through under `prefix`."""
    storage: Any = default_storage
    client, bucket, name = _s3_location(prefix)
    location = storage.location.strip("/")
    for page in client.get_paginator(operation).paginate(Bucket=bucket, Prefix=name):
        for item in page.get(items, []):
            key = item["Key"]
            if location and key.startswith(location + "/"):
                key = key[len(location) + 1 :]
            yield key, item


def iter_unfinished_uploads(prefix: str) -> Iterator[tuple[str, str, datetime]]:
    """S3 multipart uploads begun under `prefix` and never completed or aborted, as (key,
    upload id, start time). Their parts are stored bytes that no object listing shows: an upload
    whose abort failed (S3 unreachable at that moment) or whose server was killed leaves one.
    Local disk has none (its temporary file is a key like any other)."""
    if _is_local():
        return
    for key, item in _s3_listing(prefix, "list_multipart_uploads", "Uploads"):
        yield key, item["UploadId"], item["Initiated"]


def abort_unfinished_upload(key: str, upload_id: str) -> None:
    """Drop the parts of an unfinished multipart upload (see `iter_unfinished_uploads`)."""
    client, bucket, name = _s3_location(key)
    client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)


def presigned_url(
    key: str, *, expires_in: int, file_name: str, content_type: str, as_attachment: bool
) -> str | None:
    """A direct S3 URL for `key`, or None on local disk (Depot serves those bytes itself)."""
    if _is_local():
        return None
    client, bucket, name = _s3_location(key)
    return client.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": name,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": content_disposition_header(as_attachment, file_name),
        },
        ExpiresIn=expires_in,
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
