"""The multipart side of streaming uploads: python-multipart callbacks that keep text fields
in memory (bounded in number and total size, UTF-8 only) and queue file bytes for the
middleware to write to storage (bounded in number of files and in total bytes)."""

import asyncio
from typing import Any

import python_multipart.multipart as multipart

from attachments import storage

MAX_TEXT_FIELDS = 200
# No surface takes more than one file; a few more leave room for clients that add parts.
MAX_FILE_PARTS = 8


class UploadRejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ClientGone(Exception):
    pass


class FilePart:
    def __init__(self, field_name: str, file_name: str, content_type: str) -> None:
        self.field_name = field_name
        self.file_name = file_name
        self.content_type = content_type
        self.writer: storage.BlobWriter | None = None
        self.result: storage.StagedBlob | None = None
        # Zero-copy views into the received chunks, waiting to be written.
        self.pending: list[memoryview] = []
        self.pending_bytes = 0
        # At most one write runs in a worker thread while the next data is received and parsed;
        # it answers with the part's writer (opened by the part's first write).
        self.in_flight: asyncio.Future[tuple[storage.BlobWriter, Any]] | None = None
        self.size = 0
        self.done = False

    def finished(self) -> storage.StagedBlob:
        """What the part staged; only called once the whole body has been drained."""
        assert self.result is not None, "a part is finished before the view sees it"
        return self.result

    async def wait_for_write(self) -> None:
        if self.in_flight is not None:
            in_flight, self.in_flight = self.in_flight, None
            self.writer, _ = await in_flight


class FormCollector:
    """python-multipart callbacks: text fields into memory (bounded), file bytes into a
    pending buffer that the async loop drains to storage."""

    def __init__(self, max_file_bytes: int, max_text_bytes: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_text_bytes = max_text_bytes
        self.file_bytes = 0
        self.text_bytes = 0
        self.fields: list[tuple[str, str]] = []
        self.files: list[FilePart] = []
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._current_file: FilePart | None = None
        self._current_field: tuple[str, bytearray] | None = None
        self.finished = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._current_file = None
        self._current_field = None

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = multipart.parse_options_header(self._headers.get(b"content-disposition"))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if len(self.files) >= MAX_FILE_PARTS:
                raise UploadRejected(400, "Too many files in one request.")
            file_name = options[b"filename"].decode("utf-8", "replace")
            content_type = self._headers.get(b"content-type", b"").decode("latin-1")
            self._current_file = FilePart(name, file_name, content_type)
            self.files.append(self._current_file)
        else:
            if len(self.fields) >= MAX_TEXT_FIELDS:
                raise UploadRejected(400, "Too many form fields.")
            self._current_field = (name, bytearray())

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_file is not None:
            part = self._current_file
            part.size += end - start
            self.file_bytes += end - start
            # The cap counts every file of the request, so extra parts cannot multiply it.
            if self.file_bytes > self.max_file_bytes:
                raise UploadRejected(
                    413, f"File is larger than the limit of {self.max_file_bytes} bytes."
                )
            # uvicorn hands us immutable bytes, so a view is safe to keep; copy anything else.
            piece = data if isinstance(data, bytes) else bytes(data[start:end])
            offset = start if piece is data else 0
            part.pending.append(memoryview(piece)[offset : offset + end - start])
            part.pending_bytes += end - start
        elif self._current_field is not None:
            self.text_bytes += end - start
            if self.text_bytes > self.max_text_bytes:
                raise UploadRejected(
                    413,
                    f"Form text fields are larger than the limit of {self.max_text_bytes} bytes.",
                )
            self._current_field[1].extend(data[start:end])

    def _part_end(self) -> None:
        if self._current_file is not None:
            self._current_file.done = True
        elif self._current_field is not None:
            name, value = self._current_field
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                raise UploadRejected(400, f"Form field '{name}' is not valid UTF-8.") from None
            self.fields.append((name, text))
        self._current_file = None
        self._current_field = None

    def _end(self) -> None:
        self.finished = True
