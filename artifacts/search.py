"""Search over indexed chunks: one selector, lexical on either database, hybrid with the
optional semantic model.

Lexical: PostgreSQL full-text search (`tsvector` with a GIN index, `ts_rank_cd`, `ts_headline`)
or SQLite FTS5 (`bm25`, `snippet`). Each word of the query brings its newest matching chunks
(all of them for a word that is not common; see `_lexical`); those chunks are scored against
any of the words, and artifacts are ranked by how many of the words they contain, then by
their best chunk's score. With the semantic model, lexical and vector rankings are fused by
reciprocal rank (k = 60).
"""

import itertools
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from artifacts import semantic
from artifacts.models import Artifact, ArtifactChunk
from artifacts.selectors import artifact_list, with_list_related
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
    words: list[str]  # as `_words` gives them
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


_LEXEME = re.compile(r"^'((?:[^']|'')+)'$")
STATS_SECONDS = 600.0
_stats: dict[str, Any] = {"at": -STATS_SECONDS}

# (chunk id, artifact id, score, bit i set when the chunk has word i)
Scored = tuple[int, int, float, int]


def _statistics() -> dict[str, Any]:
    """PostgreSQL's own statistics of the chunk table, gathered by ANALYZE (which autovacuum
    runs): the share of chunks containing each of the most common lexemes, each common
    namespace's share of the chunks, and about how many chunks there are. Read at most every
    STATS_SECONDS per process."""
    now = time.monotonic()
    if now - _stats["at"] >= STATS_SECONDS:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT c.reltuples,
                          w.most_common_elems::text::text[], w.most_common_elem_freqs,
                          n.most_common_vals::text::bigint[], n.most_common_freqs
                   FROM pg_class c
                   LEFT JOIN pg_stats w ON w.schemaname = current_schema()
                    AND w.tablename = c.relname AND w.attname = 'search_vector'
                   LEFT JOIN pg_stats n ON n.schemaname = current_schema()
                    AND n.tablename = c.relname AND n.attname = 'namespace_id'
                   WHERE c.oid = 'artifacts_artifactchunk'::regclass"""
            )
            chunks, lexemes, lexeme_shares, namespaces, namespace_shares = cursor.fetchone()
        _stats.update(
            at=now,
            chunks=max(float(chunks or 0), 0.0),
            lexemes=dict(zip(lexemes or [], lexeme_shares or [], strict=False)),
            namespaces=dict(zip(namespaces or [], namespace_shares or [], strict=False)),
        )
    return _stats


def _floors(words: list[str], namespace: Namespace, per_word: int) -> dict[int, int]:
    """For each common word, an id above which the namespace's newest chunks should hold about
    `per_word` of its matches, going by the statistics' shares: its window is then read from
    that id range, never from all of its matches. Rare words, and namespaces too small to be
    in the statistics, get none (all of their matches are few)."""
    stats = _statistics()
    namespace_share = stats["namespaces"].get(namespace.pk, 0.0)
    spans: dict[int, float] = {}
    for index, word in enumerate(words):
        lexeme = _LEXEME.match(word)
        share = stats["lexemes"].get(lexeme.group(1).replace("''", "'"), 0.0) if lexeme else 0.0
        if namespace_share and share * stats["chunks"] * namespace_share > 2 * per_word:
            # Chunk ids are shared by all namespaces: this one holds about its share of them.
            spans[index] = per_word / share / namespace_share
    if not spans:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(id) FROM artifacts_artifactchunk WHERE namespace_id = %s", [namespace.pk]
        )
        newest = cursor.fetchone()[0] or 0
    return {index: int(newest - span) for index, span in spans.items() if newest - span > 0}


def _rank_postgres(
    words: list[str], namespace: Namespace, eligible: QuerySet[Artifact], per_word: int
) -> tuple[list[Scored], set[int]]:
    """One statement: each word's window (a rare word's matches all come from the GIN index; a
    common word's from the GIN index ANDed with the id range `_floors` gives), then each
    window chunk scored against any word, with a bit per word it has. The windows are ordered
    by `c.id + 0`, which no index provides, so that the planner does not walk the newest
    chunks backwards testing each: for a word in 1.7% of the chunks that read 60 chunks per
    match, the slowest case there was."""
    eligible_sql, eligible_params = eligible.values("pk").query.sql_with_params()
    floors = _floors(words, namespace, per_word)
    windows: list[str] = []
    params: list[Any] = []
    for index, word in enumerate(words):
        floor = "AND c.id >= %s" if index in floors else ""
        windows.append(
            f"""(SELECT %s AS word, c.id FROM artifacts_artifactchunk c
                 WHERE c.namespace_id = %s {floor} AND c.search_vector @@ %s::tsquery
                   AND c.artifact_id IN ({eligible_sql})
                 ORDER BY c.id + 0 DESC LIMIT %s)"""
        )
        params += [index, namespace.pk, *([floors[index]] if index in floors else [])]
        params += [word, *eligible_params, per_word]
    has_words = " + ".join(
        f"(CASE WHEN c.search_vector @@ %s::tsquery THEN {1 << i} ELSE 0 END)"
        for i in range(len(words))
    )
    any_word = " | ".join(f"({word})" for word in words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH w AS MATERIALIZED ({" UNION ALL ".join(windows)})
                SELECT w.word, c.id, c.artifact_id,
                       ts_rank_cd(c.search_vector, %s::tsquery), {has_words}
                FROM w JOIN artifacts_artifactchunk c ON c.id = w.id""",
            [*params, any_word, *words],
        )
        rows = cursor.fetchall()
    found = [0] * len(words)
    scored: dict[int, Scored] = {}
    for word, chunk_id, artifact_id, score, has in rows:
        found[word] += 1
        scored[chunk_id] = (chunk_id, artifact_id, float(score), has)
    partial = {i for i, count in enumerate(found) if count >= per_word or i in floors}
    return list(scored.values()), partial


def _rank_sqlite(
    words: list[str], namespace: Namespace, eligible: QuerySet[Artifact], per_word: int
) -> tuple[list[Scored], set[int]]:
    """Each word's newest matches from FTS5 (which reads rowids newest first), then bm25 over
    them for any word."""
    eligible_sql, eligible_params = eligible.values("pk").query.sql_with_params()
    window = f"""SELECT * FROM (
        SELECT %s, c.id FROM artifacts_chunk_fts
        JOIN artifacts_artifactchunk c ON c.id = artifacts_chunk_fts.rowid
        WHERE c.namespace_id = %s AND artifacts_chunk_fts MATCH %s
          AND c.artifact_id IN ({eligible_sql})
        ORDER BY c.id DESC LIMIT %s)"""
    params: list[Any] = []
    for index, word in enumerate(words):
        params += [index, namespace.pk, word, *eligible_params, per_word]
    has: dict[int, int] = {}
    found = [0] * len(words)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([window] * len(words)), params)
        for index, chunk_id in cursor.fetchall():
            found[index] += 1
            has[chunk_id] = has.get(chunk_id, 0) | 1 << index
        partial = {i for i, count in enumerate(found) if count >= per_word}
        if not has:
            return [], partial
        placeholders = ", ".join(["%s"] * len(has))
        # A chunk outside a partial window may have that word too.
        for index in partial:
            cursor.execute(
                f"""SELECT rowid FROM artifacts_chunk_fts
                    WHERE artifacts_chunk_fts MATCH %s AND rowid IN ({placeholders})""",
                [words[index], *has],
            )
            for (chunk_id,) in cursor.fetchall():
                has[chunk_id] |= 1 << index
        cursor.execute(
            f"""SELECT c.id, c.artifact_id, -bm25(artifacts_chunk_fts)
                FROM artifacts_chunk_fts
                JOIN artifacts_artifactchunk c ON c.id = artifacts_chunk_fts.rowid
                WHERE artifacts_chunk_fts MATCH %s
                  AND artifacts_chunk_fts.rowid IN ({placeholders})""",
            [" OR ".join(words), *has],
        )
        rows = cursor.fetchall()
    return [(chunk_id, a, float(score), has[chunk_id]) for chunk_id, a, score in rows], partial


def rank_artifacts(scored: list[Scored]) -> list[tuple[int, int, float]]:
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


def _lexical(terms: list[str], namespace: Namespace, eligible: QuerySet[Artifact]) -> _Lexical:
    """Rank the newest matches of each word: every match of a word found in at most
    `per_word` chunks, about the newest `per_word` of a more common one. That bounds the work
    of a query whatever its words (ranking all of a common word's matches is what made search
    slow), at the price that an old chunk whose only words are common ones may not be seen.
    The total is then a lower bound, and the answer says so."""
    words = _words(terms)
    if not words:
        return _Lexical(ranking=[], words=[], total=0, exact=True)
    per_word = max(settings.DEPOT_SEARCH_RANK_WINDOW // len(words), 1)
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # The statement takes milliseconds; starting parallel workers costs more.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            scored, partial = _rank_postgres(words, namespace, eligible, per_word)
    else:
        scored, partial = _rank_sqlite(words, namespace, eligible, per_word)
    ranking = rank_artifacts(scored)
    return _Lexical(ranking=ranking, words=words, total=len(ranking), exact=not partial)


def _chunks(words: list[str], chunk_ids: list[int]) -> dict[int, tuple[str, str]]:
    """{chunk id: (text, a short excerpt around the matched words)} of the winning chunks;
    `words` as `_words` gives them."""
    if not chunk_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(chunk_ids))
    if connection.vendor == "postgresql":
        sql = f"""SELECT id, text, ts_headline('english', text, %s::tsquery,
                                             'MaxWords=35, MinWords=15, MaxFragments=2')
                  FROM artifacts_artifactchunk WHERE id IN ({placeholders})"""
        params: list[Any] = [" | ".join(f"({word})" for word in words), *chunk_ids]
    else:
        sql = f"""SELECT c.id, c.text, coalesce(h.snippet, '') FROM artifacts_artifactchunk c
                  LEFT JOIN (
                      SELECT rowid, snippet(artifacts_chunk_fts, 0, '<b>', '</b>', ' … ', 32)
                             AS snippet
                      FROM artifacts_chunk_fts WHERE artifacts_chunk_fts MATCH %s
                  ) h ON h.rowid = c.id
                  WHERE c.id IN ({placeholders})"""
        params = [" OR ".join(words), *chunk_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {chunk_id: (text, highlight) for chunk_id, text, highlight in cursor.fetchall()}


# Embeddings read per batch by the vector ranking: its memory stays this many rows (384 float32
# each, about 1.5 KiB) plus the best candidates, however many chunks the namespace has.
VECTOR_BATCH = 2000


def _vector(
    query: str, eligible: QuerySet[Artifact], candidates: int
) -> list[tuple[int, int, float]]:
    """(chunk id, artifact id, similarity) of the `candidates` chunks most similar to the
    query, best first. Reads the namespace's
    embeddings in batches (a server-side cursor on PostgreSQL), keeping only the best so far."""
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


def _best_per_artifact(rows: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    seen: set[int] = set()
    best = []
    for chunk_id, artifact_id, score in rows:
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
    artifacts = with_list_related(Artifact.objects.order_by()).in_bulk([a for _, a, _ in ranking])
    chunks = _chunks(lexical.words, [c for c, _, _ in ranking])
    hits = [
        Hit(
            artifact=artifacts[artifact_id],
            score=round(score, 6),
            matched_chunk=chunks[chunk_id][0],
            highlight=chunks[chunk_id][1],
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
