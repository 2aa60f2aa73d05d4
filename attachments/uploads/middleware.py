"""Streaming uploads in front of Django.

Django's ASGI handler reads a whole request body into a temporary file before any view runs,
which costs a full extra copy of every upload and makes an early 413 impossible. The request
gate (config/request_gate.py) hands this middleware the multipart requests under `/api/`,
after it has authenticated the caller:

- a `Content-Length` over the cap gets a 413 before one byte of the body is read, and a
  read-only key its 403 just as early;
- file parts are hashed and written to a temporary storage key while they stream, and the upload
  stops with a 413 the moment the files pass the cap;
- text fields are held in memory, so they are bounded in number and in total bytes
  (`DEPOT_MAX_FORM_TEXT_BYTES`), and must be UTF-8: a byte that is not would be re-encoded as
  nine on its way to Django;
- Django then sees a small url-encoded body with the text fields, and finds the staged files in
  `scope["depot.staged"]`; whatever the view did not consume is deleted afterwards, so a
  rejected or aborted upload leaves no bytes behind.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import python_multipart.multipart as multipart
from django.conf import settings

from attachments import storage
from attachments.uploads.multipart import ClientGone, FilePart, FormCollector, UploadRejected
from sessions_app.errors import error_body
from sessions_app.principals import SCOPE_API_KEY

logger = logging.getLogger(__name__)

# Multipart framing and part headers on top of the file and text bytes the caps count.
FORM_OVERHEAD_ALLOWANCE = 64 * 1024
# A file part is written to storage in pieces of about this size, off the event loop.
WRITE_BATCH = 1024 * 1024
# Part headers may carry a 1,000-character (3,000-byte UTF-8) file name and more.
MAX_PART_HEADER_BYTES = 32 * 1024
STAGED_SCOPE_KEY = "depot.staged"
STORAGE_UNAVAILABLE = "Storage is unavailable; nothing was stored. Retry later."
UPLOAD_METHODS = {"POST", "PUT", "PATCH"}


@dataclass
class StagedUpload:
    """A file part already in storage under `blob.temp_key`."""

    blob: storage.StagedBlob
    field_name: str
    file_name: str
    content_type: str


async def send_json(
    send: Any,
    status: int,
    body: dict[str, Any],
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    """A JSON answer sent straight from ASGI, before (or instead of) reading the whole body.
    The connection is closed after it: the server would otherwise go on reading (and
    discarding) the rest of the body to reuse the connection."""
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-content-type-options", b"nosniff"),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def is_streamed_upload(scope: dict[str, Any], headers: dict[bytes, bytes]) -> bool:
    """Whether this middleware takes the request: a multipart write under `/api/`."""
    content_type, _ = multipart.parse_options_header(headers.get(b"content-type"))
    return (
        scope["method"] in UPLOAD_METHODS
        and scope["path"].startswith("/api/")
        and content_type == b"multipart/form-data"
    )


def _write(
    writer: storage.BlobWriter | None, pieces: list[memoryview], *, finish: bool = False
) -> tuple[storage.BlobWriter, storage.StagedBlob | None]:
    """In a worker thread: `pieces` written (and the part finished, when `finish`), the writer
    opened first when the part has none yet. Opening in the first write's trip instead of a
    trip of its own saves one of an upload's trips to a worker thread (each costs the event
    loop about 0.1 ms of CPU, issue 11). A writer this call opened and could not write to is
    aborted here, since the part never learns of it."""
    opened = storage.open_writer() if writer is None else writer
    try:
        if pieces:
            opened.write_many(pieces)
        return opened, opened.finish() if finish else None
    except BaseException:
        if writer is None:
            with contextlib.suppress(Exception):
                opened.abort()
        raise


def _staged(files: list[FilePart]) -> dict[str, StagedUpload]:
    return {
        part.field_name: StagedUpload(
            blob=part.finished(),
            field_name=part.field_name,
            file_name=part.file_name,
            content_type=part.content_type,
        )
        for part in reversed(files)  # the first part of a name wins
    }


class BodyParts:
    """A request's parts once its whole body is in, for a finisher: the text fields, and the
    file parts, whose last pieces are not written yet. `finish()` writes them and finishes each
    part (its `fdatasync`) in the finisher's own trip to a thread, which saves the upload a trip
    of its own (a hop to a worker thread and back, about 0.5 ms of a 1 MiB upload's 10, issue
    11)."""

    def __init__(self, collector: FormCollector) -> None:
        self.fields = collector.fields
        self._files = collector.files

    def file(self, field_name: str) -> FilePart | None:
        """The first file part named `field_name` (the one the view would get), not finished."""
        return next((part for part in self._files if part.field_name == field_name), None)

    def finish(self) -> dict[str, StagedUpload]:
        """Blocking (call it in a thread): every part's last pieces written and the part
        finished; the staged uploads by field name. Raises what storage raises."""
        for part in self._files:
            if part.result is None:
                pieces, part.pending, part.pending_bytes = part.pending, [], 0
                part.writer, part.result = _write(part.writer, pieces, finish=True)
        return _staged(self._files)


# `finish(scope, parts, send)`: answers the upload itself and returns True, or returns False,
# having done nothing (`parts.finish()` not called), for the application to answer it.
Finisher = Callable[[dict[str, Any], BodyParts, Any], Awaitable[bool]]


class StreamingUploadMiddleware:
    def __init__(self, app: Any, *, finish: Finisher | None = None) -> None:
        self.app = app
        # config/upload_answers.py: the plain `POST /api/uploads/{sid}` without Django.
        self.finish = finish

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = {name.lower(): value for name, value in scope["headers"]}
        _, options = multipart.parse_options_header(headers.get(b"content-type"))
        max_bytes = settings.DEPOT_MAX_UPLOAD_BYTES
        max_text = settings.DEPOT_MAX_FORM_TEXT_BYTES

        content_length = headers.get(b"content-length")
        declared = int(content_length) if content_length and content_length.isdigit() else None
        if declared is not None and declared > max_bytes + max_text + FORM_OVERHEAD_ALLOWANCE:
            await send_json(
                send, 413, error_body(f"Upload is larger than the limit of {max_bytes} bytes.")
            )
            return
        # The gate let only authenticated callers through; uploads are always writes.
        api_key = scope.get(SCOPE_API_KEY)
        if api_key is not None and api_key.read_only:
            await send_json(send, 403, error_body("This API key is read-only."))
            return
        boundary = options.get(b"boundary")
        if not boundary:
            await send_json(send, 400, error_body("Multipart body without a boundary."))
            return

        collector = FormCollector(max_bytes, max_text)
        answered = False
        try:
            try:
                await self._stream_body(receive, boundary, collector)
                if self.finish is not None:
                    # A storage error of `parts.finish()` is this 503 too: the finisher calls
                    # it before it writes a row or sends a byte.
                    answered = await self.finish(scope, BodyParts(collector), send)
                if not answered:
                    await self._drain(collector, final=True)
            except storage.STORAGE_ERRORS as error:
                logger.warning(
                    "storage failed during an upload: %s: %s", type(error).__name__, error
                )
                raise UploadRejected(503, STORAGE_UNAVAILABLE) from error
        except UploadRejected as rejected:
            await self._discard(collector)
            retry = ((b"retry-after", b"5"),) if rejected.status == 503 else ()
            await send_json(send, rejected.status, error_body(rejected.detail), retry)
            return
        except ClientGone:
            await self._discard(collector)
            return
        except BaseException:
            await self._discard(collector)
            raise

        if answered:
            await self._discard(collector)  # what the finisher did not consume (other parts)
            return
        staged = _staged(collector.files)
        body = urlencode(collector.fields).encode()
        inner_headers = [
            (name, value)
            for name, value in scope["headers"]
            if name.lower() not in (b"content-type", b"content-length")
        ]
        inner_headers += [
            (b"content-type", b"application/x-www-form-urlencoded; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
        ]
        inner_scope = {**scope, "headers": inner_headers, STAGED_SCOPE_KEY: staged}
        body_sent = False

        async def inner_receive() -> dict[str, Any]:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        try:
            await self.app(inner_scope, inner_receive, send)
        finally:
            # Consumed uploads were moved to their content key; anything left is dropped.
            await self._discard(collector)

    async def _stream_body(self, receive: Any, boundary: bytes, collector: FormCollector) -> None:
        parser = multipart.MultipartParser(
            boundary,
            collector.callbacks(),  # type: ignore[arg-type]  # a dict of the same callbacks
            max_header_size=MAX_PART_HEADER_BYTES,
        )
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            if chunk:
                try:
                    parser.write(chunk)
                except multipart.MultipartParseError as error:
                    raise UploadRejected(400, f"Malformed multipart body: {error}") from error
                await self._drain(collector, final=False)
            if not message.get("more_body", False):
                break
        try:
            parser.finalize()
        except multipart.MultipartParseError as error:
            raise UploadRejected(400, f"Malformed multipart body: {error}") from error
        if not collector.finished:
            raise UploadRejected(400, "Malformed multipart body: it ends before its last boundary.")

    async def _drain(self, collector: FormCollector, *, final: bool) -> None:
        # Once the body's end is parsed, a finisher may finish the parts in its own trip.
        leave_last = self.finish is not None and collector.finished and not final
        for part in collector.files:
            finishing = final or part.done
            if finishing and part.result is None:
                # The last bytes and the finish in one trip to a worker thread (each trip
                # costs the event loop about 0.1 ms of CPU, issue 11).
                await part.wait_for_write()
                if leave_last:
                    continue
                pieces, part.pending, part.pending_bytes = part.pending, [], 0
                part.writer, part.result = await asyncio.to_thread(
                    _write, part.writer, pieces, finish=True
                )
            elif part.pending and part.pending_bytes >= WRITE_BATCH:
                await part.wait_for_write()
                pieces, part.pending, part.pending_bytes = part.pending, [], 0
                part.in_flight = asyncio.ensure_future(
                    asyncio.to_thread(_write, part.writer, pieces)
                )

    async def _discard(self, collector: FormCollector) -> None:
        """Remove every temporary key this request wrote (a no-op for consumed ones)."""

        def discard(part: FilePart) -> None:
            if part.result is not None:
                storage.delete(part.result.temp_key)
            elif part.writer is not None:
                part.writer.abort()

        for part in collector.files:
            # A failed write does not matter any more: everything is being thrown away.
            with contextlib.suppress(Exception):
                await part.wait_for_write()
        # A part the view consumed (moved to its content key, or deleted) has nothing left.
        left = [
            part
            for part in collector.files
            if part.writer is not None and not (part.result is not None and part.result.gone)
        ]
        if not left:
            return
        results = await asyncio.gather(
            *(asyncio.to_thread(discard, part) for part in left),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("could not discard a staged upload", exc_info=result)
