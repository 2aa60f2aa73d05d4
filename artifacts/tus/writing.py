"""A PATCH's bytes: written to storage as they arrive, hashed on the way (the SHA-256 state
saved with the offset, so no byte is read twice), recorded at checkpoints, and turned into the
target once the last byte is in.

One PATCH writes an upload at a time, under a lease in its row (no database lock is held while
bytes move, sessions_app/locks.py): the lease is renewed every few seconds while bytes arrive,
and a writer that finds it lost stops before writing again. A server killed mid-PATCH leaves a
lease that runs out by itself, and the bytes past the last checkpoint, which the next PATCH
cuts off (local disk) or overwrites (S3 parts)."""

import logging
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from artifacts.tus import store, targets
from artifacts.tus.hashstate import ResumableSha256
from artifacts.tus.models import TusState, TusTarget, TusUpload
from artifacts.tus.protocol import CHECKSUMS, TusError
from attachments import storage
from attachments.file_identity import SNIFF_BYTES

logger = logging.getLogger(__name__)

LEASE_SECONDS = 30
RENEW_SECONDS = 5
LOCKED = "Another request is writing this upload; retry shortly."


class ClientGone(Exception):
    """The client went away before its body ended."""


def claim(upload: TusUpload) -> str:
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        TusUpload.objects.filter(pk=upload.pk, state=TusState.OPEN)
        .filter(Q(lease_token="") | Q(lease_until__lt=now))
        .update(lease_token=token, lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    if not taken:
        raise TusError(423, LOCKED)
    return token


def release(upload: TusUpload, token: str) -> None:
    TusUpload.objects.filter(pk=upload.pk, lease_token=token).update(
        lease_token="", lease_until=None
    )


def _renew(upload: TusUpload, token: str, **fields: Any) -> None:
    until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
    if not TusUpload.objects.filter(pk=upload.pk, lease_token=token).update(
        lease_until=until, **fields
    ):
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
        self.written = 0
        self.unrecorded = 0
        self.renewed = time.monotonic()
        self.appender = store.open_appender(
            upload.data_key,
            upload.offset,
            upload.multipart_id,
            store.Progress(upload.parts, upload.tail_key, upload.tail_size),
        )
        self.lease_lost = False

    def run(self, body: Iterator[bytes]) -> bool:
        """Write the body; True when the upload has all its bytes (then `finish`)."""
        try:
            for chunk in body:
                self._write(chunk)
        except ClientGone:
            if self.check is None and self.unrecorded:
                # Keep what came, as tusd does; a checksummed chunk is whole or nothing.
                self._record()
            else:
                self._discard()
            raise
        except BaseException as error:
            self.lease_lost = isinstance(error, TusError) and error.status == 423
            self._discard()
            raise
        if (
            self.checksum is not None
            and self.check is not None
            and (self.check.digest() != self.checksum[1])
        ):
            self._discard()
            raise TusError(460, "Checksum mismatch: the chunk was discarded.")
        offset = self.upload.offset + self.written
        if self.upload.length is not None and offset == self.upload.length:
            return True
        self._record()
        self.appender.close()
        return False

    def _write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.written + len(chunk) > self.room:
            raise TusError(413, _too_large(self.upload, self.room))
        if time.monotonic() - self.renewed > RENEW_SECONDS:
            _renew(self.upload, self.token)  # before writing: never write without the lease
            self.renewed = time.monotonic()
        self.appender.write(chunk)
        self.hasher.update(chunk)
        if self.check is not None:
            self.check.update(chunk)
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self.written += len(chunk)
        self.unrecorded += len(chunk)
        if self.check is None and self.unrecorded >= settings.DEPOT_TUS_CHECKPOINT_BYTES:
            self._record()

    def _record(self) -> None:
        """Make the bytes so far durable, then record offset and hash state with them."""
        offset = self.upload.offset + self.written
        progress = self.appender.checkpoint(offset)
        fields = {
            "offset": offset,
            "sha256_state": self.hasher.state(),
            "head": bytes(self.head),
            "parts": progress.parts,
            "tail_key": progress.tail_key,
            "tail_size": progress.tail_size,
        }
        _renew(self.upload, self.token, **fields)
        self.renewed = time.monotonic()
        for name, value in fields.items():
            setattr(self.upload, name, value)
        self.upload.offset, self.written = offset, 0
        self.unrecorded = 0
        self.appender.committed(progress)

    def _discard(self) -> None:
        if self.lease_lost:
            self.appender.close()  # another writer owns the bytes now: touch nothing
            return
        try:
            self.appender.discard()
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
