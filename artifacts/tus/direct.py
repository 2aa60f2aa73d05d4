"""Direct-to-S3 multipart uploads: the client PUTs the parts to S3 itself, with presigned URLs,
and Depot's processes carry none of the bytes; Depot checks them before they become a file.

An upload is a `TusUpload` row with `direct=True` (so the quota counts it while unfinished, and
the tus expiry job aborts it when abandoned), and one S3 multipart upload to `tus/<uid>/data`.
Completion trusts nothing the client says: the parts and their ETags are S3's own listing
(every ETag the client names must be S3's), the size is the completed object's, and the
SHA-256 is computed by Depot reading the object once, before it is moved to its content key
by a server-side copy and handed to the same service as any upload. Any refusal removes the
upload whole: no row, no event, no parts."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from artifacts.tus import store, targets, writing
from artifacts.tus.hashstate import ResumableSha256
from artifacts.tus.lease import Lease
from artifacts.tus.models import TusState, TusUpload
from artifacts.tus.protocol import TusError
from attachments import storage
from attachments.file_identity import SNIFF_BYTES
from attachments.storage import _is_local, _s3_location
from sessions_app.errors import DepotError
from sessions_app.principals import Principal
from sessions_app.quota import quota_check

MIN_PART = 5 * 1024 * 1024  # S3's smallest part but the last
MAX_PARTS = 10_000
URL_SECONDS = 3600


def _presigned_parts(upload: TusUpload, count: int) -> list[dict[str, Any]]:
    client, bucket, name = _s3_location(upload.data_key)
    return [
        {
            "part_number": number,
            "url": client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": bucket,
                    "Key": name,
                    "UploadId": upload.multipart_id,
                    "PartNumber": number,
                },
                ExpiresIn=URL_SECONDS,
            ),
        }
        for number in range(1, count + 1)
    ]


def direct_create(
    principal: Principal, *, size: int, parts: int, metadata: dict[str, str]
) -> dict[str, Any]:
    if _is_local():
        raise TusError(409, "Direct-to-S3 uploads need STORAGE_BACKEND=s3; use tus or a POST.")
    limit = settings.DEPOT_MAX_UPLOAD_BYTES
    if size > limit:
        raise TusError(413, f"size is larger than the limit of {limit} bytes.")
    if not 1 <= parts <= MAX_PARTS or (parts > 1 and size <= (parts - 1) * MIN_PART):
        raise TusError(422, f"Use 1 to {MAX_PARTS} parts of at least 5 MiB (but the last).")
    fields = targets.resolve(principal, metadata, partial=False)
    try:
        quota_check(organization_id=principal.organization_id, adding=size)
    except DepotError as error:
        raise targets.depot_error(error) from error
    upload = TusUpload(
        organization_id=principal.organization_id,
        default_workspace_id=principal.default_workspace_id,
        workspace_limit_id=principal.workspace_limit_id,
        api_key_id=principal.api_key_id,
        created_by=principal.label,
        metadata=metadata,
        length=size,
        direct=True,
        sha256_state=ResumableSha256().state(),
        expires_at=timezone.now() + timedelta(seconds=settings.DEPOT_TUS_EXPIRE_SECONDS),
        **fields,
    )
    upload.multipart_id = store.start(upload.data_key)
    try:
        upload.save()
    except BaseException:
        store.remove_all(upload.prefix, upload.data_key, upload.multipart_id)
        raise
    return {
        "upload_id": upload.uid,
        "size": size,
        "expires_at": upload.expires_at,
        "parts": _presigned_parts(upload, parts),
    }


def direct_get(principal: Principal, upload_id: str) -> TusUpload:
    upload = TusUpload.objects.filter(
        uid=upload_id, organization_id=principal.organization_id, direct=True
    ).first()
    if upload is None or not principal.can_see_workspace(upload.workspace_id):
        raise TusError(404, "Upload not found.")
    return upload


def _s3_parts(upload: TusUpload) -> dict[int, dict[str, Any]]:
    client, bucket, name = _s3_location(upload.data_key)
    found: dict[int, dict[str, Any]] = {}
    paginator = client.get_paginator("list_parts")
    for page in paginator.paginate(Bucket=bucket, Key=name, UploadId=upload.multipart_id):
        for part in page.get("Parts", []):
            found[part["PartNumber"]] = part
    return found


def _refuse(upload: TusUpload, status: int, detail: str) -> TusError:
    writing.remove(upload)
    return TusError(status, detail)


def direct_complete(
    principal: Principal, upload_id: str, claimed: list[dict[str, Any]]
) -> dict[str, Any]:
    upload = direct_get(principal, upload_id)
    if upload.state != TusState.OPEN:
        raise TusError(409, "This upload is already completed.")
    token = writing.claim(upload)  # one completion at a time
    held = Lease(upload, token)  # renewed while it runs (hashing a large object takes long)
    try:
        actual = _s3_parts(upload)
        numbers = [part["part_number"] for part in claimed]
        if numbers != list(range(1, len(numbers) + 1)) or set(numbers) != set(actual):
            raise _refuse(upload, 422, "The parts named are not the parts S3 holds.")
        for part in claimed:
            if part["etag"].strip('"') != actual[part["part_number"]]["ETag"].strip('"'):
                raise _refuse(upload, 422, f"Part {part['part_number']}'s ETag is not S3's.")
        if any(actual[n]["Size"] < MIN_PART for n in sorted(actual)[:-1]):
            raise _refuse(upload, 422, "Every part but the last must hold at least 5 MiB.")
        stored = sum(part["Size"] for part in actual.values())
        if stored != upload.length:
            raise _refuse(upload, 422, f"S3 holds {stored} bytes; {upload.length} were declared.")
        client, bucket, name = _s3_location(upload.data_key)
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=name,
            UploadId=upload.multipart_id,
            MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": actual[n]["ETag"]} for n in sorted(actual)]
            },
        )
        staged = _hash_object(upload)
        if staged.size != upload.length:
            raise _refuse(upload, 422, "The completed object is not the declared size.")
        result = writing.deliver(upload, staged, token=token)
    finally:
        held.close()
        writing.release(upload, token)
    return {
        "upload_id": upload.uid,
        "result_id": result,
        "size": staged.size,
        "sha256": staged.sha256,
    }


def _hash_object(upload: TusUpload) -> storage.StagedBlob:
    """Depot's own SHA-256 of what S3 stored (one read, in chunks)."""
    hasher = ResumableSha256()
    head = bytearray()
    size = 0
    for chunk in storage.read_chunks(upload.data_key):
        hasher.update(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        size += len(chunk)
    return storage.StagedBlob(upload.data_key, hasher.hexdigest(), size, bytes(head))


def direct_abort(principal: Principal, upload_id: str) -> None:
    upload = direct_get(principal, upload_id)
    if upload.state != TusState.OPEN:
        raise TusError(409, "This upload is already completed.")
    token = writing.claim(upload)
    try:
        writing.remove(upload)
    finally:
        writing.release(upload, token)
