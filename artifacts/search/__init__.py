"""Search over indexed chunks: one selector, lexical on either database, hybrid with the
optional semantic model.

Lexical search has one backend per database, each keeping its dialect whole in one module
(the idea of Django's `connection.ops`): `postgres.py` (full-text search, `ts_rank_cd`,
`ts_headline`) and `sqlite.py` (FTS5, `bm25`, `snippet`). Each word of the query brings its
newest matching chunks (all of them for a word that is not common; see `_lexical`); those
chunks are scored against any of the words, and artifacts are ranked by how many of the words
they contain, then by their best chunk's score (`ranking.py`, pure Python). With the semantic
model, lexical and vector rankings (`vector.py`) are fused by reciprocal rank (k = 60).
"""

import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from artifacts import semantic
from artifacts.models import Artifact
from artifacts.search.postgres import PostgresLexical
from artifacts.search.ranking import (
    Hit,
    Ranking,
    Scored,
    best_per_artifact,
    combined_context,
    fuse,
    rank_artifacts,
)
from artifacts.search.sqlite import SqliteLexical
from artifacts.search.vector import vector_ranking
from artifacts.selectors import artifact_list, with_list_related
from sessions_app.models import Namespace

__all__ = ["Hit", "SearchResult", "artifact_search", "combined_context", "query_terms"]

MAX_TERMS = 32
# Vector candidates fetched per wanted result, so that several chunks of one artifact do not
# leave the page short.
CANDIDATES_PER_RESULT = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


class LexicalBackend(Protocol):
    def words(self, terms: list[str]) -> list[str]:
        """The query's distinct words as this engine matches them."""
        ...

    def rank(
        self, words: list[str], namespace: Namespace, eligible: QuerySet[Artifact], per_word: int
    ) -> tuple[list[Scored], set[int]]:
        """Scored chunks of each word's window, and the words whose window was full."""
        ...

    def excerpts(self, words: list[str], chunk_ids: list[int]) -> dict[int, tuple[str, str]]:
        """{chunk id: (text, a short excerpt around the matched words)}."""
        ...


def lexical_backend() -> LexicalBackend:
    """The one place that asks which database this is."""
    return PostgresLexical() if connection.vendor == "postgresql" else SqliteLexical()


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int
    total_exact: bool
    mode: str
    combined_context: str


@dataclass
class _Lexical:
    ranking: Ranking
    words: list[str]  # as the backend's `words` gives them
    total: int
    exact: bool


def query_terms(query: str) -> list[str]:
    return [term.lower() for term in _WORD.findall(query)][:MAX_TERMS]


def eligible_artifacts(
    namespace: Namespace, artifact_types: list[str], thread_id: str | None
) -> QuerySet[Artifact]:
    """Latest, unexpired versions in the namespace: the same rule as the lists."""
    return artifact_list(
        namespace=namespace, thread_id=thread_id, artifact_types=artifact_types
    ).order_by()


def _lexical(
    backend: LexicalBackend, terms: list[str], namespace: Namespace, eligible: QuerySet[Artifact]
) -> _Lexical:
    """Rank the newest matches of each word: every match of a word found in at most
    `per_word` chunks, about the newest `per_word` of a more common one. That bounds the work
    of a query whatever its words (ranking all of a common word's matches is what made search
    slow), at the price that an old chunk whose only words are common ones may not be seen.
    The total is then a lower bound, and the answer says so."""
    words = backend.words(terms)
    if not words:
        return _Lexical(ranking=[], words=[], total=0, exact=True)
    per_word = max(settings.DEPOT_SEARCH_RANK_WINDOW // len(words), 1)
    scored, partial = backend.rank(words, namespace, eligible, per_word)
    ranking = rank_artifacts(scored)
    return _Lexical(ranking=ranking, words=words, total=len(ranking), exact=not partial)


def artifact_search(
    *,
    namespace: Namespace,
    query: str,
    limit: int,
    artifact_types: list[str] | None = None,
    thread_id: str | None = None,
) -> SearchResult:
    backend = lexical_backend()
    eligible = eligible_artifacts(namespace, artifact_types or [], thread_id)
    lexical = _lexical(backend, query_terms(query), namespace, eligible)
    ranking, total, exact = lexical.ranking, lexical.total, lexical.exact
    mode = "lexical"
    if semantic.available():
        mode = "hybrid"
        candidates = limit * CANDIDATES_PER_RESULT
        ranking = fuse(ranking, best_per_artifact(vector_ranking(query, eligible, candidates)))
        total = max(total, len(ranking))
    ranking = ranking[:limit]
    artifacts = with_list_related(Artifact.objects.order_by()).in_bulk([a for _, a, _ in ranking])
    chunk_ids = [c for c, _, _ in ranking]
    chunks = backend.excerpts(lexical.words, chunk_ids) if chunk_ids else {}
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
