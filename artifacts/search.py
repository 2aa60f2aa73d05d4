"""Search over indexed chunks: one selector, lexical on either database, hybrid with the
optional semantic model.

Lexical ranking: PostgreSQL full-text search (`tsvector` GIN index, `ts_rank_cd`,
`ts_headline`) or SQLite FTS5 (`bm25`, `snippet`). Artifacts having every word of the query
come first; when they do not fill the page the words are OR-ed, so an artifact that lacks one
is still found. With the
semantic model, lexical and vector rankings are fused by reciprocal rank (k = 60).
"""

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from artifacts import semantic
from artifacts.models import Artifact, ArtifactChunk
from artifacts.selectors import LIST_RELATED, artifact_list
from sessions_app.models import Namespace

MAX_TERMS = 32
RRF_K = 60
# Candidate chunks fetched per wanted result, so that several chunks of one artifact do not
# leave the page short.
CANDIDATES_PER_RESULT = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class Hit:
    artifact: Artifact
    score: float
    matched_chunk: str
    highlight: str


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    mode: str
    combined_context: str


def query_terms(query: str) -> list[str]:
    return [term.lower() for term in _WORD.findall(query)][:MAX_TERMS]


def _eligible(
    namespace: Namespace, artifact_types: list[str], thread_id: str | None
) -> QuerySet[Artifact]:
    """Latest, unexpired versions in the namespace: the same rule as the lists."""
    return artifact_list(
        namespace=namespace, thread_id=thread_id, artifact_types=artifact_types
    ).order_by()


def _lexical(
    terms: list[str], eligible: QuerySet[Artifact], candidates: int, *, every_word: bool = False
) -> tuple[list[tuple[int, int, float, str]], int]:
    """[(chunk id, artifact id, score, highlight)] best first, and the number of matching
    artifacts."""
    eligible_sql, eligible_params = eligible.values("pk").query.sql_with_params()
    if connection.vendor == "postgresql":
        tsquery = (" & " if every_word else " | ").join(terms)
        match = "c.search_vector @@ to_tsquery('english', %s)"
        ranked_sql = f"""
            SELECT c.id, c.artifact_id,
                   ts_rank_cd(c.search_vector, to_tsquery('english', %s)) AS score
            FROM artifacts_artifactchunk c
            WHERE {match} AND c.artifact_id IN ({eligible_sql})
            ORDER BY score DESC, c.id
            LIMIT %s"""
        ranked_params: list[Any] = [tsquery, tsquery, *eligible_params, candidates]
        count_sql = f"""SELECT COUNT(DISTINCT c.artifact_id) FROM artifacts_artifactchunk c
                        WHERE {match} AND c.artifact_id IN ({eligible_sql})"""
        count_params: list[Any] = [tsquery, *eligible_params]
    else:
        fts_query = (" AND " if every_word else " OR ").join(f'"{term}"' for term in terms)
        ranked_sql = f"""
            SELECT c.id, c.artifact_id, -bm25(artifacts_chunk_fts) AS score
            FROM artifacts_chunk_fts
            JOIN artifacts_artifactchunk c ON c.id = artifacts_chunk_fts.rowid
            WHERE artifacts_chunk_fts MATCH %s AND c.artifact_id IN ({eligible_sql})
            ORDER BY score DESC, c.id
            LIMIT %s"""
        ranked_params = [fts_query, *eligible_params, candidates]
        count_sql = f"""SELECT COUNT(DISTINCT c.artifact_id) FROM artifacts_chunk_fts
                        JOIN artifacts_artifactchunk c ON c.id = artifacts_chunk_fts.rowid
                        WHERE artifacts_chunk_fts MATCH %s AND c.artifact_id IN ({eligible_sql})"""
        count_params = [fts_query, *eligible_params]
    with connection.cursor() as cursor:
        cursor.execute(ranked_sql, ranked_params)
        rows = [
            (chunk_id, artifact_id, float(score), "")
            for chunk_id, artifact_id, score in cursor.fetchall()
        ]
        cursor.execute(count_sql, count_params)
        total = cursor.fetchone()[0]
    return rows, total


def _highlights(terms: list[str], chunk_ids: list[int]) -> dict[int, str]:
    """A short excerpt around the matched words of each winning chunk."""
    if not chunk_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(chunk_ids))
    if connection.vendor == "postgresql":
        sql = f"""SELECT id, ts_headline('english', text, to_tsquery('english', %s),
                                       'MaxWords=35, MinWords=15, MaxFragments=2')
                  FROM artifacts_artifactchunk WHERE id IN ({placeholders})"""
        params: list[Any] = [" | ".join(terms), *chunk_ids]
    else:
        sql = f"""SELECT rowid, snippet(artifacts_chunk_fts, 0, '<b>', '</b>', ' … ', 32)
                  FROM artifacts_chunk_fts
                  WHERE artifacts_chunk_fts MATCH %s AND rowid IN ({placeholders})"""
        params = [" OR ".join(f'"{term}"' for term in terms), *chunk_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _vector(
    query: str, eligible: QuerySet[Artifact], candidates: int
) -> list[tuple[int, int, float, str]]:
    import numpy as np

    rows = list(
        ArtifactChunk.objects.filter(artifact__in=eligible, embedding__isnull=False).values_list(
            "id", "artifact_id", "embedding"
        )
    )
    if not rows:
        return []
    matrix = np.frombuffer(
        b"".join(bytes(row[2] or b"") for row in rows), dtype=np.float32
    ).reshape(len(rows), -1)
    scores = matrix @ semantic.embed_query(query)
    order = np.argsort(-scores)[:candidates]
    return [(rows[i][0], rows[i][1], float(scores[i]), "") for i in order]


def _best_per_artifact(rows: list[tuple[int, int, float, str]]) -> list[tuple[int, int, float]]:
    seen: set[int] = set()
    best = []
    for chunk_id, artifact_id, score, _ in rows:
        if artifact_id not in seen:
            seen.add(artifact_id)
            best.append((chunk_id, artifact_id, score))
    return best


def every_word_first(
    every_word: list[tuple[int, int, float]], any_word: list[tuple[int, int, float]]
) -> list[tuple[int, int, float]]:
    """The every-word hits on top, then the page filled with any-word hits not already in."""
    found = {artifact_id for _, artifact_id, _ in every_word}
    return every_word + [hit for hit in any_word if hit[1] not in found]


def _fuse(*rankings: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
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


def artifact_search(
    *,
    namespace: Namespace,
    query: str,
    limit: int,
    artifact_types: list[str] | None = None,
    thread_id: str | None = None,
) -> SearchResult:
    terms = query_terms(query)
    eligible = _eligible(namespace, artifact_types or [], thread_id)
    candidates = limit * CANDIDATES_PER_RESULT
    # Artifacts with every word first; only when they do not fill the page, any word. Common
    # words OR-ed together match nearly everything, which is slow to rank and count.
    lexical_rows, total = _lexical(terms, eligible, candidates, every_word=len(terms) > 1)
    ranking = _best_per_artifact(lexical_rows)
    if len(terms) > 1 and len(ranking) < limit:
        lexical_rows, total = _lexical(terms, eligible, candidates)
        ranking = every_word_first(ranking, _best_per_artifact(lexical_rows))
    mode = "lexical"
    if semantic.available():
        mode = "hybrid"
        vector_ranking = _best_per_artifact(_vector(query, eligible, candidates))
        ranking = _fuse(ranking, vector_ranking)
        total = max(total, len(ranking))
    ranking = ranking[:limit]
    artifacts = Artifact.objects.select_related(*LIST_RELATED).in_bulk([a for _, a, _ in ranking])
    chunks = ArtifactChunk.objects.in_bulk([c for c, _, _ in ranking])
    highlights = _highlights(terms, [c for c, _, _ in ranking])
    hits = [
        Hit(
            artifact=artifacts[artifact_id],
            score=round(score, 6),
            matched_chunk=chunks[chunk_id].text,
            highlight=highlights.get(chunk_id, ""),
        )
        for chunk_id, artifact_id, score in ranking
        if artifact_id in artifacts and chunk_id in chunks
    ]
    return SearchResult(hits=hits, total=total, mode=mode, combined_context=combined_context(hits))


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
