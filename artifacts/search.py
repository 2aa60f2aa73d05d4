"""Search over indexed chunks: one selector, lexical on either database, hybrid with the
optional semantic model.

Lexical: PostgreSQL full-text search (`tsvector` with a GIN index, `ts_rank_cd`, `ts_headline`)
or SQLite FTS5 (`bm25`, `snippet`). Each word of the query brings its newest matching chunks
(all of them for a word that is not common; see `_lexical`); those chunks are scored against
any of the words, and artifacts are ranked by how many of the words they contain, then by
their best chunk's score. With the semantic model, lexical and vector rankings are fused by
reciprocal rank (k = 60).
"""

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from artifacts import semantic
from artifacts.models import Artifact, ArtifactChunk
from artifacts.selectors import LIST_RELATED, artifact_list
from sessions_app.models import Namespace

MAX_TERMS = 32
RRF_K = 60
# Vector candidates fetched per wanted result, so that several chunks of one artifact do not
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
    total_exact: bool
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


@dataclass
class _Lexical:
    ranking: list[tuple[int, int, float]]  # (chunk id, artifact id, score), one per artifact
    total: int
    exact: bool


def _words(terms: list[str]) -> list[str]:
    """The query's distinct words as the full-text engine matches them: on PostgreSQL each
    word's tsquery (English stemming; stop words, which match nothing, dropped), on SQLite the
    quoted word (FTS5's porter tokenizer stems it)."""
    if connection.vendor != "postgresql":
        return list(dict.fromkeys(f'"{term}"' for term in terms))
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT to_tsquery('english', t)::text FROM unnest(%s::text[])
               WITH ORDINALITY AS u(t, n) ORDER BY n""",
            [terms],
        )
        return list(dict.fromkeys(q for (q,) in cursor.fetchall() if q))


def _windows(
    words: list[str], namespace: Namespace, eligible: QuerySet[Artifact], per_word: int
) -> dict[int, list[int]]:
    """For each word, the ids of the newest `per_word` eligible chunks that contain it: an
    index range scan that stops early for a common word, a bitmap scan of all of its few
    matches for a rare one."""
    eligible_sql, eligible_params = eligible.values("pk").query.sql_with_params()
    if connection.vendor == "postgresql":
        part = f"""(SELECT %s, c.id FROM artifacts_artifactchunk c
                    WHERE c.namespace_id = %s AND c.search_vector @@ %s::tsquery
                      AND c.artifact_id IN ({eligible_sql})
                    ORDER BY c.id DESC LIMIT %s)"""
    else:
        part = f"""SELECT * FROM (
                    SELECT %s, c.id FROM artifacts_chunk_fts
                    JOIN artifacts_artifactchunk c ON c.id = artifacts_chunk_fts.rowid
                    WHERE c.namespace_id = %s AND artifacts_chunk_fts MATCH %s
                      AND c.artifact_id IN ({eligible_sql})
                    ORDER BY c.id DESC LIMIT %s)"""
    params: list[Any] = []
    for index, word in enumerate(words):
        params += [index, namespace.pk, word, *eligible_params, per_word]
    windows: dict[int, list[int]] = {index: [] for index in range(len(words))}
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([part] * len(words)), params)
        for index, chunk_id in cursor.fetchall():
            windows[index].append(chunk_id)
    return windows


def _score(
    words: list[str], windows: dict[int, list[int]], full: set[int]
) -> list[tuple[int, int, float, frozenset[int]]]:
    """[(chunk id, artifact id, score, the words it contains)] for the candidate chunks."""
    candidates = sorted({chunk_id for ids in windows.values() for chunk_id in ids})
    if not candidates:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            any_word = " | ".join(f"({word})" for word in words)
            has_word = ", ".join(["c.search_vector @@ %s::tsquery"] * len(words))
            cursor.execute(
                f"""SELECT c.id, c.artifact_id, ts_rank_cd(c.search_vector, %s::tsquery),
                           {has_word}
                    FROM artifacts_artifactchunk c WHERE c.id = ANY(%s)""",
                [any_word, *words, candidates],
            )
            return [
                (
                    row[0],
                    row[1],
                    float(row[2]),
                    frozenset(i for i, has in enumerate(row[3:]) if has),
                )
                for row in cursor.fetchall()
            ]
        placeholders = ", ".join(["%s"] * len(candidates))
        # A chunk in a word's window has that word; one outside a full window may have it too.
        contains = {index: set(ids) for index, ids in windows.items()}
        for index in full:
            cursor.execute(
                f"""SELECT rowid FROM artifacts_chunk_fts
                    WHERE artifacts_chunk_fts MATCH %s AND rowid IN ({placeholders})""",
                [words[index], *candidates],
            )
            contains[index] = {chunk_id for (chunk_id,) in cursor.fetchall()}
        cursor.execute(
            f"""SELECT c.id, c.artifact_id, -bm25(artifacts_chunk_fts)
                FROM artifacts_chunk_fts
                JOIN artifacts_artifactchunk c ON c.id = artifacts_chunk_fts.rowid
                WHERE artifacts_chunk_fts MATCH %s
                  AND artifacts_chunk_fts.rowid IN ({placeholders})""",
            [" OR ".join(words), *candidates],
        )
        return [
            (
                chunk_id,
                artifact_id,
                float(score),
                frozenset(index for index, ids in contains.items() if chunk_id in ids),
            )
            for chunk_id, artifact_id, score in cursor.fetchall()
        ]


def rank_artifacts(
    scored: list[tuple[int, int, float, frozenset[int]]],
) -> list[tuple[int, int, float]]:
    """One entry per artifact, (chunk id, artifact id, score): artifacts containing more of the
    query's words first (across all their chunks, so every word need not be in one chunk),
    then by the score of their best chunk, then newest first. An artifact's best chunk is the
    one with the most of the words, then the highest score."""
    words: dict[int, frozenset[int]] = {}
    best: dict[int, tuple[int, float, int]] = {}
    for chunk_id, artifact_id, score, has in scored:
        words[artifact_id] = words.get(artifact_id, frozenset()) | has
        key = (len(has), score, chunk_id)
        if artifact_id not in best or key > best[artifact_id]:
            best[artifact_id] = key
    ordered = sorted(best, key=lambda a: (len(words[a]), best[a][1], best[a][2]), reverse=True)
    return [(best[a][2], a, best[a][1]) for a in ordered]


def _lexical(terms: list[str], namespace: Namespace, eligible: QuerySet[Artifact]) -> _Lexical:
    """Rank the newest matches of each word: every match of a word found in at most
    `per_word` chunks, the newest `per_word` of a more common one. That bounds the work of a
    query whatever its words (ranking all of a common word's matches is what made search slow),
    at the price that an old chunk whose only words are common ones may not be seen. The total
    is then a lower bound, and the answer says so."""
    words = _words(terms)
    if not words:
        return _Lexical(ranking=[], total=0, exact=True)
    per_word = max(settings.DEPOT_SEARCH_RANK_WINDOW // len(words), 1)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # These statements take milliseconds; starting parallel workers costs more.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        windows = _windows(words, namespace, eligible, per_word)
        full = {index for index, ids in windows.items() if len(ids) >= per_word}
        ranking = rank_artifacts(_score(words, windows, full))
    return _Lexical(ranking=ranking, total=len(ranking), exact=not full)


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
    lexical = _lexical(terms, namespace, eligible)
    ranking, total, exact = lexical.ranking, lexical.total, lexical.exact
    mode = "lexical"
    if semantic.available():
        mode = "hybrid"
        candidates = limit * CANDIDATES_PER_RESULT
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
    return SearchResult(
        hits=hits,
        total=total,
        total_exact=exact,
        mode=mode,
        combined_context=combined_context(hits),
    )


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
