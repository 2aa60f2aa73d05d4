"""What an artifact version serves as bytes: its blob, or its inline text."""

import codecs
import mimetypes

from artifacts.models import Artifact
from attachments import storage
from attachments.content import display_name, media_type_base
from attachments.downloads import FileToServe


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
