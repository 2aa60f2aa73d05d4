"""The semantic half of hybrid search: chunks ranked by similarity to the query's embedding."""

import itertools

from django.db.models import QuerySet

from artifacts import semantic
from artifacts.models import Artifact, ArtifactChunk
from artifacts.search.ranking import Ranking

# Embeddings read per batch: memory stays this many rows (384 float32 each, about 1.5 KiB)
# plus the best candidates, however many chunks the namespace has.
VECTOR_BATCH = 2000


def vector_ranking(query: str, eligible: QuerySet[Artifact], candidates: int) -> Ranking:
    """(chunk id, artifact id, similarity) of the `candidates` chunks most similar to the
    query, best first. Reads the namespace's embeddings in batches (a server-side cursor on
    PostgreSQL), keeping only the best so far."""
    import numpy as np

    target = semantic.embed_query(query)
    best_ids = np.empty((0, 2), dtype=np.int64)
    best_scores = np.empty(0, dtype=np.float32)
    rows = (
        ArtifactChunk.objects.filter(artifact__in=eligible, embedding__isnull=False)
        .order_by()
        .values_list("id", "artifact_id", "embedding")
        .iterator(chunk_size=VECTOR_BATCH)
    )
    while batch := list(itertools.islice(rows, VECTOR_BATCH)):
        matrix = np.frombuffer(
            b"".join(bytes(embedding or b"") for _, _, embedding in batch), dtype=np.float32
        ).reshape(len(batch), -1)
        best_scores = np.concatenate([best_scores, matrix @ target])
        best_ids = np.concatenate(
            [best_ids, np.array([(c, a) for c, a, _ in batch], dtype=np.int64)]
        )
        if len(best_scores) > candidates:
            keep = np.argpartition(-best_scores, candidates)[:candidates]
            best_scores, best_ids = best_scores[keep], best_ids[keep]
    order = np.argsort(-best_scores, kind="stable")
    return [(int(best_ids[i][0]), int(best_ids[i][1]), float(best_scores[i])) for i in order]
