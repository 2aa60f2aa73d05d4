"""The session zip: every attachment and the latest version of every artifact, streamed as it
is built: no temporary file, no buffering.

Neither zip library cleans entry names, so Depot does: each entry is `<folder>/<display
name>`, where the display name has no separators, control characters or dot-only names, and
duplicates (compared case-insensitively) get ` (2)`, ` (3)`… before their extension.
"""

from collections.abc import AsyncIterator

from zipstream import ZIP_STORED, ZipStream

from artifacts.content import download_name
from artifacts.models import Artifact
from attachments import storage
from attachments.content import MAX_NAME_LENGTH, display_name
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


def session_zip(*, session: Session) -> ZipStream:
    """A lazily evaluated zip: files are read from storage only as the stream is consumed.
    Stored (not deflated) entries with known sizes let the total length be known up front."""
    archive = ZipStream(compress_type=ZIP_STORED, sized=True)
    used: set[str] = set()
    attachments = (
        Attachment.objects.filter(session=session, purged=False, blob__isnull=False)
        .select_related("blob")
        .order_by("id")
    )
    for attachment in attachments:
        assert attachment.blob is not None
        archive.add(
            storage.read_chunks(attachment.blob.storage_key),
            unique_entry_name("attachments", attachment.name, used),
            size=attachment.size,
        )
    artifacts = (
        Artifact.objects.latest_versions()
        .filter(session=session)
        .select_related("blob")
        .order_by("root_id")
    )
    for artifact in artifacts:
        data: object
        if artifact.blob is not None:
            data = storage.read_chunks(artifact.blob.storage_key)
        else:
            data = iter([(artifact.content or "").encode()])
        archive.add(
            data,
            unique_entry_name("artifacts", download_name(artifact), used),
            size=artifact.size_bytes,
        )
    return archive


def stream_zip(archive: ZipStream) -> AsyncIterator[bytes]:
    return storage.iterate_in_thread(iter(archive))
