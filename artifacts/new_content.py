"""What a new artifact version is made of: inline text or staged file bytes (`NewContent`),
the row fields each gives, and the fields a version inherits from the one it replaces. The
writes in artifacts/services.py build every version from these."""

import hashlib
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from artifacts.models import PREVIEW_CHARS
from attachments import storage
from attachments.file_identity import display_name, sniff_mime
from attachments.services import blob_staged

# Fields a new version inherits from the one it replaces.
INHERITED_FIELDS = (
    "namespace_id",
    "session_id",
    "thread_id",
    "name",
    "description",
    "artifact_type",
    "workflow_id",
    "phase_id",
    "tags",
    "keywords",
    "summary",
    "metadata",
    "scope",
    "status",
    "is_primary_deliverable",
    "source",
    "source_execution_id",
    "source_step_id",
    "source_tool",
    "ttl_seconds",
    "expires_at",
    "is_pinned",
    "promoted_to_source_id",
)
# Fields searched along with the content: changing one in place re-indexes the version.
INDEXED_FIELDS = {"name", "description", "summary", "tags", "keywords"}


@dataclass
class NewContent:
    """Inline text or staged file bytes for a new artifact version."""

    text: str | None = None
    content_type: str = "text/markdown"
    staged: storage.StagedBlob | None = None
    file_name: str = ""

    @property
    def size(self) -> int:
        return self.staged.size if self.staged is not None else len((self.text or "").encode())

    @property
    def content_hash(self) -> str:
        if self.staged is not None:
            return f"sha256:{self.staged.sha256}"
        return f"sha256:{hashlib.sha256((self.text or '').encode()).hexdigest()}"


def content_fields(content: NewContent) -> dict[str, Any]:
    """Row fields for `content`; a file's blob is attached by the caller under its lock."""
    if content.staged is not None:
        name = display_name(content.file_name)
        return {
            "content": None,
            "content_type": sniff_mime(content.staged.head, name),
            "file_name": name,
            "content_hash": content.content_hash,
            "size_bytes": content.staged.size,
            "content_text": "",
            "content_preview": "",
        }
    text = content.text or ""
    return {
        "content": text,
        "content_type": content.content_type or "text/markdown",
        "blob": None,
        "file_name": "",
        "content_hash": content.content_hash,
        "size_bytes": len(text.encode()),
        "content_text": text,
        "content_preview": text[:PREVIEW_CHARS],
    }


def staged_content(content: NewContent) -> AbstractContextManager[Any]:
    """`blob_staged` for file content; inline text has no bytes to stage."""
    return blob_staged(content.staged) if content.staged is not None else nullcontext()
