"""What an artifact version serves as bytes: its blob, or its inline text; and the two
encodings of those bytes inside JSON (a data URI, seed 001's streamed content document)."""

import base64
import codecs
import json
import mimetypes
from collections.abc import AsyncIterable, AsyncIterator, Callable

from django.conf import settings

from artifacts.models import Artifact
from attachments import storage
from attachments.downloads import FileToServe
from attachments.file_identity import display_name, media_type_base, served_media_type
from sessions_app.errors import NotFound


def download_name(artifact: Artifact) -> str:
    """The file name of a version, as every download names it (Content-Disposition, the
    signed download's `file_name`, meta `name`, zip entries): its file's name, or its title
    with an extension that fits its content type (`Report` with text/markdown → `Report.md`).

    A title is free text of up to 500 characters, so the result goes through the display-name
    rules of product.md §6 (basename, no control or format characters such as U+202E, at most
    255 characters keeping the extension). A file's name was cleaned when it was stored, but
    is cleaned again: older rows, and the rules, may differ."""
    if artifact.file_name:
        return display_name(artifact.file_name)
    # Cleaned before the extension is added too, so a title ending in a separator (`notes/`)
    # names `file.md` rather than the hidden file `.md`.
    name = display_name(artifact.name or artifact.artifact_id)
    base = media_type_base(artifact.content_type)
    extension = ".md" if base == "text/markdown" else (mimetypes.guess_extension(base) or ".txt")
    return display_name(name if name.lower().endswith(extension) else f"{name}{extension}")


def artifact_file(artifact: Artifact) -> FileToServe:
    if artifact.blob_id is not None:
        return FileToServe(
            key=artifact.blob.storage_key,  # type: ignore[union-attr]
            size=artifact.size_bytes,
            sha256=artifact.sha256,
            mime_type=artifact.content_type,
            name=download_name(artifact),
        )
    data = (artifact.content or "").encode()
    return FileToServe(
        key=None,
        size=len(data),
        sha256=artifact.sha256,
        mime_type=artifact.content_type,
        name=download_name(artifact),
        data=data,
    )


def is_valid_utf8(key: str) -> bool:
    """Whether stored bytes decode as UTF-8 throughout, checked while streaming (a sniffed
    text type only speaks for the first 8 KiB)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        for chunk in storage.read_chunks(key):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def artifact_bytes(artifact: Artifact) -> bytes:
    """The whole content, for small things only (data URIs, /content)."""
    if artifact.blob_id is not None:
        return b"".join(storage.read_chunks(artifact.blob.storage_key))  # type: ignore[union-attr]
    return (artifact.content or "").encode()


# Meta answers whose file is at most this big are rendered whole (plain JSON); above it the
# data URI is base64-encoded while it is sent (session_files.streamed_meta), so a 20 MiB file
# is never in memory as bytes, base64 and JSON at once.
DATA_URI_RENDER_WHOLE_MAX = 1024 * 1024


def data_uri_fits(size: int) -> bool:
    """Whether a file of `size` bytes gets a data URI: up to DEPOT_DATA_URI_MAX_BYTES,
    inclusive; 0 turns them off."""
    limit = settings.DEPOT_DATA_URI_MAX_BYTES
    return limit > 0 and size <= limit


def data_uri_prefix(mime_type: str) -> str:
    return f"data:{served_media_type(mime_type)};base64,"


def base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


def data_uri(mime_type: str, size: int, read: Callable[[], bytes]) -> str | None:
    """`data:<type>;base64,…` for a file that fits (`data_uri_fits`), else None. `read` gives
    the bytes; a file deleted since its row was read is the 404 the row itself would now give."""
    if not data_uri_fits(size):
        return None
    try:
        data = read()
    except storage.BlobMissing:
        raise NotFound("This file was deleted.") from None
    return data_uri_prefix(mime_type) + base64.b64encode(data).decode()


async def base64_chunks(stored: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Base64 of a stream, chunk by chunk: each piece encodes a multiple of 3 bytes (the rest
    waits for the next chunk), so the pieces joined are the base64 of the whole."""
    carry = b""
    async for chunk in stored:
        chunk = carry + chunk
        cut = len(chunk) - len(chunk) % 3
        carry = chunk[cut:]
        if cut:
            yield base64.b64encode(chunk[:cut])
    if carry:
        yield base64.b64encode(carry)


async def json_string_chunks(stored: AsyncIterable[bytes], textual: bool) -> AsyncIterator[bytes]:
    """The inside of a JSON string holding a stream's bytes, piece by piece: the text
    (UTF-8, undecodable bytes replaced) escaped, or its base64 (`base64_chunks`)."""
    if not textual:
        async for piece in base64_chunks(stored):
            yield piece
        return
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    async for chunk in stored:
        yield json.dumps(decoder.decode(chunk))[1:-1].encode()
    yield json.dumps(decoder.decode(b"", final=True))[1:-1].encode()


async def streamed_content_document(
    artifact: Artifact, stored: AsyncIterable[bytes], textual: bool
) -> AsyncIterator[bytes]:
    """`{"artifact_id": …, "content": "…", …}` for a stored file, encoded as it streams so a
    large file never sits in memory (base64 in 3-byte-aligned pieces, or UTF-8 text)."""
    head = json.dumps({"artifact_id": artifact.root_artifact_id})[:-1]
    yield f'{head}, "content": "'.encode()
    async for piece in json_string_chunks(stored, textual):
        yield piece
    tail = {
        "content_type": artifact.content_type,
        "content_encoding": "utf-8" if textual else "base64",
        "size_bytes": artifact.size_bytes,
    }
    yield ('", ' + json.dumps(tail)[1:]).encode()
