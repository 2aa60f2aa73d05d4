"""The bytes of a tus upload, appended over many requests; nothing here touches the database.

Local disk: one file, `tus/<uid>/data`, cut back to the recorded offset before a PATCH appends
(a killed request may have written past it) and synced before the offset is recorded. Every
byte is a boundary: a checkpoint anywhere costs one fdatasync, run off the writer's thread.

S3: one multipart upload to `tus/<uid>/data`, made at creation. A PATCH fills 8 MiB parts as
its bytes arrive; the end of a part is a boundary, where a checkpoint writes nothing (the parts
are stored already). What is left over when a PATCH ends (less than a part, which S3 would
refuse unless it is the last) is written to a tail object named after its offset, and is read
back into the next part by the next PATCH, as tusd's S3 store does. Parts a killed PATCH uploaded
but never recorded are overwritten by the next one (same part numbers) or left out of the
completed object (S3 drops parts a completion does not list).
"""

import contextlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from attachments import storage
from attachments.storage import _is_local, _local_path, _s3_location

PART_SIZE = storage.S3_PART_SIZE


@dataclass
class Progress:
    """The storage half of an upload's row, as of a checkpoint."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    tail_key: str = ""
    tail_size: int = 0


def _nothing() -> None:
    return None


class Appender(Protocol):
    def write(self, chunk: bytes) -> None: ...
    def until_boundary(self) -> int | None: ...
    def at_boundary(self) -> bool: ...
    def snapshot(self) -> tuple[Progress, Callable[[], None]]: ...
    def checkpoint(self, offset: int) -> Progress: ...
    def committed(self, progress: Progress) -> None: ...
    def discard(self, offset: int) -> None: ...
    def finish(self) -> str: ...
    def close(self) -> None: ...


class LocalAppender:
    def __init__(self, key: str, offset: int) -> None:
        path = _local_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "r+b" if path.exists() else "w+b")  # noqa: SIM115
        self._file.truncate(offset)
        self._file.seek(offset)
        self._key = key

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def until_boundary(self) -> int | None:
        return None

    def at_boundary(self) -> bool:
        return True

    def snapshot(self) -> tuple[Progress, Callable[[], None]]:
        """The bytes written so far, and how to make them durable from another thread
        (fdatasync covers every byte written before it was called)."""
        self._file.flush()
        descriptor = self._file.fileno()
        return Progress(), lambda: os.fdatasync(descriptor)

    def checkpoint(self, offset: int) -> Progress:
        self._file.flush()
        os.fdatasync(self._file.fileno())
        return Progress()

    def committed(self, progress: Progress) -> None:
        return None

    def discard(self, offset: int) -> None:
        """Back to the last recorded offset (a refused chunk leaves nothing)."""
        self._file.flush()
        self._file.truncate(offset)
        self._file.close()

    def finish(self) -> str:
        self.checkpoint(0)
        self._file.close()
        return self._key

    def close(self) -> None:
        self._file.close()


class S3Appender:
    def __init__(self, key: str, multipart_id: str, progress: Progress) -> None:
        self._client, self._bucket, self._name = _s3_location(key)
        self._key = key
        self._multipart_id = multipart_id
        self._parts = list(progress.parts)
        self._buffer = bytearray()
        self._committed_tail = progress.tail_key
        self._pending_tails: list[str] = []
        if progress.tail_key:
            self._buffer += b"".join(storage.read_chunks(progress.tail_key))

    def write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= PART_SIZE:
            self._upload_part(bytes(self._buffer[:PART_SIZE]))
            del self._buffer[:PART_SIZE]

    def until_boundary(self) -> int | None:
        return PART_SIZE - len(self._buffer)

    def at_boundary(self) -> bool:
        return not self._buffer

    def snapshot(self) -> tuple[Progress, Callable[[], None]]:
        """At a boundary: the parts uploaded so far (already durable), no tail."""
        return Progress(list(self._parts), "", 0), _nothing

    def _upload_part(self, body: bytes) -> None:
        number = len(self._parts) + 1
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._name,
            UploadId=self._multipart_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"n": number, "etag": answer["ETag"], "size": len(body)})

    def checkpoint(self, offset: int) -> Progress:
        tail = ""
        if self._buffer:
            tail = self._key.rsplit("/", 1)[0] + f"/tail-{offset}"
            _, _, name = _s3_location(tail)
            self._client.put_object(Bucket=self._bucket, Key=name, Body=bytes(self._buffer))
            self._pending_tails.append(tail)
        return Progress(list(self._parts), tail, len(self._buffer))

    def committed(self, progress: Progress) -> None:
        """The row now names `progress`: older tails are dead."""
        stale = [self._committed_tail, *self._pending_tails]
        self._committed_tail, self._pending_tails = progress.tail_key, []
        for key in stale:
            if key and key != progress.tail_key:
                storage.delete(key)

    def discard(self, offset: int) -> None:
        self._buffer = bytearray()
        for key in self._pending_tails:
            storage.delete(key)
        self._pending_tails = []

    def finish(self) -> str:
        """Complete the object at `tus/<uid>/data` from the parts and what is buffered."""
        if self._parts:
            if self._buffer:
                self._upload_part(bytes(self._buffer))
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._name,
                UploadId=self._multipart_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p["n"], "ETag": p["etag"]} for p in self._parts]
                },
            )
        else:
            self._client.put_object(Bucket=self._bucket, Key=self._name, Body=bytes(self._buffer))
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._name, UploadId=self._multipart_id
            )
        self._buffer = bytearray()
        self.committed(Progress())
        return self._key

    def close(self) -> None:
        self._buffer = bytearray()


def start(key: str) -> str:
    """Make room for a new upload; returns its S3 multipart upload id ("" on local disk)."""
    if _is_local():
        return ""
    client, bucket, name = _s3_location(key)
    return str(client.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"])


def open_appender(key: str, offset: int, multipart_id: str, progress: Progress) -> Any:
    if _is_local():
        return LocalAppender(key, offset)
    return S3Appender(key, multipart_id, progress)


def remove_all(prefix: str, key: str, multipart_id: str) -> None:
    """Every byte an upload stored: its files or objects and its unfinished parts."""
    if _is_local():
        shutil.rmtree(_local_path(prefix), ignore_errors=True)
        return
    if multipart_id:
        client, bucket, name = _s3_location(key)
        with contextlib.suppress(client.exceptions.NoSuchUpload):  # completed or aborted
            client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=multipart_id)
    for stored, _ in list(storage.iter_keys(prefix)):
        storage.delete(stored)
