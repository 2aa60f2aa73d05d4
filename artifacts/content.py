"""What an artifact version serves as bytes: its blob, or its inline text."""

import codecs
import mimetypes

from artifacts.models import Artifact
from attachments import storage
from attachments.downloads import FileToServe


def download_name(artifact: Artifact) -> str:
    """The file name of a version: its file's name, or its title with an extension that fits
    its content type (`Report` with text/markdown → `Report.md`)."""
    if artifact.file_name:
        return artifact.file_name
    name = artifact.name or artifact.artifact_id
    extension = (
        ".md"
        if artifact.content_type.startswith("text/markdown")
        else (mimetypes.guess_extension(artifact.content_type.split(";")[0].strip()) or ".txt")
    )
    return name if name.lower().endswith(extension) else f"{name}{extension}"


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
