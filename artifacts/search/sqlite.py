"""Lexical search on SQLite: FTS5 with the porter tokenizer (`bm25` to score, `snippet` for
excerpts). All of Depot's SQLite search SQL."""

from typing import Any

from django.db import connection
from django.db.models import QuerySet

from artifacts.models import Artifact
from artifacts.search.ranking import Scored
from sessions_app.models import Namespace


class SqliteLexical:
    def words(self, terms: list[str]) -> list[str]:
        """Each distinct word quoted (FTS5's porter tokenizer stems it)."""
        return list(dict.fromkeys(f'"{term}"' for term in terms))

    def rank(
        self, words: list[str], namespace: Namespace, eligible: QuerySet[Artifact], per_word: int
    ) -> tuple[list[Scored], set[int]]:
        """Each word's newest matches from FTS5 (which reads rowids newest first), then bm25
        over them for any word."""
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

    def excerpts(self, words: list[str], chunk_ids: list[int]) -> dict[int, tuple[str, str]]:
        placeholders = ", ".join(["%s"] * len(chunk_ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT c.id, c.text, coalesce(h.snippet, '') FROM artifacts_artifactchunk c
                    LEFT JOIN (
                        SELECT rowid, snippet(artifacts_chunk_fts, 0, '<b>', '</b>', ' … ', 32)
                               AS snippet
                        FROM artifacts_chunk_fts WHERE artifacts_chunk_fts MATCH %s
                    ) h ON h.rowid = c.id
                    WHERE c.id IN ({placeholders})""",
                [" OR ".join(words), *chunk_ids],
            )
            return {chunk_id: (text, excerpt) for chunk_id, text, excerpt in cursor.fetchall()}
