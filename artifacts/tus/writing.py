"""A PATCH's bytes: written to storage as they arrive, hashed on the way (the SHA-256 state
saved with the offset, so no byte is read twice), recorded at checkpoints, and turned into the
target once the last byte is in.

One PATCH writes an upload at a time, under its lease (artifacts/tus/lease.py; no database
lock is held while bytes move, sessions_app/locks.py). A checkpoint is taken every
DEPOT_TUS_CHECKPOINT_BYTES, where the bytes so far can be made durable cheaply (on S3: at a
part's end, so no tail object is written): the offset, the SHA-256 state and the S3 parts as of
that byte are handed to the lease's helper thread, which makes the bytes durable (fdatasync on
local disk; S3 parts are durable once uploaded) and only then records them in the row, while
the writer goes on receiving. The row never names a byte that is not durable, and its hash
state is always the state at its offset. A server killed mid-PATCH leaves the bytes past the
last record, which the next PATCH cuts off (local disk) or overwrites (S3 parts)."""

import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from artifacts.tus import store, targets
from artifacts.tus.hashstate import ResumableSha256
from artifacts.tus.lease import LOCKED, Lease, claim, release, renew
from artifacts.tus.models import TusState, TusTarget, TusUpload
from artifacts.tus.protocol import CHECKSUMS, TusError
from attachments import storage
from attachments.file_identity import SNIFF_BYTES

logger = logging.getLogger(__name__)

__all__ = ["LOCKED", "Append", "ClientGone", "claim", "deliver", "release", "remove"]


class ClientGone(Exception):
    """The client went away before its body ended."""


def _renew(upload: TusUpload, token: str, **fields: Any) -> None:
    if not renew(upload, token, **fields):
        raise TusError(423, LOCKED)


class Append:
    """One PATCH (or a creation's body) appending to `upload`, which the caller has claimed."""

    def __init__(self, upload: TusUpload, token: str, room: int, checksum: Any) -> None:
        self.upload = upload
        self.token = token
        self.room = room
        self.checksum = checksum  # (algorithm, digest) or None
        self.check = CHECKSUMS[checksum[0]]() if checksum else None
        self.hasher = ResumableSha256(bytes(upload.sha256_state))
        self.head = bytearray(upload.head)
        self.written = 0  # bytes of this PATCH in storage
        self.position = upload.offset  # where the next byte goes
        self.snapshot_at = upload.offset  # the offset of the last checkpoint taken
        self.appender = store.open_appender(
            upload.data_key,
            upload.offset,
            upload.multipart_id,
            store.Progress(upload.parts, upload.tail_key, upload.tail_size),
        )
        self.lease = Lease(upload, token)
        self.lease_lost = False

    def run(self, body: Iterator[bytes]) -> bool:
        """Write the body; True when the upload has all its bytes (then `finish`)."""
        try:
            try:
                for chunk in self._timed(body):
                    self._write(chunk)
            finally:
                self.lease.waiting_since = None
            self.lease.drain()
        except ClientGone:
            self._settle()
            if self.check is None and self.position > self.upload.offset:
                # Keep what came, as tusd does; a checksummed chunk is whole or nothing.
                self._record()
            else:
                self._discard()
            raise
        except BaseException as error:
            self._settle()
            self.lease_lost = self.lease.lost or (
                isinstance(error, TusError) and error.status == 423
            )
            self._discard()
            raise
        if (
            self.checksum is not None
            and self.check is not None
            and (self.check.digest() != self.checksum[1])
        ):
            self._discard()
            raise TusError(460, "Checksum mismatch: the chunk was discarded.")
        if self.upload.length is not None and self.position == self.upload.length:
            return True
        if self.position > self.upload.offset:
            self._record()
        self.appender.close()
        return False

    def close(self) -> None:
        self.lease.close()

    def _timed(self, body: Iterator[bytes]) -> Iterator[bytes]:
        """The body, telling the lease when the writer is waiting for the client."""
        chunks = iter(body)
        while True:
            self.lease.waiting_since = time.monotonic()
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            self.lease.waiting_since = None
            yield chunk

    def _settle(self) -> None:
        """Wait for the checkpoint in flight (its record may land, or fail)."""
        try:
            self.lease.drain()
        except BaseException:
            logger.warning("a tus checkpoint failed", exc_info=True)

    def _write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.written + len(chunk) > self.room:
            raise TusError(413, _too_large(self.upload, self.room))
        self.lease.check()  # before writing: never write without the lease
        while chunk:
            until = self.appender.until_boundary()
            piece = chunk if until is None or until >= len(chunk) else chunk[:until]
            chunk = chunk[len(piece) :]
            self.appender.write(piece)
            self.hasher.update(piece)
            if self.check is not None:
                self.check.update(piece)
            if len(self.head) < SNIFF_BYTES:
                self.head += piece[: SNIFF_BYTES - len(self.head)]
            self.written += len(piece)
            self.position += len(piece)
            if (
                self.check is None
                and self.position - self.snapshot_at >= settings.DEPOT_TUS_CHECKPOINT_BYTES
                and self.appender.at_boundary()
            ):
                self._checkpoint()

    def _checkpoint(self) -> None:
        """Hand the state as of this byte to the helper thread (skipped while one is still
        being recorded: the next boundary takes it)."""
        progress, make_durable = self.appender.snapshot()
        fields = self._fields(progress)

        def record() -> None:
            make_durable()
            self.lease.renew(**fields)
            self._recorded(fields, progress)

        if self.lease.submit(record):
            self.snapshot_at = self.position

    def _fields(self, progress: store.Progress) -> dict[str, Any]:
        """The row's fields that a checkpoint records, as of this byte."""
        return {
            "offset": self.position,
            "sha256_state": self.hasher.state(),
            "head": bytes(self.head),
            "parts": progress.parts,
            "tail_key": progress.tail_key,
            "tail_size": progress.tail_size,
        }

    def _recorded(self, fields: dict[str, Any], progress: store.Progress) -> None:
        for name, value in fields.items():
            setattr(self.upload, name, value)
        self.appender.committed(progress)

    def _record(self) -> None:
        """Make the bytes so far durable, then record offset and hash state with them."""
        progress = self.appender.checkpoint(self.position)
        fields = self._fields(progress)
        self.lease.renew(**fields)
        self._recorded(fields, progress)
        self.snapshot_at = self.position

    def _discard(self) -> None:
        if self.lease_lost:
            self.appender.close()  # another writer owns the bytes now: touch nothing
            return
        try:
            self.appender.discard(self.upload.offset)
        except storage.STORAGE_ERRORS:
            logger.warning("could not discard a refused tus chunk", exc_info=True)

    def finish(self) -> str | None:
        """All bytes are in: hand them to the target. Returns its id (None for a partial)."""
        upload = self.upload
        key = self.appender.finish()
        upload.offset = upload.length or 0
        if upload.target == TusTarget.PARTIAL:
            _renew(upload, self.token, offset=upload.offset, state=TusState.COMPLETE)
            upload.state = TusState.COMPLETE
            return None
        staged = storage.StagedBlob(key, self.hasher.hexdigest(), upload.offset, bytes(self.head))
        return deliver(upload, staged, token=self.token)


def deliver(upload: TusUpload, staged: storage.StagedBlob, *, token: str | None = None) -> str:
    """FINISHING (no longer counted as unfinished by the quota), then the service. A refusal
    removes the upload whole: the client gets the service's answer and nothing is left."""
    if token is not None:
        _renew(upload, token, offset=upload.offset, state=TusState.FINISHING)
    else:
        TusUpload.objects.filter(pk=upload.pk).update(state=TusState.FINISHING)
    try:
        result = targets.deliver(upload, staged)
    except BaseException:
        remove(upload)
        raise
    TusUpload.objects.filter(pk=upload.pk).update(
        state=TusState.FINISHED,
        result_id=result,
        lease_token="",
        lease_holder="",
        lease_until=None,
        parts=[],
        tail_key="",
        tail_size=0,
        multipart_id="",
        head=b"",
    )
    upload.state, upload.result_id = TusState.FINISHED, result
    try:
        store.remove_all(upload.prefix, upload.data_key, "")
    except storage.STORAGE_ERRORS:
        logger.warning("could not tidy the finished tus upload %s", upload.uid, exc_info=True)
    return result


def remove(upload: TusUpload) -> None:
    """Bytes first, then the row (a failure in between leaves a row the expiry job retries)."""
    store.remove_all(upload.prefix, upload.data_key, upload.multipart_id)
    TusUpload.objects.filter(pk=upload.pk).delete()


def _too_large(upload: TusUpload, room: int) -> str:
    if upload.length is not None:
        return f"The body passes the upload's declared length of {upload.length} bytes."
    return f"The upload would pass its limit: {room} more bytes are allowed."
