"""The session zip: every attachment and the latest version of every artifact, streamed as it
is built: no temporary file, no buffering.

Neither zip library cleans entry names, so Depot does: each entry is `<folder>/<display
name>`, where the display name has no separators, control characters or dot-only names, and
duplicates (compared case-insensitively) get ` (2)`, ` (3)`… before their extension.
"""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from zipstream import ZIP_STORED, ZipStream

from artifacts.models import Artifact
from artifacts.version_bytes import download_name
from attachments import storage
from attachments.file_identity import MAX_NAME_LENGTH, display_name
from attachments.models import Attachment
from sessions_app.models import Session


def unique_entry_name(folder: str, name: str, used: set[str]) -> str:
    clean = display_name(name)
    stem, dot, extension = clean.rpartition(".")
    # As display_name does, only a short tail counts as an extension.
    if not dot or not stem or len(extension) > 16:
        stem, extension = clean, ""
    candidate, counter = clean, 1
    while f"{folder}/{candidate}".lower() in used:
        counter += 1
        suffix = f" ({counter}).{extension}" if extension else f" ({counter})"
        # The stem gives way to the counter, so a renamed duplicate of a 255-character name
        # is still a display name (at most 255 characters).
        candidate = stem[: MAX_NAME_LENGTH - len(suffix)] + suffix
    entry = f"{folder}/{candidate}"
    used.add(entry.lower())
    return entry


@dataclass(frozen=True)
class ZipEntry:
    """One file of the zip: stored bytes under `key`, or inline `data` (artifact text)."""

    name: str
    size: int
    key: str | None = None
    data: bytes | None = None


def session_zip(*, session: Session) -> list[ZipEntry]:
    """What the session's zip holds, read from the database now (before the response starts).
    No bytes are touched yet: each entry is opened only when the stream reaches it."""
    entries: list[ZipEntry] = []
    used: set[str] = set()
    attachments = (
        Attachment.objects.filter(session=session, purged=False, blob__isnull=False)
        .select_related("blob")
        .order_by("id")
    )
    for attachment in attachments:
        assert attachment.blob is not None
        entries.append(
            ZipEntry(
                name=unique_entry_name("attachments", attachment.name, used),
                size=attachment.size,
                key=attachment.blob.storage_key,
            )
        )
    artifacts = (
        Artifact.objects.latest_versions()
        .filter(session=session)
        .select_related("blob")
        .order_by("root_id")
    )
    for artifact in artifacts:
        name = unique_entry_name("artifacts", download_name(artifact), used)
        if artifact.blob is not None:
            entries.append(
                ZipEntry(name=name, size=artifact.size_bytes, key=artifact.blob.storage_key)
            )
        else:
            data = (artifact.content or "").encode()
            entries.append(ZipEntry(name=name, size=len(data), data=data))
    return entries


def zip_chunks(entries: list[ZipEntry]) -> Iterator[bytes]:
    """The zip of `entries`, built as it is read.

    A file deleted after the listing must not cut the stream short. Opening every entry
    before the first byte would hold one file handle (or one S3 connection) per entry, and a
    session may hold 10,000 files; so each entry is opened just before its local header is
    written, and one whose bytes are gone by then is left out (as if the zip had been asked
    for a moment later). An entry once opened is sent whole: its open file or started GET
    outlives a delete. At most one object is open at any time, and memory holds one chunk.

    The price: the total length is not known in advance, so the zip goes out chunked, without
    a Content-Length (zipstream's `sized` mode would promise bytes that may never exist)."""
    archive = ZipStream(compress_type=ZIP_STORED)
    for entry in entries:
        opened: storage.OpenedBlob | None = None
        if entry.key is not None:
            try:
                opened = storage.open_blob(entry.key)
            except storage.BlobMissing:
                continue
        try:
            data = opened.chunks() if opened is not None else iter([entry.data or b""])
            archive.add(data, entry.name, size=entry.size)
            yield from archive.all_files()
        finally:
            # A client gone mid-entry closes this generator; close the object with it.
            if opened is not None:
                opened.close()
    yield from archive.footer()


def stream_zip(entries: list[ZipEntry]) -> AsyncIterator[bytes]:
    return storage.iterate_in_thread(zip_chunks(entries))
