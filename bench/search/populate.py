"""The search benchmark's Django side, run by bench.common.worker against the benchmark
database: `populate` (bulk rows already indexed), `verify` (the real artifact_index on a
sample must change nothing), `explain` (each query's SQL and plans) and `index` (indexing
throughput, in a loop and through the task queue).

Rows go in by bulk_create, so the populate code builds them itself; where a shape is the
product's, it says whose (bench/README.md, "Row shapes the bench restates"):
- a version-1 row is `bench.common.orm.version1_artifact` (the service's content columns;
  id = root_id, version 1, is_latest restate what `artifact_create` leaves);
- the text comes from `attachments.extraction.extract_from_text` and the chunks from
  `artifacts.indexing.chunk_text` over `indexing._header` (their join restates
  `artifact_index`);
- the index columns and the ArtifactChunk rows restate what `artifact_index` writes (`verify`
  checks on a sample that they are identical).
"""

from __future__ import annotations

import collections
import random
import re
import statistics
import sys
import time
from typing import Any

from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from artifacts import indexing, semantic, services
from artifacts.indexing import artifact_index
from artifacts.models import PREVIEW_CHARS, Artifact, ArtifactChunk, IndexStatus
from artifacts.search import artifact_search
from attachments.extraction import extract_from_text
from bench.common.orm import db_ms, explain_slow, new_ids, statements, version1_artifact
from bench.common.stats import latency_summary
from bench.search.corpus import ARTIFACT_TYPES, MARKER_WORDS, TextGen
from sessions_app.models import Namespace

MiB = 1024 * 1024
# The artifact columns artifact_index writes, compared before and after by `verify`.
INDEX_FIELDS = (
    "content_text",
    "content_preview",
    "index_status",
    "is_indexed",
    "index_collection",
    "index_error",
    "chunk_count",
    "embedding_model_id",
)


def _namespace(params: dict[str, Any]) -> Namespace:
    return Namespace.objects.select_related("workspace__organization").get(
        workspace__organization__slug=params["org"], workspace__slug=params["ws"], slug="default"
    )


def _pieces(artifact: Artifact, text: str) -> list[str]:
    """The chunks artifact_index makes of an artifact's header and text."""
    return indexing.chunk_text("\n".join(p for p in (indexing._header(artifact), text) if p))


def _bench_row(pk: int, number: int, namespace: Namespace, gen: TextGen, label: str) -> tuple:
    """A version-1 row as artifacts.services.artifact_create writes it (index state: pending,
    no chunks), and the topic of its text."""
    title, text, topic = gen.document(f"#{number}")
    artifact_type = ARTIFACT_TYPES[number % len(ARTIFACT_TYPES)]
    row = version1_artifact(
        pk,
        text=text,
        namespace=namespace,
        name=f"{title} {number}",
        artifact_type=artifact_type,
        workflow_id=f"wf-{number % 97}",
        tags=[topic, artifact_type],
        created_by=label,
    )
    return row, topic


def populate(params: dict[str, Any]) -> dict[str, Any]:
    """Bulk-inserts `artifacts` version-1 rows as artifact_create writes them, already in the
    state artifacts.indexing.artifact_index leaves them: chunks from indexing.chunk_text over
    the same header + extracted text, bulk-created (the database trigger fills search_vector),
    and the artifact's index fields. Counts the documents holding each marker word."""
    namespace = _namespace(params)
    collection = indexing._collection(Artifact(namespace=namespace))
    gen = TextGen(params["seed"])
    total, batch = params["artifacts"], params["batch"]
    marker_re = re.compile(r"\b(" + "|".join(MARKER_WORDS) + r")\b", re.IGNORECASE)
    marker_docs: collections.Counter[str] = collections.Counter()
    topics: collections.Counter[str] = collections.Counter()
    created = chunks_total = text_bytes = 0
    gen_seconds = db_seconds = 0.0
    started = time.perf_counter()
    while created < total:
        count = min(batch, total - created)
        began = time.perf_counter()
        rows: list[Artifact] = []
        chunks: list[ArtifactChunk] = []
        now = timezone.now()
        for pk in new_ids(count):
            row, topic = _bench_row(pk, created + len(rows) + 1, namespace, gen, params["label"])
            topics[topic] += 1
            marker_docs.update({w.lower() for w in marker_re.findall(row.content)})
            text_bytes += row.size_bytes
            # What artifact_index computes for inline text, and the fields it writes.
            text = extract_from_text(row.content or "", row.content_type)
            pieces = _pieces(row, text)
            row.content_text = text
            row.content_preview = text[:PREVIEW_CHARS]
            row.index_status = IndexStatus.INDEXED
            row.is_indexed = True
            row.indexed_at = now
            row.index_collection = collection
            row.index_error = ""
            row.index_attempts = 1
            row.chunk_count = len(pieces)
            row.embedding_model_id = ""
            rows.append(row)
            chunks += [
                ArtifactChunk(
                    artifact_id=pk, namespace_id=namespace.pk, ordinal=i, text=piece, embedding=None
                )
                for i, piece in enumerate(pieces)
            ]
        gen_seconds += time.perf_counter() - began
        began = time.perf_counter()
        with transaction.atomic():
            Artifact.objects.bulk_create(rows)
            ArtifactChunk.objects.bulk_create(chunks, batch_size=2000)
        db_seconds += time.perf_counter() - began
        created += count
        chunks_total += len(chunks)
        if created % (batch * 10) == 0 or created == total:
            print(
                f"  inserted {created}/{total} artifacts, {chunks_total} chunks "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    seconds = time.perf_counter() - started
    return {
        "artifacts": created,
        "chunks": chunks_total,
        "chunks_per_artifact": round(chunks_total / max(created, 1), 2),
        "text_mb": round(text_bytes / 1e6, 1),
        "seconds": round(seconds, 2),
        "text_and_chunking_seconds": round(gen_seconds, 2),
        "insert_seconds": round(db_seconds, 2),
        "artifacts_per_s": round(created / seconds, 1),
        "insert_artifacts_per_s": round(created / db_seconds, 1) if db_seconds else None,
        "marker_docs": dict(sorted(marker_docs.items())),
        "topics": dict(sorted(topics.items())),
        "namespace_pk": namespace.pk,
    }


def _chunk_state(pk: int) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ordinal, text, search_vector::text, namespace_id, embedding IS NULL "
            "FROM artifacts_artifactchunk WHERE artifact_id = %s ORDER BY ordinal",
            [pk],
        )
        return cursor.fetchall()


def verify(params: dict[str, Any]) -> dict[str, Any]:
    """Re-indexes a random sample of the bulk rows with the real artifact_index and compares
    chunks (ordinal, text, search_vector) and index fields before and after; then
    VACUUM (ANALYZE) and sizes."""
    namespace = _namespace(params)
    ids = list(Artifact.objects.filter(namespace=namespace).values_list("id", flat=True))
    sample = random.Random(params["seed"]).sample(ids, min(params["sample"], len(ids)))
    mismatches: list[dict[str, Any]] = []
    mismatched = 0
    times = []
    for pk in sample:
        before_chunks = _chunk_state(pk)
        before = Artifact.objects.filter(pk=pk).values(*INDEX_FIELDS).get()
        began = time.perf_counter()
        status = artifact_index(artifact_pk=pk)
        times.append(time.perf_counter() - began)
        after = Artifact.objects.filter(pk=pk).values(*INDEX_FIELDS, "index_attempts").get()
        diffs = [field for field in INDEX_FIELDS if before[field] != after[field]]
        if before_chunks != _chunk_state(pk):
            diffs.append("chunks")
        if str(status) != "indexed":
            diffs.append(f"status={status}")
        if after["index_attempts"] != 2:  # bulk rows say 1; one more run makes 2
            diffs.append(f"index_attempts={after['index_attempts']}")
        mismatched += bool(diffs)
        if diffs and len(mismatches) < 20:
            mismatches.append({"artifact_pk": pk, "fields": diffs})
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    vacuum_seconds = time.perf_counter() - began
    chunk_table = ArtifactChunk._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s), "
            "pg_relation_size('artifacts_chunk_search_idx'), pg_total_relation_size(%s), "
            "pg_database_size(current_database()), "
            "(SELECT count(*) FROM artifacts_artifactchunk), "
            "(SELECT count(*) FROM artifacts_artifactchunk WHERE search_vector IS NULL)",
            [chunk_table, chunk_table, Artifact._meta.db_table],
        )
        chunk_total, chunk_heap, gin, artifact_total, db_size, chunks, no_vector = cursor.fetchone()
    return {
        "sample": len(sample),
        "mismatched": mismatched,
        "mismatches": mismatches,
        "artifact_index_in_sample": latency_summary(times),
        "vacuum_analyze_seconds": round(vacuum_seconds, 2),
        "chunk_table_mib": round(chunk_total / MiB, 1),
        "chunk_heap_mib": round(chunk_heap / MiB, 1),
        "gin_index_mib": round(gin / MiB, 1),
        "artifact_table_mib": round(artifact_total / MiB, 1),
        "database_mib": round(db_size / MiB, 1),
        "chunks": chunks,
        "chunks_without_search_vector": no_vector,
    }


def explain(params: dict[str, Any]) -> dict[str, Any]:
    """artifacts.search.artifact_search for each query inside CaptureQueriesContext (fastest
    of `repeat` runs): statements and their time; EXPLAIN (ANALYZE, BUFFERS) of the slow
    statements of the slowest queries."""
    namespace = _namespace(params)
    out: dict[str, Any] = {}
    for query in params["queries"]:
        runs = []
        for _ in range(params["repeat"]):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                result = artifact_search(namespace=namespace, query=query, limit=10)
            took = time.perf_counter() - began
            queries = captured.captured_queries
            runs.append(
                {
                    "ms": round(1000 * took, 2),
                    "db_ms": db_ms(queries),
                    "statements": statements(queries),
                    "hits": len(result.hits),
                    "total": result.total,
                }
            )
        out[query] = min(runs, key=lambda run: run["ms"])
    slowest = sorted(out, key=lambda q: -out[q]["ms"])[: params["explain_top"]]
    for query in slowest:
        out[query]["plans"] = explain_slow(out[query]["statements"], params["explain_ms"], 1500)
    for query in out:
        for statement in out[query]["statements"]:
            statement["sql"] = statement["sql"][:600]
    return {"queries": out, "explained": slowest}


def _per_s(count: float, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds else None


def index(params: dict[str, Any]) -> dict[str, Any]:
    """Indexing throughput: `artifacts` fresh rows (as artifact_create leaves them, pending)
    through artifacts.indexing.artifact_index one after the other; chunk_text alone over the
    same texts as a baseline; then `via_worker` artifacts made by
    artifacts.services.artifact_create (which enqueues their index task) run by
    `manage.py db_worker --batch`."""
    namespace = _namespace(params)
    gen = TextGen(params["seed"])
    total = params["artifacts"]
    rows: list[Artifact] = []
    for start in range(0, total, 1000):
        ids = new_ids(min(1000, total - start))
        batch = [
            _bench_row(pk, 900_000 + start + i, namespace, gen, params["label"])[0]
            for i, pk in enumerate(ids)
        ]
        with transaction.atomic():
            Artifact.objects.bulk_create(batch)
        rows += batch

    # The semantic model loads on first use: load it off the clock, and say how long it took.
    began = time.perf_counter()
    use_semantic = semantic.available()
    model_load_seconds = time.perf_counter() - began
    if params.get("semantic") and not use_semantic:
        raise RuntimeError("semantic indexing asked for, but semantic.available() is False")

    # Baseline: the pure-Python part (header + chunk_text), no database.
    began = time.perf_counter()
    pieces = [_pieces(row, row.content) for row in rows]
    chunk_seconds = time.perf_counter() - began
    embed_baseline: dict[str, Any] | None = None
    if use_semantic:
        # Baseline: the model alone on the same chunks (one artifact's chunks per call, as
        # artifact_index calls it), no database.
        sample = pieces[: params.get("embed_sample", 50)]
        began = time.perf_counter()
        for chunk_list in sample:
            semantic.embed(chunk_list)
        seconds = time.perf_counter() - began
        sample_chunks = sum(len(p) for p in sample)
        embed_baseline = {
            "artifacts": len(sample),
            "chunks": sample_chunks,
            "seconds": round(seconds, 2),
            "per_s": _per_s(len(sample), seconds),
            "chunks_per_s": _per_s(sample_chunks, seconds),
        }

    # Queries per artifact_index call (a few rows, off the clock).
    probe = rows[: params["probe"]]
    probe_runs = []
    for row in probe:
        with CaptureQueriesContext(connection) as captured:
            artifact_index(artifact_pk=row.pk)
        queries = captured.captured_queries
        probe_runs.append({"queries": len(queries), "db_ms": db_ms(queries)})
    timed = rows[len(probe) :]
    timed_pks = [row.pk for row in timed]
    times = []
    statuses: collections.Counter[str] = collections.Counter()
    began = time.perf_counter()
    for row in timed:
        t0 = time.perf_counter()
        status = artifact_index(artifact_pk=row.pk)
        times.append(time.perf_counter() - t0)
        statuses[str(status)] += 1
    index_seconds = time.perf_counter() - began
    timed_chunks = ArtifactChunk.objects.filter(artifact_id__in=timed_pks)
    made_chunks = timed_chunks.count()
    indexed = Artifact.objects.filter(
        pk__in=timed_pks, index_status="indexed", chunk_count__gt=0
    ).count()
    embedded_chunks = timed_chunks.filter(embedding__isnull=False).count()

    # Through the task queue, as production runs it (manage.py db_worker).
    via: dict[str, Any] = {"artifacts": params["via_worker"]}
    if params["via_worker"]:
        ready_before = DBTaskResult.objects.filter(status="READY").count()
        began = time.perf_counter()
        made = []
        for i in range(params["via_worker"]):
            title, text, topic = gen.document(f"w{i}")
            artifact = services.artifact_create(
                namespace=namespace,
                content=services.NewContent(text=text),
                fields={"name": f"{title} w{i}", "tags": [topic]},
                created_by=params["label"],
            )
            made.append(artifact.pk)
        create_seconds = time.perf_counter() - began
        ready = DBTaskResult.objects.filter(status="READY").count()
        sessions_before = _pg_sessions()
        began = time.perf_counter()
        call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
        worker_seconds = time.perf_counter() - began
        sessions_after = _pg_sessions()
        opened = (
            None if None in (sessions_before, sessions_after) else sessions_after - sessions_before
        )
        via |= {
            # New PostgreSQL sessions opened while db_worker ran (pg_stat_database).
            "pg_sessions_opened": opened,
            "ready_tasks_before": ready_before,
            "ready_tasks_enqueued": ready - ready_before,
            "create_seconds": round(create_seconds, 2),
            "worker_seconds": round(worker_seconds, 2),
            "per_s": _per_s(len(made), worker_seconds),
            "indexed": Artifact.objects.filter(pk__in=made, index_status="indexed").count(),
            "tasks": dict(
                collections.Counter(DBTaskResult.objects.values_list("status", flat=True))
            ),
        }
    median = statistics.median
    return {
        "semantic_available": use_semantic,
        "model_load_seconds": round(model_load_seconds, 2),
        "embedded_chunks": embedded_chunks,
        "baseline_embed": embed_baseline,
        "artifacts": len(timed),
        "seconds": round(index_seconds, 2),
        "per_s": _per_s(len(timed), index_seconds),
        "chunks": made_chunks,
        "chunks_per_s": _per_s(made_chunks, index_seconds),
        "indexed_ok": indexed,
        "statuses": dict(statuses),
        "per_call": latency_summary(times),
        "probe": {
            "runs": len(probe_runs),
            "queries_per_call": median(r["queries"] for r in probe_runs) if probe_runs else None,
            "db_ms_median": median(r["db_ms"] for r in probe_runs) if probe_runs else None,
        },
        "baseline_chunk_text": {
            "artifacts": len(rows),
            "chunks": sum(len(p) for p in pieces),
            "seconds": round(chunk_seconds, 3),
            "per_s": _per_s(len(rows), chunk_seconds),
        },
        "via_worker": via,
    }


def _pg_sessions() -> int | None:
    """Sessions ever opened on this database (PostgreSQL 14+), after the statistics settle."""
    time.sleep(1.0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        row = cursor.fetchone()
    return None if row is None else int(row[0])
