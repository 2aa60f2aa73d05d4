"""The S3 backend: the bucket behind django-storages' S3Storage (attachments/s3.py), reached
through its boto3 client for what S3Storage does not offer (multipart writes, ranges,
listings, presigned URLs)."""

import threading
import uuid
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.http import content_disposition_header

from attachments.storage.base import TEMP_PREFIX, BlobMissing, Chunk, Digest, OpenedBlob, StagedBlob

# S3 parts must be at least 5 MiB (but the last); 8 MiB keeps memory per upload small.
S3_PART_SIZE = 8 * 1024 * 1024
_S3_MISSING = {"NoSuchKey", "404", "NotFound"}


def s3_location(key: str) -> tuple[Any, str, str]:
    storage: Any = default_storage
    return storage.connection.meta.client, storage.bucket_name, storage._normalize_name(key)


class S3BlobWriter:
    """A multipart upload to the temporary key, one part per 8 MiB; small files are one PUT."""

    def __init__(self) -> None:
        self.temp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        self._client, self._bucket, self._key = s3_location(self.temp_key)
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._digest = Digest()

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
        return self._digest.staged(self.temp_key)

    def abort(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
        default_storage.delete(self.temp_key)


def s3_copy(source_key: str, destination_key: str) -> None:
    client, bucket, source = s3_location(source_key)
    _, _, destination = s3_location(destination_key)
    client.copy({"Bucket": bucket, "Key": source}, bucket, destination)


def s3_open(key: str, start: int, end: int | None) -> OpenedBlob:
    client, bucket, name = s3_location(key)
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


def s3_listing(prefix: str, operation: str, items: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key relative to the storage's location, item) of every entry an S3 listing operation
    pages through under `prefix`."""
    storage: Any = default_storage
    client, bucket, name = s3_location(prefix)
    location = storage.location.strip("/")
    for page in client.get_paginator(operation).paginate(Bucket=bucket, Prefix=name):
        for item in page.get(items, []):
            key = item["Key"]
            if location and key.startswith(location + "/"):
                key = key[len(location) + 1 :]
            yield key, item


def s3_abort_upload(key: str, upload_id: str) -> None:
    client, bucket, name = s3_location(key)
    client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)


_signers: dict[tuple[Any, ...], Any] = {}
_signers_lock = threading.Lock()


def _signing_client(client: Any) -> Any:
    """The client that signs presigned URLs: the storage's own, or one for the public endpoint
    (S3_PUBLIC_ENDPOINT_URL) when clients reach S3 by another name than Depot does (compose's
    `http://minio:9000` is no name a browser can resolve). A signature covers the host, so
    the URL is signed for the public name; signing makes no request."""
    public = getattr(settings, "S3_PUBLIC_ENDPOINT_URL", "")
    if not public:
        return client
    storage: Any = default_storage
    key = (public, storage.region_name, storage.access_key, storage.signature_version)
    with _signers_lock:
        signer = _signers.get(key)
        if signer is None:
            signer = storage._create_session().client(
                "s3",
                endpoint_url=public,
                region_name=storage.region_name,
                config=storage.client_config,
                use_ssl=public.startswith("https:"),
                verify=storage.verify,
            )
            _signers[key] = signer
    return signer


def s3_presigned_url(
    key: str, *, expires_in: int, file_name: str, content_type: str, as_attachment: bool
) -> str:
    client, bucket, name = s3_location(key)
    return _signing_client(client).generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": name,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": content_disposition_header(as_attachment, file_name),
        },
        ExpiresIn=expires_in,
    )
