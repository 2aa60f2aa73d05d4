"""What MCP reads: sessions, their files and artifact versions, found through the same
selectors as the REST routes (so another tenant's ids are "not found" here too), and their
bytes read from storage a window at a time. Everything here is blocking ORM or storage work:
callers run it in a worker thread (agents_mcp.resources, agents_mcp.tools)."""

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from artifacts import selectors as artifact_selectors
from artifacts.models import Artifact
from artifacts.services import is_textual
from attachments import selectors as attachment_selectors
from attachments import storage
from attachments.api.serializers import AttachmentListItem
from attachments.file_identity import served_media_type
from attachments.models import Attachment, Blob
from sessions_app import selectors as session_selectors
from sessions_app.api.serializers import SessionResponse
from sessions_app.errors import Gone, NotFound
from sessions_app.models import Session
from sessions_app.principals import Principal

SESSION_URI = re.compile(r"^depot://sessions/(?P<session_id>[^/]+)$")
SESSION_FILE_URI = re.compile(r"^depot://sessions/(?P<session_id>[^/]+)/files/(?P<file_id>[^/]+)$")
ARTIFACT_URI = re.compile(r"^depot://artifacts/(?P<artifact_id>[^/]+)(?:/versions/(?P<n>\d+))?$")


def session_uri(session_id: str) -> str:
    return f"depot://sessions/{session_id}"


def session_file_uri(session_id: str, file_id: str) -> str:
    return f"depot://sessions/{session_id}/files/{file_id}"


def artifact_uri(artifact_id: str, version: int | None = None) -> str:
    base = f"depot://artifacts/{artifact_id}"
    return base if version is None else f"{base}/versions/{version}"


@dataclass
class FileRef:
    """One file's bytes and what to call them: a blob in storage, or an inline text."""

    uri: str
    file_id: str
    name: str
    mime_type: str
    size: int
    rest_path: str  # where REST serves the whole file
    key: str | None = None
    data: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def textual(self) -> bool:
        return is_textual(self.mime_type) or self.mime_type.startswith("text/")

    def read(self, offset: int = 0, length: int | None = None) -> bytes:
        if offset >= self.size:
            return b""
        end = self.size - 1 if length is None else min(self.size, offset + length) - 1
        if self.data is not None:
            return self.data[offset : end + 1]
        assert self.key is not None
        try:
            return b"".join(storage.read_chunks(self.key, offset, end))
        except storage.BlobMissing:
            raise NotFound("This file was deleted.") from None


def _attachment_ref(session: Session, attachment: Attachment) -> FileRef:
    try:
        blob: Blob | None = attachment.blob
    except Blob.DoesNotExist:
        blob = None
    if attachment.purged or blob is None:
        raise Gone("This file's bytes were removed when its session completed.")
    return FileRef(
        uri=session_file_uri(session.session_id, attachment.attachment_id),
        file_id=attachment.attachment_id,
        name=attachment.name,
        mime_type=served_media_type(attachment.mime_type),
        size=attachment.size,
        rest_path=f"/api/sessions/{session.session_id}/artifacts/{attachment.attachment_id}"
        "?mode=stream",
        key=blob.storage_key,
    )


def artifact_ref(artifact: Artifact, uri: str) -> FileRef:
    if artifact.blob_id is not None:
        key: str | None = artifact.blob.storage_key  # type: ignore[union-attr]
        data = None
        size = artifact.size_bytes
    else:
        key, data = None, (artifact.content or "").encode()
        size = len(data)
    return FileRef(
        uri=uri,
        file_id=artifact.artifact_id,
        name=artifact.name,
        mime_type=artifact.content_type,
        size=size,
        rest_path=f"/api/artifacts/{artifact.root_artifact_id}/file?version={artifact.version}",
        key=key,
        data=data,
        extra={"version": artifact.version, "root_artifact_id": artifact.root_artifact_id},
    )


def session_file(principal: Principal, session_id: str, file_id: str) -> FileRef:
    """An attachment or an artifact of the caller's session, as the seed-000 item route."""
    session = session_selectors.session_get(principal=principal, session_id=session_id)
    attachment = attachment_selectors.attachment_find(session=session, public_id=file_id)
    if attachment is not None:
        return _attachment_ref(session, attachment)
    try:
        artifact = artifact_selectors.artifact_get(
            scope=Artifact.objects.filter(session=session), artifact_id=file_id
        )
    except NotFound:
        raise NotFound(f"No attachment or artifact '{file_id}' in this session.") from None
    return artifact_ref(artifact, session_file_uri(session_id, file_id))


def artifact_version(principal: Principal, artifact_id: str, version: int | None) -> Artifact:
    return artifact_selectors.artifact_get(
        scope=artifact_selectors.artifact_scope(principal=principal),
        artifact_id=artifact_id,
        version=version,
    )


def file_entries(session: Session) -> list[dict[str, Any]]:
    """A session's files (attachments, then its artifacts' latest versions) as resources."""
    entries = []
    for attachment in attachment_selectors.attachment_list(session=session)[:500]:
        item = AttachmentListItem(attachment).data
        entries.append(
            {
                "uri": session_file_uri(session.session_id, attachment.attachment_id),
                "id": attachment.attachment_id,
                "kind": "attachment",
                "name": item["name"],
                "mime_type": item["mime_type"],
                "size": item["size"],
                "purged": item["purged"],
            }
        )
    artifacts = Artifact.objects.latest_versions().filter(session=session)
    for artifact in artifacts.select_related("root").order_by("-root_id")[:500]:
        # The root id stands for the artifact (its latest version), as in every REST route.
        entries.append(
            {
                "uri": session_file_uri(session.session_id, artifact.root_artifact_id),
                "id": artifact.root_artifact_id,
                "kind": "artifact",
                "name": artifact.name,
                "mime_type": artifact.content_type,
                "size": artifact.size_bytes,
                "version": artifact.version,
            }
        )
    return entries


def session_summary(principal: Principal, session_id: str) -> dict[str, Any]:
    session = session_selectors.session_get(principal=principal, session_id=session_id)
    return {**SessionResponse(session).data, "files": file_entries(session)}


def content_block(ref: FileRef, data: bytes) -> dict[str, str]:
    """Text when the type is textual and the bytes decode, else base64."""
    if ref.textual:
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"blob": base64.b64encode(data).decode()}
