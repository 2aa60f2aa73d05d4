"""How hits are ordered and put together: pure Python over (chunk id, artifact id, score)
rows, the same for every database, so tests can check it without one."""

from dataclasses import dataclass

from django.conf import settings

from artifacts.models import Artifact

RRF_K = 60

# (chunk id, artifact id, score, bit i set when the chunk has word i)
Scored = tuple[int, int, float, int]
# (chunk id, artifact id, score), one per artifact, best first
Ranking = list[tuple[int, int, float]]


@dataclass
class Hit:
    artifact: Artifact
    score: float
    matched_chunk: str
    highlight: str


def rank_artifacts(scored: list[Scored]) -> Ranking:
    """One entry per artifact, (chunk id, artifact id, score): artifacts containing more of the
    query's words first (across all their chunks, so every word need not be in one chunk),
    then by the score of their best chunk, then newest first. An artifact's best chunk is the
    one with the most of the words, then the highest score."""
    words: dict[int, int] = {}
    best: dict[int, tuple[int, float, int]] = {}
    for chunk_id, artifact_id, score, has in scored:
        words[artifact_id] = words.get(artifact_id, 0) | has
        key = (has.bit_count(), score, chunk_id)
        if artifact_id not in best or key > best[artifact_id]:
            best[artifact_id] = key
    ordered = sorted(
        best, key=lambda a: (words[a].bit_count(), best[a][1], best[a][2]), reverse=True
    )
    return [(best[a][2], a, best[a][1]) for a in ordered]


def best_per_artifact(rows: Ranking) -> Ranking:
    """The first (best) row of each artifact, in order."""
    seen: set[int] = set()
    best = []
    for chunk_id, artifact_id, score in rows:
        if artifact_id not in seen:
            seen.add(artifact_id)
            best.append((chunk_id, artifact_id, score))
    return best


def fuse(*rankings: Ranking) -> Ranking:
    """Reciprocal rank fusion of per-artifact rankings; each artifact keeps the chunk from the
    ranking that placed it highest."""
    scores: dict[int, float] = {}
    chunks: dict[int, tuple[int, int]] = {}
    for ranking in rankings:
        for rank, (chunk_id, artifact_id, _) in enumerate(ranking, start=1):
            scores[artifact_id] = scores.get(artifact_id, 0.0) + 1.0 / (RRF_K + rank)
            if artifact_id not in chunks or rank < chunks[artifact_id][1]:
                chunks[artifact_id] = (chunk_id, rank)
    ordered = sorted(scores, key=lambda artifact_id: -scores[artifact_id])
    return [(chunks[a][0], a, scores[a]) for a in ordered]


def combined_context(hits: list[Hit]) -> str:
    """The matched chunks, best first, joined until DEPOT_SEARCH_CONTEXT_CHARS (whole chunks
    only, so the context never ends mid-sentence of a cut chunk)."""
    budget = settings.DEPOT_SEARCH_CONTEXT_CHARS
    parts: list[str] = []
    used = 0
    for hit in hits:
        block = f"[{hit.artifact.name}]\n{hit.matched_chunk}"
        if parts and used + len(block) + 2 > budget:
            break
        parts.append(block[:budget])
        used += len(block) + 2
    return "\n\n".join(parts)
