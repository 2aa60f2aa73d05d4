"""Indexing: text extraction, chunking, optional embeddings, and the lexical index rows.

Runs as background work (artifacts/tasks.py), one artifact version per task. A failure never
reaches a request: it is recorded on the version (`index_status`, `index_error`,
`index_attempts`) and, when it may pass (storage unreachable), retried with backoff.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from artifacts import semantic
from artifacts.models import PREVIEW_CHARS, Artifact, ArtifactChunk, IndexStatus
from attachments.extraction import ExtractionError, extract_from_storage, extract_from_text

logger = logging.getLogger(__name__)


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


def _record_failure(artifact_pk: int, attempts: int, error: str, *, retry: bool) -> None:
    Artifact.objects.filter(pk=artifact_pk).update(
        index_status=IndexStatus.PENDING if retry else IndexStatus.FAILED,
        index_error=error[:2000],
        index_attempts=attempts,
        is_indexed=False,
    )


def artifact_index(*, artifact_pk: int) -> IndexStatus | None:
    """(Re)build one version's chunks. Returns the resulting status, or None if the version
    no longer exists."""
    from artifacts.tasks import index_artifact  # the task module imports this one

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
        _record_failure(artifact_pk, attempts, str(error), retry=False)
        return IndexStatus.FAILED
    except Exception as error:
        retry = attempts < settings.DEPOT_INDEX_MAX_ATTEMPTS
        _record_failure(artifact_pk, attempts, f"{type(error).__name__}: {error}", retry=retry)
        if retry:
            delay = settings.DEPOT_INDEX_RETRY_SECONDS * (2 ** (attempts - 1))
            index_artifact.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
                artifact_pk
            )
            return IndexStatus.PENDING
        return IndexStatus.FAILED

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


def schedule_index(artifact: Artifact) -> None:
    """Queue `artifact` for indexing inside the writer's transaction: the task row commits
    with the write (or not at all), and the worker sees it only after the commit."""
    from artifacts.tasks import index_artifact

    index_artifact.enqueue(artifact.pk)
