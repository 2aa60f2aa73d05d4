"""tus 1.0.0 on the wire: the headers Depot sends and reads, and its answers.

Everything is plain data, so the ASGI app (the path every real client takes) and the Django view
(the OpenAPI schema, Django's test client) answer alike."""

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sessions_app.errors import error_body

VERSION = "1.0.0"
PREFIX = "/api/tus/"
EXTENSIONS = (
    "creation,creation-with-upload,creation-defer-length,termination,expiration,"
    "checksum,concatenation"
)
CHECKSUMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
OFFSET_TYPE = "application/offset+octet-stream"
MAX_METADATA_BYTES = 16 * 1024
# Headers a browser client (tus-js-client, Uppy) must be allowed to send and to read.
EXPOSED = (
    "Upload-Offset, Upload-Length, Upload-Defer-Length, Upload-Metadata, Upload-Expires, "
    "Upload-Concat, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, "
    "Tus-Checksum-Algorithm, Location"
)


class TusError(Exception):
    """A refusal: `status` with a JSON `detail` (and tus's headers)."""

    def __init__(
        self,
        status: int,
        detail: str,
        headers: Mapping[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.body = body or error_body(detail)


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None

    def with_common(self) -> "Answer":
        self.headers = {
            "Tus-Resumable": VERSION,
            "Cache-Control": "no-store",
            "Access-Control-Expose-Headers": EXPOSED,
            **self.headers,
        }
        return self


def error_answer(error: TusError) -> Answer:
    return Answer(error.status, error.headers, error.body).with_common()


def require_version(headers: Mapping[str, str]) -> None:
    version = headers.get("tus-resumable", "").strip()
    if not version:  # a malformed tus request; 412 is for a version Depot does not speak
        raise TusError(400, f"Tus-Resumable: {VERSION} is required.", {"Tus-Version": VERSION})
    if version != VERSION:
        raise TusError(
            412,
            f"Tus-Resumable must be {VERSION}.",
            {"Tus-Version": VERSION},
        )


def non_negative(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 19:
        raise TusError(400, f"{name.title()} must be a non-negative integer.")
    return int(value)


def parse_metadata(value: str | None) -> dict[str, str]:
    """`key base64value, key2, …` → {key: text}. Values must be UTF-8 text."""
    if not value:
        return {}
    if len(value) > MAX_METADATA_BYTES:
        raise TusError(400, f"Upload-Metadata is longer than {MAX_METADATA_BYTES} bytes.")
    found: dict[str, str] = {}
    for pair in value.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        encoded = encoded.strip()
        if not key or " " in encoded or key in found:
            raise TusError(400, f"Upload-Metadata has a malformed or repeated key '{key}'.")
        try:
            raw = base64.b64decode(encoded, validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise TusError(400, f"Upload-Metadata '{key}' is not base64 of UTF-8 text.") from None
        if "\x00" in text:
            raise TusError(400, f"Upload-Metadata '{key}' holds a NUL character.")
        found[key] = text
    return found


def parse_checksum(value: str | None) -> tuple[str, bytes] | None:
    """`Upload-Checksum: <algorithm> <base64 digest>` → (algorithm, digest)."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm not in CHECKSUMS:
        raise TusError(400, f"Checksum algorithm '{algorithm}' is not supported.")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        raise TusError(400, "Upload-Checksum is not base64.") from None
    return algorithm, digest


def parse_concat(value: str | None) -> tuple[str, list[str]] | None:
    """`partial` → ("partial", []); `final;<url> <url>` → ("final", [upload ids])."""
    if value is None:
        return None
    value = value.strip()
    if value == "partial":
        return "partial", []
    kind, _, urls = value.partition(";")
    if kind != "final" or not urls.strip():
        raise TusError(400, "Upload-Concat must be 'partial' or 'final;<url> <url> …'.")
    ids = []
    for url in urls.split():
        path = url.split("://", 1)[-1]
        path = path[path.find("/") :] if "://" in url else path
        upload_id = path.rstrip("/").rsplit("/", 1)[-1]
        if not path.startswith(PREFIX) or not is_upload_id(upload_id):
            raise TusError(400, f"'{url}' is not a tus upload of this server.")
        ids.append(upload_id)
    return "final", ids


def is_upload_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)
