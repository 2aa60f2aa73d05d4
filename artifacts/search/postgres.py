"""Lexical search on PostgreSQL: full-text search over a `tsvector` with a GIN index
(`ts_rank_cd` to score, `ts_headline` for excerpts). All of Depot's PostgreSQL search SQL."""

import re
import time
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from artifacts.models import Artifact
from artifacts.search.ranking import Scored
from sessions_app.models import Namespace

_LEXEME = re.compile(r"^'((?:[^']|'')+)'$")
STATS_SECONDS = 600.0
_stats: dict[str, Any] = {"at": -STATS_SECONDS}


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


class PostgresLexical:
    def words(self, terms: list[str]) -> list[str]:
        """Each distinct word's tsquery (English stemming; stop words, which match nothing,
        dropped)."""
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT to_tsquery('english', t)::text FROM unnest(%s::text[])
                   WITH ORDINALITY AS u(t, n) ORDER BY n""",
                [terms],
            )
            return list(dict.fromkeys(q for (q,) in cursor.fetchall() if q))

    def rank(
        self, words: list[str], namespace: Namespace, eligible: QuerySet[Artifact], per_word: int
    ) -> tuple[list[Scored], set[int]]:
        """One statement: each word's window (a rare word's matches all come from the GIN
        index; a common word's from the GIN index ANDed with the id range `_floors` gives),
        then each window chunk scored against any word, with a bit per word it has. The
        windows are ordered by `c.id + 0`, which no index provides, so that the planner does
        not walk the newest chunks backwards testing each: for a word in 1.7% of the chunks
        that read 60 chunks per match, the slowest case there was."""
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
        with transaction.atomic(), connection.cursor() as cursor:
            # The statement takes milliseconds; starting parallel workers costs more.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
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

    def excerpts(self, words: list[str], chunk_ids: list[int]) -> dict[int, tuple[str, str]]:
        placeholders = ", ".join(["%s"] * len(chunk_ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT id, text, ts_headline('english', text, %s::tsquery,
                                                 'MaxWords=35, MinWords=15, MaxFragments=2')
                    FROM artifacts_artifactchunk WHERE id IN ({placeholders})""",
                [" | ".join(f"({word})" for word in words), *chunk_ids],
            )
            return {chunk_id: (text, excerpt) for chunk_id, text, excerpt in cursor.fetchall()}
