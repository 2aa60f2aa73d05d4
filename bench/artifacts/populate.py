"""The artifact benchmark's Django side, run by bench.common.worker against the benchmark
database: `populate` fills the namespace, `querycount` counts the SQL of each request.

Rows go in by bulk_create, so the populate code builds them itself; where a shape is the
product's, it says whose (bench/README.md, "Row shapes the bench restates"):
- a version-1 row is `bench.common.orm.version1_artifact` (the service's content columns;
  id = root_id, version 1, is_latest restate what `artifact_create` leaves);
- each `artifact.created` event restates what `services._record` passes to
  `events.event_append` (the payload) and what event_append writes (a minted event_id, the
  change type, the next namespace sequence, the namespace's counter advanced).
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from artifacts import services
from artifacts.models import Artifact
from bench.artifacts.phases import ARTIFACT_TYPES, TextGen
from bench.common.orm import db_ms, explain_slow, new_ids, statements, version1_artifact
from sessions_app import services as session_services
from sessions_app.events import CHANGE_TYPES
from sessions_app.models import Event, EventKind, Namespace


def _created_event(row: Artifact, namespace_sequence: int) -> Event:
    """The `artifact.created` event of a new artifact without a session, as `services._record`
    and `events.event_append` write it."""
    kind = EventKind.ARTIFACT_CREATED
    return Event(
        event_id=Event.mint_id(),
        session_id=None,
        sequence=None,
        namespace_id=row.namespace_id,
        namespace_sequence=namespace_sequence,
        kind=kind,
        change_type=CHANGE_TYPES[kind],
        artifact_id=row.artifact_id,
        name=row.file_name or row.name,
        size=row.size_bytes,
        mime=row.content_type,
        hash=row.content_hash,
        path=row.file_name or None,
    )


def _bulk_artifacts(
    namespace: Namespace, total: int, *, params: dict[str, Any], gen: TextGen
) -> int:
    """`total` version-1 rows (and their `artifact.created` events) in `namespace`, `batch` a
    transaction, as artifacts.services.artifact_create leaves them: the feed advanced and the
    namespace's live-artifact counter (`artifact_count`, which artifact_create bumps) counted."""
    label, batch = params["created_by"], params["batch"]
    created = 0
    while created < total:
        count = min(batch, total - created)
        with transaction.atomic():
            ids = new_ids(count)
            feed = Namespace.objects.select_for_update().get(pk=namespace.pk).last_event_sequence
            rows: list[Artifact] = []
            for pk in ids:
                number = created + len(rows) + 1
                name = f"Bench artifact {number}"
                row = version1_artifact(
                    pk,
                    text=gen.text(name),
                    namespace=namespace,
                    name=name,
                    artifact_type=ARTIFACT_TYPES[number % len(ARTIFACT_TYPES)],
                    workflow_id=f"wf-{number % 97}",
                    phase_id=f"phase-{number % 5}",
                    tags=[f"t{number % 13}", f"t{number % 7}"],
                    created_by=label,
                )
                rows.append(row)
            Artifact.objects.bulk_create(rows)
            Event.objects.bulk_create(
                _created_event(row, feed + i) for i, row in enumerate(rows, start=1)
            )
            Namespace.objects.filter(pk=namespace.pk).update(
                last_event_sequence=feed + len(rows), artifact_count=F("artifact_count") + len(rows)
            )
        created += count
        if created % (batch * 10) == 0 or created == total:
            print(f"  {namespace.slug}: inserted {created}/{total}", file=sys.stderr, flush=True)
    return created


def populate(params: dict[str, Any]) -> dict[str, Any]:
    """Bulk-inserts `artifacts` version-1 rows (and their `artifact.created` events) as
    artifacts.services.artifact_create writes them, then `versions` extra versions through the
    real artifacts.services.artifact_version_create, then VACUUM (ANALYZE). With
    `small_artifacts`, a second namespace (`small`, made by sessions_app.services.
    namespace_create) gets that many rows the same way, and a session (session_create) is
    made for `GET /api/sessions/{sid}`: the list-scaling phase compares the two lists."""
    namespace = Namespace.objects.get(
        workspace__organization__slug=params["org"], workspace__slug=params["ws"], slug="default"
    )
    label, total = params["created_by"], params["artifacts"]
    gen = TextGen(params["seed"])
    table = Artifact._meta.db_table
    started = time.perf_counter()
    created = _bulk_artifacts(namespace, total, params=params, gen=gen)
    small: dict[str, Any] = {}
    if params.get("small_artifacts"):
        small_ns = session_services.namespace_create(workspace=namespace.workspace, slug="small")
        small = {
            "small_namespace": small_ns.slug,
            "small_namespace_pk": small_ns.pk,
            "small_artifacts": _bulk_artifacts(
                small_ns, params["small_artifacts"], params=params, gen=gen
            ),
            "session_id": session_services.session_create(
                organization_id=namespace.workspace.organization_id, namespace=namespace
            ).session_id,
        }
    insert_seconds = time.perf_counter() - started

    # Extra versions through the real service, on a random subset (about 3 per artifact).
    rng = random.Random(params["seed"] + 1)
    roots = Artifact.objects.filter(namespace=namespace, version=1).values_list("id", flat=True)
    root_ids = list(roots)
    subset = rng.sample(root_ids, max(1, min(len(root_ids), params["versions"] // 3)))
    started = time.perf_counter()
    made = 0
    for index in range(params["versions"]):
        root = Artifact.objects.get(pk=rng.choice(subset))
        _, was_created = services.artifact_version_create(
            artifact=root,
            content=services.NewContent(text=gen.text(f"{root.name} revision {index}")),
            created_by=label,
        )
        made += int(was_created)
    version_seconds = time.perf_counter() - started

    # The bulk insert would trigger autovacuum during the measurements; do it now instead.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    vacuum_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_total_relation_size(%s), pg_relation_size(%s), "
            "pg_total_relation_size(%s), pg_database_size(current_database())",
            [table, table, Event._meta.db_table],
        )
        total_size, heap_size, event_size, db_size = cursor.fetchone()
    return {
        "artifacts": created,
        "versions_requested": params["versions"],
        "versions_created": made,
        "versioned_artifacts": len(subset),
        "insert_seconds": round(insert_seconds, 2),
        "insert_rows_per_s": round(created / insert_seconds, 1),
        "versions_seconds": round(version_seconds, 2),
        "versions_per_s_in_process": round(made / version_seconds, 1) if version_seconds else None,
        "vacuum_analyze_seconds": round(vacuum_seconds, 2),
        "artifact_table_mib": round(total_size / 2**20, 1),
        "artifact_heap_mib": round(heap_size / 2**20, 1),
        "event_table_mib": round(event_size / 2**20, 1),
        "database_mib": round(db_size / 2**20, 1),
        "artifact_table": table,
        "event_table": Event._meta.db_table,
        "namespace_pk": namespace.pk,
        **small,
    }


def querycount(params: dict[str, Any]) -> dict[str, Any]:
    """Each request through Django's test client inside CaptureQueriesContext: SQL queries per
    request, their statements and database time, and EXPLAIN ANALYZE of the slow ones."""
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_API_KEY=params["api_key"])
    out: dict[str, Any] = {}
    for spec in params["requests"]:
        runs = []
        for _ in range(params["repeat"]):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                if spec["method"] == "PUT":
                    body = json.dumps({"content": f"querycount {uuid.uuid4().hex} " * 40})
                    response = client.put(spec["path"], data=body, content_type="application/json")
                else:
                    response = client.get(spec["path"])
            took = time.perf_counter() - began
            queries = captured.captured_queries
            runs.append(
                {
                    "status": response.status_code,
                    "request_ms": round(1000 * took, 2),
                    "queries": len(queries),
                    "db_ms": db_ms(queries),
                    "statements": statements(queries),
                }
            )
        # The key's last_used_at write happens at most once a minute: report the steady state
        # (the fewest queries seen) and every run's count.
        steady = min(runs, key=lambda run: run["queries"])
        plans = explain_slow(steady["statements"], params["explain_ms"], 400)
        for run in runs:
            for statement in run["statements"]:
                statement["sql"] = statement["sql"][:400]
        out[spec["name"]] = {
            "path": spec["path"],
            "method": spec["method"],
            "queries": steady["queries"],
            "queries_per_run": [run["queries"] for run in runs],
            "statuses": [run["status"] for run in runs],
            "db_ms": steady["db_ms"],
            # The whole request in process (test client, no HTTP), fastest run.
            "request_ms_min": min(run["request_ms"] for run in runs),
            "statements": steady["statements"],
            "plans": plans,
        }
    return out
