"""Indexing: text extraction, chunking, optional embeddings, and the lexical index rows.

Runs as background work (artifacts/tasks.py), one artifact version per task. A failure never
reaches a request: it is recorded on the version (`index_status`, `index_error`,
`index_attempts`). One that may pass (storage unreachable) raises `IndexRetry`, and the task
decides whether and when to try again. This module imports no task.
"""

import logging
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from artifacts import semantic
from artifacts.models import PREVIEW_CHARS, Artifact, ArtifactChunk, IndexStatus
from attachments.extraction import ExtractionError, extract_from_storage, extract_from_text
from sessions_app.models import Namespace

logger = logging.getLogger(__name__)


class IndexRetry(Exception):
    """Indexing failed in a way that may pass (storage unreachable); the failure is already
    recorded with `attempts`, and the version still says `pending`."""

    def __init__(self, *, artifact_pk: int, attempts: int, error: str) -> None:
        super().__init__(error)
        self.artifact_pk = artifact_pk
        self.attempts = attempts
        self.error = error


def chunk_text(text: str, *, size: int | None = None, overlap: int | None = None) -> list[str]:
    """Pieces of at most `size` characters, each starting `overlap` characters before the end
    of the previous one, cut at whitespace where there is some."""
    size = size or settings.DEPOT_INDEX_CHUNK_CHARS
    overlap = min(overlap if overlap is not None else settings.DEPOT_INDEX_CHUNK_OVERLAP, size // 2)
    text = text.strip()
    chunks: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            cut = text.rfind(" ", start + size // 2, end)
            end = cut if cut > start else end
        chunks.append(text[start:end].strip())
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return [chunk for chunk in chunks if chunk]


def _header(artifact: Artifact) -> str:
    """What an artifact is called and about, searched along with its content."""
    parts = [
        artifact.name,
        artifact.description,
        artifact.summary,
        " ".join(artifact.tags or []),
        " ".join(artifact.keywords or []),
    ]
    return "\n".join(part for part in parts if part)


def _collection(artifact: Artifact) -> str:
    namespace = artifact.namespace
    return f"{namespace.workspace.organization.slug}/{namespace.workspace.slug}/{namespace.slug}"


def index_failure_record(artifact_pk: int, attempts: int, error: str, *, retry: bool) -> None:
    """Keep a failed attempt on the version: still `pending` when it will be retried."""
    Artifact.objects.filter(pk=artifact_pk).update(
        index_status=IndexStatus.PENDING if retry else IndexStatus.FAILED,
        index_error=error[:2000],
        index_attempts=attempts,
        is_indexed=False,
    )


def artifact_index(*, artifact_pk: int) -> IndexStatus | None:
    """(Re)build one version's chunks. Returns the resulting status, or None if the version
    no longer exists; raises `IndexRetry` when the failure may pass."""
    artifact = (
        Artifact.objects.select_related("blob", "namespace__workspace__organization")
        .filter(pk=artifact_pk)
        .first()
    )
    if artifact is None:
        return None
    attempts = artifact.index_attempts + 1
    try:
        if artifact.blob is not None:
            text = extract_from_storage(
                artifact.blob.storage_key, artifact.content_type, artifact.size_bytes
            )
        else:
            text = extract_from_text(artifact.content or "", artifact.content_type)
    except ExtractionError as error:
        # The file will not read any better next time: record it, keep serving the file.
        index_failure_record(artifact_pk, attempts, str(error), retry=False)
        return IndexStatus.FAILED
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        index_failure_record(artifact_pk, attempts, message, retry=True)
        raise IndexRetry(artifact_pk=artifact_pk, attempts=attempts, error=message) from error

    pieces = chunk_text("\n".join(part for part in (_header(artifact), text) if part))
    use_semantic = semantic.available() and bool(pieces)
    embeddings = semantic.embed(pieces) if use_semantic else [None] * len(pieces)
    with transaction.atomic():
        is_latest = (
            Artifact.objects.select_for_update()
            .filter(pk=artifact_pk)
            .values_list("is_latest", flat=True)
            .first()
        )
        if is_latest is None:
            return None
        ArtifactChunk.objects.filter(artifact_id=artifact_pk).delete()
        # A version replaced before its task ran keeps no chunks (search reads latest only).
        if is_latest:
            ArtifactChunk.objects.bulk_create(
                ArtifactChunk(
                    artifact_id=artifact_pk,
                    namespace_id=artifact.namespace_id,
                    ordinal=ordinal,
                    text=piece,
                    embedding=embedding,
                )
                for ordinal, (piece, embedding) in enumerate(zip(pieces, embeddings, strict=True))
            )
        Artifact.objects.filter(pk=artifact_pk).update(
            content_text=text,
            content_preview=text[:PREVIEW_CHARS],
            index_status=IndexStatus.INDEXED,
            is_indexed=True,
            indexed_at=timezone.now(),
            index_collection=_collection(artifact),
            index_error="",
            index_attempts=attempts,
            chunk_count=len(pieces),
            embedding_model_id=semantic.MODEL_ID if use_semantic else "",
        )
    return IndexStatus.INDEXED


def artifacts_reindex(*, namespace: Namespace) -> Counter[str]:
    """Drop a namespace's chunks and index the latest version of every artifact again, in
    this process. Idempotent. Returns how many versions ended in each status."""
    ArtifactChunk.objects.filter(namespace=namespace).delete()
    latest = (
        Artifact.objects.latest_versions().filter(namespace=namespace).values_list("pk", flat=True)
    )
    counts: Counter[str] = Counter()
    for artifact_pk in latest.iterator():
        try:
            status = artifact_index(artifact_pk=artifact_pk)
        except IndexRetry:
            status = IndexStatus.PENDING
        counts[str(status)] += 1
    return counts
