"""File responses: ETag and 304, single Range and 206/416, a safe Content-Disposition, nosniff,
and active content only ever as an attachment under a sandbox CSP. The body streams from an
async generator (Django buffers a sync iterator whole under ASGI).

The stored object is opened before the response exists, so a file deleted after its row was
read is either sent whole (it was opened in time) or answered 404 (it was not); never a 200
whose body stops short of its Content-Length."""

import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from attachments import storage
from attachments.file_identity import is_active, served_media_type
from sessions_app.errors import NotFound, error_body

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
SANDBOX_POLICY = "sandbox"


@dataclass
class FileToServe:
    """Bytes in storage under `key`, or small inline bytes in `data` (artifact text)."""

    key: str | None
    size: int
    sha256: str
    mime_type: str
    name: str
    data: bytes | None = None

    def open(self, start: int = 0, end: int | None = None) -> AsyncIterable[bytes]:
        """The body, with its stored bytes already opened; `NotFound` when they are gone."""
        if self.data is not None:
            return _chunks_of(self.data[start : None if end is None else end + 1])
        assert self.key is not None
        return open_stored(self.key, start, end)


def open_stored(key: str, start: int = 0, end: int | None = None) -> storage.OpenedBlob:
    """`storage.open_blob`, with a vanished object as the 404 its row would now give."""
    try:
        return storage.open_blob(key, start, end)
    except storage.BlobMissing:
        raise NotFound("This file was deleted.") from None


class ClosingBody:
    """An async body derived from opened bytes, with the close of those bytes: Django calls
    `close()` on streaming content when the response ends, also one that was never iterated
    (the client went away first), so the file or S3 connection is never left to the GC."""

    def __init__(self, body: AsyncIterable[bytes], close: Callable[[], None]) -> None:
        self._body = body
        self.close = close

    def __aiter__(self) -> AsyncIterator[bytes]:
        return aiter(self._body)


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    candidates = [value.strip().removeprefix("W/") for value in header.split(",")]
    return etag in candidates


def parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """(start, end) inclusive; None to serve the whole file (absent, malformed or multiple
    ranges, which RFC 9110 lets a server ignore); "unsatisfiable" for a 416."""
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return "unsatisfiable"
    return start, end


def _headers(response: HttpResponseBase, file: FileToServe, *, as_attachment: bool) -> None:
    active = is_active(file.mime_type)
    response["ETag"] = f'"{file.sha256}"'
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment or active, file.name) or "attachment"
    )
    if active:
        response["Content-Security-Policy"] = SANDBOX_POLICY


def file_response(request: HttpRequest, file: FileToServe, *, download: bool) -> HttpResponseBase:
    etag = f'"{file.sha256}"'
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and _etag_matches(if_none_match, etag):
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        return not_modified

    if file.key is not None and storage.s3_download_mode() == "redirect":
        url = storage.presigned_url(
            file.key,
            expires_in=300,
            file_name=file.name,
            content_type=served_media_type(file.mime_type),
            as_attachment=download or is_active(file.mime_type),
        )
        if url:
            return HttpResponseRedirect(url)

    byte_range: tuple[int, int] | str | None = None
    range_header = request.headers.get("Range")
    if range_header and file.size > 0:
        if_range = request.headers.get("If-Range")
        if not if_range or if_range.strip() == etag:
            byte_range = parse_range(range_header, file.size)
    elif range_header and file.size == 0:
        byte_range = "unsatisfiable" if _RANGE.match(range_header.strip()) else None
    if byte_range == "unsatisfiable":
        refusal = HttpResponse(status=416, content_type="application/json")
        refusal.content = json.dumps(error_body("Requested range not satisfiable.")).encode()
        refusal["Content-Range"] = f"bytes */{file.size}"
        return refusal

    body: AsyncIterable[bytes]
    response: StreamingHttpResponse
    if isinstance(byte_range, tuple):
        start, end = byte_range
        body = file.open(start, end)
        response = StreamingHttpResponse(
            body, status=206, content_type=served_media_type(file.mime_type)
        )
        response["Content-Range"] = f"bytes {start}-{end}/{file.size}"
        response["Content-Length"] = str(end - start + 1)
    else:
        body = file.open() if file.size else _chunks_of(b"")
        response = StreamingHttpResponse(body, content_type=served_media_type(file.mime_type))
        response["Content-Length"] = str(file.size)
    _headers(response, file, as_attachment=download)
    return response


async def _chunks_of(data: bytes) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), storage.READ_CHUNK):
        yield data[offset : offset + storage.READ_CHUNK]
