"""The tus requests, as blocking functions of (caller, headers, body) → Answer. The ASGI app
runs each in a worker thread, feeding the body as it arrives; the Django view calls them too.

Tenancy: an upload belongs to the organization (and workspace) of the key that made it. Any
other caller gets the 404 an unknown upload gets; a read-only key gets 403 for every write."""

import base64
import contextlib
from collections.abc import Iterator, Mapping
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.http import http_date

from artifacts.tus import protocol, store, targets, writing
from artifacts.tus.concat import create_final
from artifacts.tus.hashstate import ResumableSha256
from artifacts.tus.models import TusState, TusTarget, TusUpload
from artifacts.tus.protocol import Answer, TusError
from attachments import storage
from sessions_app.errors import DepotError
from sessions_app.models import Organization
from sessions_app.principals import Principal
from sessions_app.quota import organization_quota, organization_usage, quota_check

Body = Iterator[bytes]
READ_ONLY = "This API key is read-only."


def options() -> Answer:
    return Answer(
        204,
        {
            "Tus-Version": protocol.VERSION,
            "Tus-Extension": protocol.EXTENSIONS,
            "Tus-Max-Size": str(settings.DEPOT_MAX_UPLOAD_BYTES),
            "Tus-Checksum-Algorithm": ",".join(protocol.CHECKSUMS),
            "Access-Control-Allow-Methods": "POST, HEAD, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": protocol.EXPOSED
            + ", Content-Type, X-API-Key, Authorization",
        },
    ).with_common()


def get_upload(principal: Principal, upload_id: str) -> TusUpload:
    if protocol.is_upload_id(upload_id):
        upload = TusUpload.objects.filter(
            uid=upload_id, organization_id=principal.organization_id, direct=False
        ).first()
        if upload is not None and principal.can_see_workspace(upload.workspace_id):
            return upload
    raise TusError(404, "Upload not found.")


def _upload_headers(upload: TusUpload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset)}
    if upload.length is None:
        headers["Upload-Defer-Length"] = "1"
    else:
        headers["Upload-Length"] = str(upload.length)
    if upload.unfinished:
        headers["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    if upload.target == TusTarget.PARTIAL:
        headers["Upload-Concat"] = "partial"
    elif upload.concat:  # a final upload names what it joined (tus: MUST on HEAD)
        headers["Upload-Concat"] = "final;" + " ".join(
            f"{protocol.PREFIX}{uid}" for uid in upload.concat
        )
    if upload.result_id:
        headers["Depot-Result-Id"] = upload.result_id
    return headers


def _encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in metadata.items()
    )


def head(principal: Principal, upload_id: str, headers: Mapping[str, str]) -> Answer:
    protocol.require_version(headers)
    upload = get_upload(principal, upload_id)
    _not_expired(upload)
    answer = _upload_headers(upload)
    if upload.metadata:
        answer["Upload-Metadata"] = _encode_metadata(upload.metadata)
    return Answer(200, answer).with_common()


def _not_expired(upload: TusUpload) -> None:
    if upload.unfinished and upload.expires_at <= timezone.now():
        raise TusError(410, "This upload expired; its bytes are being removed.")


@contextlib.contextmanager
def _quota_lock(organization_id: int, quota: int | None) -> Iterator[None]:
    """One quota decision of an organization at a time (when it has a quota): its row is
    written (a no-op UPDATE), which takes PostgreSQL's row lock and SQLite's write lock until
    the decision and what it allows (the new row, the reservation) are committed together.
    No storage I/O inside."""
    if quota is None:
        yield
        return
    with transaction.atomic():
        Organization.objects.filter(pk=organization_id).update(
            storage_quota_bytes=F("storage_quota_bytes")
        )
        yield


def _used(organization_id: int) -> int:
    return int(organization_usage(organization_id=organization_id)["bytes"])


QUOTA = "This organization's storage quota would be exceeded."


def create(
    principal: Principal, headers: Mapping[str, str], body: Body | None, base_url: str
) -> Answer:
    if principal.read_only:
        raise TusError(403, READ_ONLY)
    metadata = protocol.parse_metadata(headers.get("upload-metadata"))
    concat = protocol.parse_concat(headers.get("upload-concat"))
    if concat is not None and concat[0] == "final":
        protocol.require_version(headers)
        upload = create_final(principal, concat[1], metadata)
        return _created(upload, base_url)
    length = protocol.non_negative(headers, "upload-length")
    deferred = headers.get("upload-defer-length")
    if (length is None) == (deferred is None) or deferred not in (None, "1"):
        raise TusError(400, "Send either Upload-Length or Upload-Defer-Length: 1.")
    protocol.require_version(headers)
    limit = settings.DEPOT_MAX_UPLOAD_BYTES
    if length is not None and length > limit:
        raise TusError(413, f"Upload-Length is larger than the limit of {limit} bytes.")
    if body is not None and _content_type(headers) != protocol.OFFSET_TYPE:
        raise TusError(415, f"A creation's body must be {protocol.OFFSET_TYPE}.")
    fields = targets.resolve(principal, metadata, partial=concat is not None)
    quota = organization_quota(organization_id=principal.organization_id)
    if quota is not None and length and _used(principal.organization_id) + length > quota:
        raise TusError(413, QUOTA)  # early, before storage is touched (checked again below)
    upload = TusUpload(
        organization_id=principal.organization_id,
        default_workspace_id=principal.default_workspace_id,
        workspace_limit_id=principal.workspace_limit_id,
        api_key_id=principal.api_key_id,
        created_by=principal.label,
        metadata=metadata,
        length=length,
        sha256_state=ResumableSha256().state(),
        expires_at=timezone.now() + timedelta(seconds=settings.DEPOT_TUS_EXPIRE_SECONDS),
        **fields,
    )
    try:
        upload.multipart_id = store.start(upload.data_key)
    except storage.STORAGE_ERRORS as error:
        raise TusError(503, "Storage is unavailable; nothing was stored. Retry later.") from error
    try:
        # The declared length is reserved at once: unfinished uploads count at it, so the
        # check and the row are one decision (parallel creations cannot each take the room).
        with _quota_lock(principal.organization_id, quota):
            if quota is not None:
                try:
                    quota_check(organization_id=principal.organization_id, adding=length or 0)
                except DepotError as error:
                    raise targets.depot_error(error) from error
            upload.save()
    except BaseException:
        store.remove_all(upload.prefix, upload.data_key, upload.multipart_id)
        raise
    if body is not None or length == 0:
        # creation-with-upload: the first chunk rides on the POST; a refusal of the chunk
        # refuses the creation (no upload is left that the client has no URL for).
        try:
            _append(principal, upload, headers, body or iter(()), creating=True)
        except TusError:
            writing.remove(upload)
            raise
    return _created(upload, base_url)


def _content_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _created(upload: TusUpload, base_url: str) -> Answer:
    headers = {"Location": f"{base_url}{protocol.PREFIX}{upload.uid}", **_upload_headers(upload)}
    return Answer(201, headers).with_common()


def patch(principal: Principal, upload_id: str, headers: Mapping[str, str], body: Body) -> Answer:
    # Malformed requests are 400/415 first; 412 is for a well-formed one of another version.
    if _content_type(headers) != protocol.OFFSET_TYPE:
        raise TusError(415, f"A PATCH body must be {protocol.OFFSET_TYPE}.")
    offset = protocol.non_negative(headers, "upload-offset")
    if offset is None:
        raise TusError(400, "Upload-Offset is required.")
    protocol.require_version(headers)
    upload = get_upload(principal, upload_id)
    if principal.read_only:
        raise TusError(403, READ_ONLY)
    if upload.state != TusState.OPEN:
        if upload.state == TusState.FINISHED and offset == upload.offset:
            return Answer(204, _upload_headers(upload)).with_common()
        raise TusError(403, "This upload is complete and takes no more bytes.")
    _not_expired(upload)
    if offset != upload.offset:
        raise TusError(
            409,
            f"Upload-Offset {offset} is not the upload's offset {upload.offset}.",
            {"Upload-Offset": str(upload.offset)},
        )
    _append(principal, upload, headers, body, creating=False)
    return Answer(204, _upload_headers(upload)).with_common()


def _declared_length(upload: TusUpload, headers: Mapping[str, str]) -> int | None:
    """A deferred upload's Upload-Length sent with this PATCH, checked (not yet stored: a
    PATCH refused before its body changes nothing)."""
    length = protocol.non_negative(headers, "upload-length")
    if length is None:
        return None
    if upload.length is not None:
        if length != upload.length:
            raise TusError(400, "Upload-Length cannot change once declared.")
        return None
    limit = settings.DEPOT_MAX_UPLOAD_BYTES
    if length > limit:
        raise TusError(413, f"Upload-Length is larger than the limit of {limit} bytes.")
    if length < upload.offset:
        raise TusError(400, "Upload-Length is below the bytes already received.")
    return length


def _reserve(
    upload: TusUpload, token: str, length: int | None, declared: int | None, *, creating: bool
) -> int:
    """How many more bytes this PATCH may take, decided against the quota (the caller holds
    the lease). The quota counts every unfinished upload of the organization:

    - a known length was reserved whole at creation; a later PATCH re-checks that the
      organization is still within its quota with it (another upload, or a lowered quota, may
      have taken the room since) and is refused with 413 otherwise;
    - a deferred length's PATCH may take what the quota and the size limit leave, and reserves
      it (its Content-Length, or all of it) on the row while its lease lives, so that parallel
      PATCHes of other deferred uploads see the room taken;
    - a length declared by this PATCH is reserved whole, as at creation.

    The Upload-Length or reservation is stored only once every check passed."""
    organization_id = upload.organization_id
    quota = organization_quota(organization_id=organization_id)
    if upload.length is not None:
        room = upload.length - upload.offset
        if quota is not None and not creating and _used(organization_id) > quota:
            raise TusError(413, QUOTA)
        if declared is not None and declared > room:
            raise TusError(413, writing._too_large(upload, room))
        return room
    with _quota_lock(organization_id, quota):
        room = settings.DEPOT_MAX_UPLOAD_BYTES - upload.offset
        if quota is not None:
            # This upload counts at what it holds (its claim dropped any old reservation).
            quota_room = max(0, quota - _used(organization_id))
            if length is not None and length - upload.offset > quota_room:
                raise TusError(413, QUOTA)
            room = min(room, quota_room)
        if length is not None:
            room = length - upload.offset
        if declared is not None and declared > room:
            raise TusError(413, writing._too_large(upload, room))
        if length is not None:  # every check passed: the length is declared for good
            TusUpload.objects.filter(pk=upload.pk).update(length=length)
            upload.length = length
        elif quota is not None:
            reserved = room if declared is None else declared
            TusUpload.objects.filter(pk=upload.pk, lease_token=token).update(reserved=reserved)
    return room


def _append(
    principal: Principal,
    upload: TusUpload,
    headers: Mapping[str, str],
    body: Body,
    *,
    creating: bool,
) -> None:
    checksum = protocol.parse_checksum(headers.get("upload-checksum"))
    length = _declared_length(upload, headers)
    declared = protocol.non_negative(headers, "content-length")
    if length is None and upload.length is not None:
        room = upload.length - upload.offset
        if declared is not None and declared > room:  # before the lease: nothing to undo
            raise TusError(413, writing._too_large(upload, room))
    token = writing.claim(upload)
    try:
        room = _reserve(upload, token, length, declared, creating=creating)
        append = writing.Append(upload, token, room, checksum)
        try:
            if append.run(body):
                append.finish()
        finally:
            append.close()
    finally:
        writing.release(upload, token, reserved=0)


def terminate(principal: Principal, upload_id: str, headers: Mapping[str, str]) -> Answer:
    protocol.require_version(headers)
    upload = get_upload(principal, upload_id)
    if principal.read_only:
        raise TusError(403, READ_ONLY)
    if upload.state == TusState.FINISHING:
        raise TusError(423, writing.LOCKED)
    token = None
    if upload.state == TusState.OPEN:
        token = writing.claim(upload)  # not while a PATCH writes (it would write again after us)
    try:
        writing.remove(upload)
    except storage.STORAGE_ERRORS as error:
        raise TusError(503, "Storage is unavailable; retry the termination.") from error
    finally:
        if token is not None:
            writing.release(upload, token)
    return Answer(204).with_common()
