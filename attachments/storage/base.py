"""What both storage backends share: staged bytes, the writer protocol and its digest, and an
object opened for reading. Nothing here knows local disk from S3."""

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from attachments.file_identity import SNIFF_BYTES

TEMP_PREFIX = "tmp/"
BLOB_PREFIX = "blobs/"
READ_CHUNK = 1024 * 1024
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
    # True once nothing is left under `temp_key` (moved to the content key, or deleted), so
    # whoever staged it has nothing to clean up (the upload middleware skips its delete).
    gone: bool = False


Chunk = bytes | bytearray | memoryview


class BlobWriter(Protocol):
    temp_key: str

    def write(self, chunk: Chunk) -> None: ...
    def write_many(self, chunks: list[memoryview]) -> None: ...
    def finish(self) -> StagedBlob: ...
    def abort(self) -> None: ...


@dataclass
class Digest:
    """What a writer learns from the bytes as they pass: SHA-256, size, and the head that
    content sniffing reads."""

    sha256: Any = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytearray = field(default_factory=bytearray)

    def update(self, chunk: Chunk) -> None:
        self.sha256.update(chunk)
        self.size += len(chunk)
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]

    def staged(self, temp_key: str) -> StagedBlob:
        return StagedBlob(temp_key, self.sha256.hexdigest(), self.size, bytes(self.head))


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
