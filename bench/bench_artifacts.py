"""Depot artifact benchmarks on the production profile (PostgreSQL): list and detail latency
over 100,000 artifacts, SQL queries per request, and the version-creation rate on one artifact
with 1 and 8 writers, each against a baseline measured in the same run.

    .venv/bin/python bench/bench_artifacts.py [--artifacts 100000] [--quick]

Run from anywhere; paths are resolved from this file. Needs PostgreSQL on 127.0.0.1:5432 with
user `postgres` and trust auth (override with --pg-admin-url). It creates a dedicated database
(--db-name, default depot_bench_artifacts) and drops it in `finally`, unless --keep-db is
given; uvicorn is stopped and the temporary folder removed in `finally` too. See
bench/README.md for what each figure means.

The same file is also the Django-side helper (`--worker populate|querycount`), run as a
subprocess with django.setup() against the benchmark database.
"""

# ruff: noqa: S608  (SQL text holds table names from Django _meta, never input)
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime as dt
import hashlib
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from common import (
    DEFAULT_PG_ADMIN,
    REPO,
    RESULT_MARK,
    VENV_BIN,
    database_create,
    database_drop,
    django_setup,
    finish_run,
    free_port,
    git_info,
    latency_summary,
    log,
    pg,
    pg_url,
    run_worker,
    start_uvicorn,
    stop_process,
    verdict,
)

# This file, run again as the Django-side helper (`--worker NAME`).
SCRIPT = str(Path(__file__).resolve())


DEFAULT_DB = "depot_bench_artifacts"
TEXT_MIN_BYTES, TEXT_MAX_BYTES = 1800, 2300  # "about 2 KB" of inline text per artifact
ARTIFACT_TYPES = ("note", "plan", "report", "code", "summary")
READ_ROUTES = ("healthz", "sessions_list", "ns_list", "flat_list", "ns_detail", "flat_detail")


# --- varied text (used by the populate worker and by the writers) ---------------------------

_SYLLABLES = [
    *("ka", "ri", "to", "me", "sa", "lo", "ne", "vi", "du", "pa", "an", "el", "or", "us"),
    *("ti", "ra", "be", "co", "de", "fi", "ga", "ho", "ju", "ly", "mo", "nu", "pe", "qu"),
    *("si", "ta", "ve", "wo", "xe", "yo", "za", "ch", "th", "st", "pr", "gl", "tr"),
]
# A few non-ASCII words, so size_bytes (UTF-8 bytes) differs from the character count.
_EXTRA_WORDS = ["café", "naïve", "Zürich", "façade", "résumé", "→", "—", "Ångström", "日本語", "π"]


class TextGen:
    """Deterministic, varied markdown-ish text of TEXT_MIN_BYTES..TEXT_MAX_BYTES UTF-8 bytes."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        vocab: set[str] = set()
        while len(vocab) < 6000:
            vocab.add("".join(self.rng.choices(_SYLLABLES, k=self.rng.randint(1, 4))))
        self.vocab = sorted(vocab) + _EXTRA_WORDS * 3

    def text(self, label: str) -> str:
        rng = self.rng
        target = rng.randint(TEXT_MIN_BYTES, TEXT_MAX_BYTES)
        words = rng.choices(self.vocab, k=target // 4)
        lines = [f"# {label}", ""]
        position = 0
        while position < len(words):
            size = rng.randint(8, 30)
            lines.append(" ".join(words[position : position + size]) + ".")
            position += size
            if rng.random() < 0.25:
                lines.append("")
        data = "\n".join(lines).encode()[:target]
        text = data.decode("utf-8", "ignore")
        return text[: text.rfind(" ")] if " " in text[-40:] else text


# --- small helpers -----------------------------------------------------------------------------


def encode_cursor(pk: int) -> str:
    """The server's own cursor format (sessions_app.api.common.encode_cursor): a client that
    kept a cursor from an earlier walk resumes from it."""
    return base64.urlsafe_b64encode(f"id:{pk}".encode()).decode().rstrip("=")


# --- the Django-side workers (subprocesses) ----------------------------------------------------


def worker_populate(params: dict[str, Any]) -> dict[str, Any]:
    """Bulk-inserts `artifacts` version-1 rows (and their `artifact.created` events) exactly as
    artifacts.services.artifact_create writes them, then `versions` extra versions through the
    real artifacts.services.artifact_version_create, then VACUUM (ANALYZE)."""
    django_setup()
    from django.db import connection, transaction

    from artifacts import services
    from artifacts.models import Artifact
    from sessions_app.events import CHANGE_TYPES
    from sessions_app.models import Event, EventKind, Namespace

    namespace = Namespace.objects.get(
        workspace__organization__slug=params["org"],
        workspace__slug=params["ws"],
        slug="default",
    )
    label = params["created_by"]
    total = params["artifacts"]
    batch = params["batch"]
    gen = TextGen(params["seed"])
    table = Artifact._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
    created = 0
    while created < total:
        count = min(batch, total - created)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
                ids = [row[0] for row in cursor.fetchall()]
            locked = Namespace.objects.select_for_update().get(pk=namespace.pk)
            feed = locked.last_event_sequence
            rows: list[Artifact] = []
            events: list[Event] = []
            for pk in ids:
                number = created + len(rows) + 1
                name = f"Bench artifact {number}"
                text = gen.text(name)
                # The service's own row fields for inline text (hash, size, text, preview).
                content = services._content_fields(services.NewContent(text=text))
                row = Artifact(
                    id=pk,
                    root_id=pk,  # version 1 is its own root
                    version=1,
                    is_latest=True,
                    namespace=namespace,
                    name=name,
                    artifact_type=ARTIFACT_TYPES[number % len(ARTIFACT_TYPES)],
                    workflow_id=f"wf-{number % 97}",
                    phase_id=f"phase-{number % 5}",
                    tags=[f"t{number % 13}", f"t{number % 7}"],
                    created_by=label,
                    **content,
                )
                rows.append(row)
                feed += 1
                # What services._record appends for a new artifact without a session.
                events.append(
                    Event(
                        event_id=Event.mint_id(),
                        session_id=None,
                        sequence=None,
                        namespace_id=namespace.pk,
                        namespace_sequence=feed,
                        kind=EventKind.ARTIFACT_CREATED,
                        change_type=CHANGE_TYPES[EventKind.ARTIFACT_CREATED],
                        artifact_id=row.artifact_id,
                        name=row.file_name or row.name,
                        size=row.size_bytes,
                        mime=row.content_type,
                        hash=row.content_hash,
                        path=row.file_name or None,
                    )
                )
            Artifact.objects.bulk_create(rows)
            Event.objects.bulk_create(events)
            Namespace.objects.filter(pk=namespace.pk).update(last_event_sequence=feed)
        created += count
        if created % (batch * 10) == 0 or created == total:
            print(f"  inserted {created}/{total}", file=sys.stderr, flush=True)
    insert_seconds = time.perf_counter() - started

    # Extra versions through the real service, on a random subset (about 3 per artifact).
    rng = random.Random(params["seed"] + 1)
    root_ids = list(
        Artifact.objects.filter(namespace=namespace, version=1).values_list("id", flat=True)
    )
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
    }


def worker_querycount(params: dict[str, Any]) -> dict[str, Any]:
    """Each request through Django's test client inside CaptureQueriesContext: SQL queries per
    request, their statements and database time, and EXPLAIN ANALYZE of the slow ones."""
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_API_KEY=params["api_key"])
    out: dict[str, Any] = {}
    for spec in params["requests"]:
        runs = []
        for _ in range(params["repeat"]):
            began = time.perf_counter()
            with CaptureQueriesContext(connection) as captured:
                if spec["method"] == "PUT":
                    response = client.put(
                        spec["path"],
                        data=json.dumps({"content": f"querycount {uuid.uuid4().hex} " * 40}),
                        content_type="application/json",
                    )
                else:
                    response = client.get(spec["path"])
            took = time.perf_counter() - began
            runs.append(
                {
                    "status": response.status_code,
                    "request_ms": round(1000 * took, 2),
                    "queries": len(captured.captured_queries),
                    "db_ms": round(
                        1000 * sum(float(q["time"]) for q in captured.captured_queries), 2
                    ),
                    "statements": [
                        {"ms": round(1000 * float(q["time"]), 2), "sql": q["sql"][:400]}
                        for q in captured.captured_queries
                    ],
                    "_full": [q["sql"] for q in captured.captured_queries],
                }
            )
        # The key's last_used_at write happens at most once a minute: report the steady state
        # (the fewest queries seen) and every run's count.
        steady = min(runs, key=lambda run: run["queries"])
        plans = []
        for statement, full in zip(steady["statements"], steady["_full"], strict=True):
            if statement["ms"] >= params["explain_ms"] and full.lstrip().upper().startswith(
                "SELECT"
            ):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + full)
                    plans.append(
                        {
                            "sql": full[:400],
                            "ms": statement["ms"],
                            "plan": [row[0] for row in cursor.fetchall()],
                        }
                    )
        for run in runs:
            run.pop("_full")
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


# --- PostgreSQL from the benchmark process (psycopg) -------------------------------------------


INVARIANT_QUERIES = {
    # Every version 1 is its own root; every other version points at a version-1 root.
    "root_not_self_for_v1": "SELECT count(*) FROM {t} WHERE version = 1 AND root_id <> id",
    "root_null": "SELECT count(*) FROM {t} WHERE root_id IS NULL",
    "root_not_v1": "SELECT count(*) FROM {t} a JOIN {t} r ON r.id = a.root_id "
    "WHERE r.version <> 1 OR r.root_id <> r.id",
    # Versions 1..n, exactly one latest, and the latest is the highest version.
    "roots_bad_version_range": "SELECT count(*) FROM (SELECT root_id FROM {t} GROUP BY root_id "
    "HAVING min(version) <> 1 OR max(version) <> count(*)) x",
    "roots_not_one_latest": "SELECT count(*) FROM (SELECT root_id FROM {t} GROUP BY root_id "
    "HAVING count(*) FILTER (WHERE is_latest) <> 1) x",
    "roots_latest_not_max": "SELECT count(*) FROM (SELECT root_id FROM {t} GROUP BY root_id "
    "HAVING max(version) <> max(version) FILTER (WHERE is_latest)) x",
    "replaced_by_wrong": "SELECT count(*) FROM {t} WHERE (is_latest AND replaced_by_version <> 0)"
    " OR (NOT is_latest AND replaced_by_version <> version + 1)",
    # Inline content fields as services._content_fields computes them.
    "inline_fields_wrong": "SELECT count(*) FROM {t} WHERE blob_id IS NULL AND ("
    "content_hash <> 'sha256:' || encode(sha256(convert_to(content, 'UTF8')), 'hex') "
    "OR size_bytes <> octet_length(convert_to(content, 'UTF8')) "
    "OR content_text <> content OR content_preview <> left(content, 500))",
}


def check_invariants(url: str, table: str, event_table: str) -> dict[str, Any]:
    import psycopg

    out: dict[str, Any] = {}
    with psycopg.connect(url, connect_timeout=10) as connection:
        for name, query in INVARIANT_QUERIES.items():
            out[name] = connection.execute(query.format(t=table)).fetchone()[0]
        out["rows"], out["roots"], out["non_root_versions"] = connection.execute(
            f"SELECT count(*), count(*) FILTER (WHERE id = root_id), "
            f"count(*) FILTER (WHERE id <> root_id) FROM {table}"
        ).fetchone()
        # The namespace feed: 1..n with no gap, and the namespace's counter at n.
        out["feed_gaps"] = connection.execute(
            f"SELECT count(*) FROM (SELECT namespace_id FROM {event_table} GROUP BY namespace_id "
            f"HAVING min(namespace_sequence) <> 1 OR max(namespace_sequence) <> count(*)) x"
        ).fetchone()[0]
        out["feed_counter_wrong"] = connection.execute(
            f"SELECT count(*) FROM sessions_app_namespace n WHERE n.last_event_sequence <> "
            f"(SELECT count(*) FROM {event_table} e WHERE e.namespace_id = n.id)"
        ).fetchone()[0]
    bad = [k for k, v in out.items() if k not in ("rows", "roots", "non_root_versions") and v]
    out["ok"] = not bad
    out["violations"] = bad
    return out


class LockWatch:
    """Samples pg_stat_activity of the benchmark database every `interval` s: how many
    backends are waiting on a heavyweight lock (row locks show up as `Lock`/`transactionid`
    or `tuple`) and how many are active."""

    def __init__(self, url: str, db_name: str, interval: float = 0.02) -> None:
        self.url, self.db_name, self.interval = url, db_name, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.samples = 0
        self.waiting_total = 0
        self.samples_with_wait = 0
        self.max_waiting = 0
        self.active_total = 0

    def __enter__(self) -> LockWatch:
        self._thread.start()
        return self

    def _run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url, autocommit=True, connect_timeout=10) as connection:
                while not self._stop.wait(self.interval):
                    waiting, active = connection.execute(
                        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                        "count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        [self.db_name],
                    ).fetchone()
                    self.samples += 1
                    self.waiting_total += waiting
                    self.active_total += active
                    self.samples_with_wait += int(waiting > 0)
                    self.max_waiting = max(self.max_waiting, waiting)
        except Exception as error:  # diagnostics only
            self.error = repr(error)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> dict[str, Any]:
        samples = max(self.samples, 1)
        return {
            "samples": self.samples,
            "mean_backends_waiting_on_lock": round(self.waiting_total / samples, 2),
            "share_of_samples_with_a_lock_wait": round(self.samples_with_wait / samples, 3),
            "max_backends_waiting_on_lock": self.max_waiting,
            "mean_active_backends": round(self.active_total / samples, 2),
            "error": getattr(self, "error", None),
        }


def baseline_pg_connect(url: str, count: int) -> dict[str, Any]:
    """What CONN_MAX_AGE=0 costs per request at least: connect, SELECT 1, close."""
    import psycopg

    times = []
    for _ in range(count):
        began = time.perf_counter()
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
            connection.execute("SELECT 1").fetchone()
        times.append(time.perf_counter() - began)
    return latency_summary(times)


# --- HTTP phases -------------------------------------------------------------------------------


def read_phase(
    base_url: str,
    api_key: str,
    ns_path: str,
    roots: list[tuple[int, str]],
    *,
    requests_per_route: int,
    seed: int,
) -> dict[str, Any]:
    """One client, one keep-alive connection, the routes interleaved round-robin so that every
    route sees the same machine noise. The namespaced list runs in cycles of 10 requests: a
    first page followed by 4 next_cursor pages, then a resume at a random depth (a cursor the
    server would have issued) followed by 4 next_cursor pages."""
    import requests

    rng = random.Random(seed)
    pk_of = {public: pk for pk, public in roots}
    headers = {"X-API-Key": api_key}
    routes = list(READ_ROUTES)
    times: dict[str, list[float]] = {route: [] for route in routes}
    sizes: dict[str, list[int]] = {route: [] for route in routes}
    statuses: dict[str, dict[str, int]] = {route: {} for route in routes}
    ns_kind_times: dict[str, list[float]] = {"first": [], "deep_resume": [], "next_cursor": []}
    problems: list[str] = []
    list_pages_checked = 0
    list_pages_out_of_root_order = 0
    list_pages_wrong_size = 0
    detail_wrong = 0
    cursor: str | None = None
    deepest_rank = 0
    sorted_pks = sorted((pk for pk, _ in roots), reverse=True)

    with requests.Session() as http:
        for index in range(requests_per_route):
            order = routes[:]
            rng.shuffle(order)
            for route in order:
                kind = None
                if route == "healthz":
                    url = f"{base_url}/healthz"
                elif route == "sessions_list":
                    url = f"{base_url}/api/sessions?limit=50"
                elif route == "flat_list":
                    url = f"{base_url}/api/artifacts?limit=50"
                elif route == "ns_list":
                    step = index % 10
                    if step == 0 or cursor is None:
                        kind, query = "first", ""
                    elif step == 5:
                        rank = rng.randrange(len(sorted_pks) // 10, len(sorted_pks) - 300)
                        deepest_rank = max(deepest_rank, rank)
                        kind, query = "deep_resume", f"&cursor={encode_cursor(sorted_pks[rank])}"
                    else:
                        kind, query = "next_cursor", f"&cursor={cursor}"
                    url = f"{base_url}{ns_path}/artifacts?limit=50{query}"
                else:
                    public = roots[rng.randrange(len(roots))][1]
                    url = (
                        f"{base_url}{ns_path}/artifacts/{public}"
                        if route == "ns_detail"
                        else f"{base_url}/api/artifacts/{public}"
                    )
                began = time.perf_counter()
                response = http.get(url, headers=headers, timeout=60)
                body = response.content
                took = time.perf_counter() - began
                times[route].append(took)
                sizes[route].append(len(body))
                key = str(response.status_code)
                statuses[route][key] = statuses[route].get(key, 0) + 1
                if response.status_code != 200:
                    if len(problems) < 20:
                        problems.append(f"{route} {url}: {response.status_code} {body[:200]!r}")
                    continue
                # Correctness checks, off the clock.
                if route == "ns_list":
                    ns_kind_times[kind or "first"].append(took)
                    page = json.loads(body)
                    cursor = page["next_cursor"]
                    items = page["artifacts"]
                    list_pages_checked += 1
                    if len(items) != 50:
                        list_pages_wrong_size += 1
                    root_pks = [pk_of.get(item["root_artifact_id"], -1) for item in items]
                    if root_pks != sorted(root_pks, reverse=True) or len(set(root_pks)) != len(
                        root_pks
                    ):
                        list_pages_out_of_root_order += 1
                elif route == "flat_list":
                    if len(json.loads(body)) != 50:
                        list_pages_wrong_size += 1
                elif route == "ns_detail":
                    item = json.loads(body)
                    if item["root_artifact_id"] != public or not item["is_latest"]:
                        detail_wrong += 1
                elif route == "flat_detail" and json.loads(body)["id"] != public:
                    detail_wrong += 1

    out: dict[str, Any] = {}
    for route in routes:
        out[route] = {
            **latency_summary(times[route]),
            "statuses": statuses[route],
            "mean_bytes": round(statistics.fmean(sizes[route])) if sizes[route] else None,
        }
    out["ns_list_by_kind"] = {kind: latency_summary(v) for kind, v in ns_kind_times.items()}
    out["checks"] = {
        "list_pages_checked": list_pages_checked,
        "ns_list_pages_not_in_root_order": list_pages_out_of_root_order,
        "list_pages_not_50_items": list_pages_wrong_size,
        "detail_wrong_artifact": detail_wrong,
        "deepest_resume_rank": deepest_rank,
        "problems": problems,
    }
    return out


def cursor_gap_check(
    base_url: str, api_key: str, ns_path: str, roots: list[tuple[int, str]]
) -> dict[str, Any]:
    """A client walks the namespaced list; between two of its pages another client creates a
    new version of an artifact the walk has not reached yet. Does the walk still return it?
    (selectors.artifact_list promises "each artifact once, newest artifact first", and
    artifacts.api.views._page says pages are "stable under new versions".)"""
    import requests

    headers = {"X-API-Key": api_key}
    sorted_pks = sorted((pk for pk, _ in roots), reverse=True)
    start = encode_cursor(sorted_pks[len(sorted_pks) // 2])  # somewhere in the middle
    with requests.Session() as http:
        url = f"{base_url}{ns_path}/artifacts?limit=50"
        page_one = http.get(f"{url}&cursor={start}", headers=headers, timeout=60).json()
        # What the next page holds right now (peeked by the benchmark, not by the walker).
        before = http.get(f"{url}&cursor={page_one['next_cursor']}", headers=headers, timeout=60)
        expected = [item["root_artifact_id"] for item in before.json()["artifacts"]]
        victim = expected[10]
        put = http.put(
            f"{base_url}{ns_path}/artifacts/{victim}",
            json={"content": f"gap check {uuid.uuid4().hex}"},
            headers=headers,
            timeout=60,
        )
        page_two = http.get(
            f"{url}&cursor={page_one['next_cursor']}", headers=headers, timeout=60
        ).json()
        got = [item["root_artifact_id"] for item in page_two["artifacts"]]
        first_page = http.get(url, headers=headers, timeout=60).json()
        position_on_first_page = next(
            (
                i
                for i, item in enumerate(first_page["artifacts"])
                if item["root_artifact_id"] == victim
            ),
            None,
        )
    return {
        "victim": victim,
        "put_status": put.status_code,
        "put_version": put.json().get("version") if put.status_code == 200 else None,
        "victim_on_page_two_before": victim in expected,
        "victim_on_page_two_after": victim in got,
        "victim_position_on_first_page_after": position_on_first_page,
        "page_two_items_before": len(expected),
        "page_two_items_after": len(got),
        "ok": victim in got,
    }


def put_run(
    base_url: str,
    api_key: str,
    ns_path: str,
    targets: list[str],
    *,
    writers: int,
    max_puts: int,
    max_seconds: float,
    label: str,
) -> dict[str, Any]:
    """PUT {"content": <unique text>} from `writers` threads (one keep-alive connection each)
    until `max_puts` or `max_seconds`. With one target every PUT hits the same root; with many,
    PUT number i goes to targets[i] (no root is hit twice)."""
    import requests

    base_text = TextGen(4242).text("write benchmark")
    lock = threading.Lock()
    started_count = 0
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    errors: list[str] = []
    sent_hashes: dict[str, list[str]] = {}
    versions_returned: dict[str, list[int]] = {}
    deadline = time.perf_counter() + max_seconds

    def worker(index: int) -> None:
        nonlocal started_count
        with requests.Session() as http:
            while time.perf_counter() < deadline:
                with lock:
                    if started_count >= max_puts or (
                        len(targets) > 1 and started_count >= len(targets)
                    ):
                        return
                    number = started_count
                    started_count += 1
                target = targets[number] if len(targets) > 1 else targets[0]
                text = f"{label} PUT {number} {uuid.uuid4().hex}\n{base_text}"
                began = time.perf_counter()
                try:
                    response = http.put(
                        f"{base_url}{ns_path}/artifacts/{target}",
                        json={"content": text},
                        headers={"X-API-Key": api_key},
                        timeout=60,
                    )
                except requests.RequestException as error:
                    with lock:
                        statuses["exception"] = statuses.get("exception", 0) + 1
                        errors.append(repr(error)[:300])
                    continue
                took = time.perf_counter() - began
                with lock:
                    key = str(response.status_code)
                    statuses[key] = statuses.get(key, 0) + 1
                    if response.status_code == 200:
                        latencies.append(took)
                        body = response.json()
                        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
                        sent_hashes.setdefault(target, []).append(digest)
                        versions_returned.setdefault(target, []).append(body["version"])
                        if body["content_hash"] != digest or body["root_artifact_id"] != target:
                            errors.append(f"PUT {number}: response does not match the request")
                    elif len(errors) < 20:
                        errors.append(f"PUT {number}: {response.status_code} {response.text[:300]}")

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        for future in [pool.submit(worker, i) for i in range(writers)]:
            future.result()
    elapsed = time.perf_counter() - started
    ok = statuses.get("200", 0)
    return {
        "label": label,
        "writers": writers,
        "targets": len(targets),
        "ok": ok,
        "attempted": started_count,
        "seconds": round(elapsed, 3),
        "versions_per_s": ok / elapsed if elapsed else float("nan"),
        **{f"latency_{k}": v for k, v in latency_summary(latencies).items()},
        "statuses": statuses,
        "errors": errors[:20],
        "_sent_hashes": sent_hashes,
        "_versions_returned": versions_returned,
    }


def verify_versions(
    url: str, table: str, root_pk_of: dict[str, int], sent: dict[str, list[str]]
) -> dict[str, Any]:
    """For every artifact the writers touched: versions exactly 1..N with N = 1 + successful
    PUTs, exactly one is_latest (version N), each earlier version replaced_by its successor,
    and versions 2..N hold exactly the contents that were sent."""
    import psycopg

    bad: list[str] = []
    detail: dict[str, Any] = {}
    with psycopg.connect(url, connect_timeout=10) as connection:
        for public, hashes in sent.items():
            rows = connection.execute(
                f"SELECT version, is_latest, replaced_by_version, content_hash FROM {table} "
                f"WHERE root_id = %s ORDER BY version",
                [root_pk_of[public]],
            ).fetchall()
            versions = [row[0] for row in rows]
            latest = [row[0] for row in rows if row[1]]
            expected_n = 1 + len(hashes)
            problems = []
            if versions != list(range(1, expected_n + 1)):
                problems.append(f"versions {versions[:5]}..{versions[-5:]} (n={len(versions)})")
            if latest != [expected_n]:
                problems.append(f"is_latest on {latest}")
            if any(row[2] != row[0] + 1 for row in rows[:-1]) or (rows and rows[-1][2] != 0):
                problems.append("replaced_by_version chain broken")
            if sorted(row[3] for row in rows[1:]) != sorted(hashes):
                problems.append("stored contents differ from the sent ones")
            if problems:
                bad.append(f"{public}: {'; '.join(problems)}")
            if len(sent) <= 2:
                detail[public] = {
                    "versions": len(versions),
                    "expected": expected_n,
                    "latest": latest,
                    "problems": problems,
                }
    return {"artifacts_checked": len(sent), "bad": bad[:20], "ok": not bad, "detail": detail}


# --- main ----------------------------------------------------------------------------------------


def depot_env(data_dir: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    # Production database, local-disk blobs, no Redis, no rate limit, whatever .env says.
    env.update(
        {
            "DEPOT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "REDIS_URL": "",
            "STORAGE_BACKEND": "local",
            "DEPOT_BLOB_ROOT": str(data_dir / "blobs"),
            "DEPOT_RATE_LIMIT": "",
            "DEPOT_EMBEDDED_WORKER": "0",
            "DEPOT_LOG_LEVEL": "WARNING",
            "DJANGO_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def ms_pair(summary: dict[str, Any]) -> str:
    return f"{summary['p50_ms']:.1f} / {summary['p99_ms']:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--artifacts", type=int, default=None, help="default 100000")
    parser.add_argument(
        "--versions", type=int, default=None, help="extra versions via the service (default 3000)"
    )
    parser.add_argument("--requests", type=int, default=None, help="per read route (default 500)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3,000 artifacts, 150 versions, 60 requests per route, short write "
        "windows; does not overwrite results/latest-artifacts.json",
    )
    parser.add_argument("--db-name", default=DEFAULT_DB)
    parser.add_argument("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--worker", choices=["populate", "querycount"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-args", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        worker = {"populate": worker_populate, "querycount": worker_querycount}[args.worker]
        result = worker(json.loads(args.worker_args))
        print(RESULT_MARK + json.dumps(result, default=str), flush=True)
        return 0

    n_artifacts = args.artifacts or (3000 if args.quick else 100_000)
    n_versions = args.versions if args.versions is not None else (150 if args.quick else 3000)
    n_requests = args.requests or (60 if args.quick else 500)
    max_puts, max_seconds = (60, 3.0) if args.quick else (500, 10.0)
    db_name = args.db_name
    database_url = pg_url(args.pg_admin_url, db_name)

    def on_sigterm(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)

    work = Path(tempfile.mkdtemp(prefix="depot-bench-artifacts-"))
    data_dir = work / "data"
    data_dir.mkdir()
    uvicorn: subprocess.Popen | None = None
    uvicorn_log = None
    db_created = False
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/bench_artifacts.py", *sys.argv[1:]]),
        "quick": args.quick,
        "parameters": {
            "artifacts": n_artifacts,
            "extra_versions": n_versions,
            "requests_per_read_route": n_requests,
            "put_bounds": {"max_puts": max_puts, "max_seconds": max_seconds},
            "text_bytes": [TEXT_MIN_BYTES, TEXT_MAX_BYTES],
            "seed": args.seed,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "git": git_info(),
        "work_dir": str(work),
        "database": database_url,
    }
    rows: list[dict[str, Any]] = []
    try:
        version = pg(args.pg_admin_url, "SELECT version()")[0][0]
        settings_rows = pg(
            args.pg_admin_url,
            "SELECT name, setting, unit FROM pg_settings WHERE name IN "
            "('shared_buffers', 'work_mem', 'max_connections', 'jit', 'synchronous_commit')",
        )
        results["postgres"] = {
            "version": version,
            "settings": {name: f"{value}{unit or ''}" for name, value, unit in settings_rows},
        }
        log(f"{version.split(' on ')[0]}; work dir {work}")
        results["database_leftover_dropped"] = database_create(args.pg_admin_url, db_name)
        db_created = True
        env = depot_env(data_dir, database_url)
        python = str(VENV_BIN / "python")
        for command in (["migrate", "--noinput"], ["bootstrap"]):
            subprocess.run(
                [python, "manage.py", *command],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                timeout=600,
            )
        boot = json.loads((data_dir / "bootstrap.json").read_text())
        api_key, org, ws = boot["api_key"], boot["organization"], boot["workspace"]
        ns_path = f"/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default"
        key_name = pg(database_url, "SELECT name FROM sessions_app_apikey LIMIT 1")[0][0]

        # -- 1. populate --------------------------------------------------------------------
        log(
            f"populating: {n_artifacts} artifacts (bulk insert), then {n_versions} versions "
            f"through artifacts.services.artifact_version_create, then VACUUM (ANALYZE)"
        )
        began = time.perf_counter()
        populate = run_worker(
            SCRIPT,
            "populate",
            {
                "org": org,
                "ws": ws,
                "artifacts": n_artifacts,
                "versions": n_versions,
                "seed": args.seed,
                "batch": 1000,
                "created_by": f"key:{key_name}",
            },
            env,
            timeout=3600,
        )
        populate["wall_seconds"] = round(time.perf_counter() - began, 1)
        results["populate"] = populate
        table, event_table = populate["artifact_table"], populate["event_table"]
        log(
            f"  {populate['artifacts']} rows in {populate['insert_seconds']} s, "
            f"{populate['versions_created']} versions in {populate['versions_seconds']} s "
            f"({populate['versions_per_s_in_process']}/s in process), VACUUM ANALYZE "
            f"{populate['vacuum_analyze_seconds']} s; artifacts table "
            f"{populate['artifact_table_mib']} MiB (heap {populate['artifact_heap_mib']} MiB)"
        )
        invariants = check_invariants(database_url, table, event_table)
        results["invariants_after_populate"] = invariants
        log(f"  invariants: ok={invariants['ok']} {invariants['violations']}")
        roots = [
            (pk, public)
            for pk, public in pg(
                database_url, f"SELECT id, artifact_id FROM {table} WHERE id = root_id ORDER BY id"
            )
        ]
        root_pk_of = {public: pk for pk, public in roots}
        versioned = {
            row[0]
            for row in pg(
                database_url, f"SELECT root_id FROM {table} GROUP BY root_id HAVING count(*) > 1"
            )
        }
        unversioned = [(pk, public) for pk, public in roots if pk not in versioned]

        # -- server -------------------------------------------------------------------------
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        uvicorn_log = open(work / "uvicorn.log", "wb")  # noqa: SIM115
        uvicorn = start_uvicorn(env, port, uvicorn_log)
        log(f"uvicorn pid {uvicorn.pid} on {base_url}")

        # -- 2. reads -------------------------------------------------------------------------
        log("baseline: psycopg connect + SELECT 1 + close (Depot opens one connection a request)")
        connect = baseline_pg_connect(database_url, 200 if not args.quick else 30)
        results["baseline_pg_connect"] = connect
        log(f"  p50 {connect['p50_ms']} ms, p99 {connect['p99_ms']} ms")
        log(f"reads: {n_requests} requests per route, 6 routes interleaved, 1 keep-alive client")
        reads = read_phase(
            base_url,
            api_key,
            ns_path,
            roots,
            requests_per_route=n_requests,
            seed=args.seed,
        )
        results["reads"] = reads
        for route in READ_ROUTES:
            summary = reads[route]
            log(
                f"  {route:14} p50 {summary['p50_ms']:8.2f} ms  p99 {summary['p99_ms']:8.2f} ms  "
                f"{summary['mean_bytes']} B  {summary['statuses']}"
            )
        log(f"  checks: {reads['checks']}")

        # -- 3. queries per request -------------------------------------------------------------
        log("queries per request (Django test client + CaptureQueriesContext, same database)")
        deep_pk = sorted(pk for pk, _ in roots)[len(roots) // 3]
        qc_put_target = unversioned[len(unversioned) // 2][1]
        sample_versioned = next((public for pk, public in roots if pk in versioned), roots[0][1])
        query_requests = [
            {"name": "healthz", "method": "GET", "path": "/healthz"},
            {"name": "sessions_list", "method": "GET", "path": "/api/sessions?limit=50"},
            {"name": "ns_list_first", "method": "GET", "path": f"{ns_path}/artifacts?limit=50"},
            {
                "name": "ns_list_deep",
                "method": "GET",
                "path": f"{ns_path}/artifacts?limit=50&cursor={encode_cursor(deep_pk)}",
            },
            {"name": "flat_list", "method": "GET", "path": "/api/artifacts?limit=50"},
            {
                "name": "ns_detail",
                "method": "GET",
                "path": f"{ns_path}/artifacts/{roots[len(roots) // 2][1]}",
            },
            {
                "name": "ns_detail_versioned",
                "method": "GET",
                "path": f"{ns_path}/artifacts/{sample_versioned}",
            },
            {"name": "flat_detail", "method": "GET", "path": f"/api/artifacts/{roots[7][1]}"},
            {
                "name": "ns_put_new_version",
                "method": "PUT",
                "path": f"{ns_path}/artifacts/{qc_put_target}",
            },
        ]
        query_counts = run_worker(
            SCRIPT,
            "querycount",
            {"api_key": api_key, "requests": query_requests, "repeat": 3, "explain_ms": 5.0},
            env,
            timeout=600,
        )
        results["query_counts"] = query_counts
        for name, found in query_counts.items():
            log(
                f"  {name:20} {found['queries']} queries (runs {found['queries_per_run']}), "
                f"DB time {found['db_ms']} ms, in-process request {found['request_ms_min']} ms, "
                f"statuses {found['statuses']}"
            )
            for plan in found["plans"]:
                log(f"    slow statement {plan['ms']} ms: {plan['sql'][:140]}")

        # -- cursor walk while a later artifact gets a new version ---------------------------
        log("cursor walk: new version of an artifact the walk has not reached yet")
        gap = cursor_gap_check(base_url, api_key, ns_path, roots)
        results["cursor_gap_check"] = gap
        log(f"  {gap}")

        # -- 4. version creation ----------------------------------------------------------------
        rng = random.Random(args.seed + 7)
        pool = [item for item in unversioned if item[1] not in (qc_put_target, gap["victim"])]
        rng.shuffle(pool)
        target = pool.pop()[1]
        writes: dict[str, Any] = {}
        sent: dict[str, list[str]] = {}
        plan = [
            ("one_artifact_1_writer", 1, [target]),
            ("distinct_artifacts_1_writer", 1, [public for _, public in pool[:max_puts]]),
            ("one_artifact_8_writers", 8, [target]),
            (
                "distinct_artifacts_8_writers",
                8,
                [public for _, public in pool[max_puts : 2 * max_puts]],
            ),
        ]
        for label, writers, targets in plan:
            log(
                f"PUT new versions: {label} ({writers} writer(s), "
                f"<= {max_puts} PUTs or {max_seconds} s)"
            )
            with LockWatch(database_url, db_name) as locks:
                run = put_run(
                    base_url,
                    api_key,
                    ns_path,
                    targets,
                    writers=writers,
                    max_puts=max_puts,
                    max_seconds=max_seconds,
                    label=label,
                )
            run["locks"] = locks.summary()
            for public, hashes in run.pop("_sent_hashes").items():
                sent.setdefault(public, []).extend(hashes)
            returned = run.pop("_versions_returned")
            if len(targets) == 1:
                numbers = sorted(returned.get(target, []))
                run["versions_returned_unique"] = len(numbers) == len(set(numbers))
                run["versions_returned_range"] = [numbers[0], numbers[-1]] if numbers else None
            writes[label] = run
            log(
                f"  {run['versions_per_s']:.1f} versions/s ({run['ok']} ok of {run['attempted']}, "
                f"{run['statuses']}), p50 {run['latency_p50_ms']} ms, p99 "
                f"{run['latency_p99_ms']} ms; lock waits: mean "
                f"{run['locks']['mean_backends_waiting_on_lock']}, "
                f"in {100 * run['locks']['share_of_samples_with_a_lock_wait']:.0f}% of samples"
            )
        results["writes"] = writes
        one = {target: sent.get(target, [])}
        results["verify_one_artifact"] = verify_versions(database_url, table, root_pk_of, one)
        others = {public: hashes for public, hashes in sent.items() if public != target}
        results["verify_distinct_artifacts"] = verify_versions(
            database_url, table, root_pk_of, others
        )
        log(f"  one artifact: {results['verify_one_artifact']}")
        log(
            f"  distinct artifacts: ok={results['verify_distinct_artifacts']['ok']} "
            f"({results['verify_distinct_artifacts']['artifacts_checked']} checked)"
        )
        invariants_end = check_invariants(database_url, table, event_table)
        results["invariants_at_end"] = invariants_end
        log(f"  invariants over the whole table: ok={invariants_end['ok']}")

        # -- server log ---------------------------------------------------------------------------
        uvicorn_log.flush()
        text = (work / "uvicorn.log").read_text(errors="replace")
        results["server_log_errors"] = text.count("Traceback") + text.count(" ERROR")
        results["server_log_tail"] = text[-4000:]

        # -- table --------------------------------------------------------------------------------
        health, sessions = reads["healthz"], reads["sessions_list"]
        rows.append(
            {
                "figure": f"populate: {populate['artifacts']} rows bulk-inserted",
                "value": populate["insert_rows_per_s"],
                "unit": "rows/s",
                "baseline_text": f"{populate['insert_seconds']} s",
                "result": "info",
            }
        )
        rows.append(
            {
                "figure": f"populate: {populate['versions_created']} versions via the service",
                "value": populate["versions_per_s_in_process"],
                "unit": "versions/s",
                "baseline_text": f"{populate['versioned_artifacts']} artifacts",
                "result": "info",
            }
        )
        rows.append(
            {
                "figure": "populate: model invariants (SQL over every row)",
                "value": "ok" if invariants["ok"] else ",".join(invariants["violations"]),
                "unit": "",
                "target": "all hold",
                "result": verdict(invariants["ok"]),
            }
        )
        rows.append(
            {
                "figure": "baseline: PG connect+SELECT 1+close",
                "value": ms_pair(connect),
                "unit": "ms p50/p99",
                "result": "info",
            }
        )
        rows.append(
            {
                "figure": "baseline: GET /healthz (no DB)",
                "value": ms_pair(health),
                "unit": "ms p50/p99",
                "result": "info",
            }
        )
        rows.append(
            {
                "figure": "baseline: GET /api/sessions?limit=50",
                "value": ms_pair(sessions),
                "unit": "ms p50/p99",
                "baseline_text": f"{query_counts['sessions_list']['queries']} queries",
                "ratio": sessions["p50_ms"] / health["p50_ms"],
                "target": "ratio: p50 / healthz",
                "result": "info",
            }
        )
        read_rows = [
            ("ns_list", "seed-002 list ?limit=50 (all)", "ns_list_first"),
            ("flat_list", "seed-001 GET /api/artifacts?limit=50", "flat_list"),
            ("ns_detail", "seed-002 detail (random root)", "ns_detail"),
            ("flat_detail", "seed-001 GET /api/artifacts/<id>", "flat_detail"),
        ]
        for route, title, qc_name in read_rows:
            summary = reads[route]
            rows.append(
                {
                    "figure": title,
                    "value": ms_pair(summary),
                    "unit": "ms p50/p99",
                    "baseline_text": f"{query_counts[qc_name]['queries']} queries, "
                    f"{summary['mean_bytes'] / 1000:.1f} kB",
                    "ratio": summary["p50_ms"] / sessions["p50_ms"],
                    "target": "ratio: p50 / sessions",
                    "result": "info",
                }
            )
            if route == "ns_list":
                for kind, kind_title in (
                    ("first", "  first pages"),
                    ("next_cursor", "  next_cursor pages"),
                    ("deep_resume", "  resumed at a random depth"),
                ):
                    part = reads["ns_list_by_kind"][kind]
                    if part["n"]:
                        rows.append(
                            {
                                "figure": f"{kind_title} (n={part['n']})",
                                "value": ms_pair(part),
                                "unit": "ms p50/p99",
                                "ratio": part["p50_ms"] / sessions["p50_ms"],
                                "result": "info",
                            }
                        )
        failed_reads = sum(
            count
            for route in READ_ROUTES
            for status_code, count in reads[route]["statuses"].items()
            if status_code != "200"
        )
        checks = reads["checks"]
        rows.append(
            {
                "figure": "reads: non-200 / wrong page size / wrong artifact",
                "value": f"{failed_reads} / {checks['list_pages_not_50_items']} / "
                f"{checks['detail_wrong_artifact']}",
                "unit": "",
                "target": "0 / 0 / 0",
                "result": verdict(
                    failed_reads == 0
                    and checks["list_pages_not_50_items"] == 0
                    and checks["detail_wrong_artifact"] == 0
                ),
            }
        )
        in_order = checks["list_pages_checked"] - checks["ns_list_pages_not_in_root_order"]
        rows.append(
            {
                "figure": "seed-002 list pages in root order (newest artifact first)",
                "value": f"{in_order} of {checks['list_pages_checked']}",
                "unit": "pages",
                "target": "all",
                "result": verdict(checks["ns_list_pages_not_in_root_order"] == 0),
            }
        )
        rows.append(
            {
                "figure": "cursor walk keeps an artifact versioned mid-walk",
                "value": str(gap["ok"]),
                "unit": "",
                "baseline_text": f"now at #{gap['victim_position_on_first_page_after']} of page 1"
                if gap["victim_position_on_first_page_after"] is not None
                else "-",
                "target": "True",
                "result": verdict(gap["ok"]),
            }
        )
        for name in ("ns_list_deep", "ns_detail_versioned", "ns_put_new_version"):
            found = query_counts[name]
            rows.append(
                {
                    "figure": f"queries: {name}",
                    "value": found["queries"],
                    "unit": "queries",
                    "baseline_text": f"DB {found['db_ms']} ms",
                    "result": "info",
                }
            )
        distinct_8 = writes["distinct_artifacts_8_writers"]
        distinct_1 = writes["distinct_artifacts_1_writer"]
        for label in (
            "one_artifact_1_writer",
            "distinct_artifacts_1_writer",
            "one_artifact_8_writers",
            "distinct_artifacts_8_writers",
        ):
            run = writes[label]
            base = distinct_8 if label.endswith("8_writers") else distinct_1
            failures = run["attempted"] - run["ok"]
            rows.append(
                {
                    "figure": f"PUT {label.replace('_', ' ')}",
                    "value": run["versions_per_s"],
                    "unit": "versions/s",
                    "baseline_text": f"p50/p99 {run['latency_p50_ms']}/{run['latency_p99_ms']} ms"
                    + (f", {failures} failed" if failures else ""),
                    "ratio": run["versions_per_s"] / base["versions_per_s"]
                    if label.startswith("one")
                    else None,
                    "target": "no failures",
                    "result": verdict(failures == 0),
                }
            )
        verify_one = results["verify_one_artifact"]
        one_detail = verify_one["detail"].get(target, {})
        rows.append(
            {
                "figure": "one artifact: versions exactly 1..N, one is_latest",
                "value": f"N={one_detail.get('versions')}",
                "unit": "",
                "baseline_text": f"expected N={one_detail.get('expected')}",
                "target": "1..N, latest=N",
                "result": verdict(verify_one["ok"]),
            }
        )
        rows.append(
            {
                "figure": "distinct artifacts: versions 1..2, contents as sent",
                "value": results["verify_distinct_artifacts"]["artifacts_checked"],
                "unit": "artifacts",
                "target": "all",
                "result": verdict(results["verify_distinct_artifacts"]["ok"]),
            }
        )
        rows.append(
            {
                "figure": "model invariants at the end (every row)",
                "value": "ok" if invariants_end["ok"] else ",".join(invariants_end["violations"]),
                "unit": "",
                "target": "all hold",
                "result": verdict(invariants_end["ok"]),
            }
        )
        rows.append(
            {
                "figure": "server log: tracebacks/errors",
                "value": results["server_log_errors"],
                "unit": "",
                "target": "0",
                "result": verdict(results["server_log_errors"] == 0),
            }
        )
        results["rows"] = rows
        results["passed"] = all(row["result"] != "FAIL" for row in rows)
        return 0 if results["passed"] else 1
    except BaseException as error:
        results["error"] = repr(error)
        log(f"ERROR: {error!r}")
        log_file = work / "uvicorn.log"
        if log_file.exists():
            print("--- uvicorn log (tail) ---\n" + log_file.read_text(errors="replace")[-3000:])
        raise
    finally:
        stop_process(uvicorn, "uvicorn")
        if uvicorn_log is not None:
            uvicorn_log.close()
        if db_created and not args.keep_db:
            try:
                database_drop(args.pg_admin_url, db_name)
                log(f"dropped database {db_name}")
            except Exception as error:
                log(f"could not drop database {db_name}: {error!r}")
        finish_run(
            results,
            rows,
            name="artifacts",
            title=f"Depot artifact benchmarks, {n_artifacts} artifacts, PostgreSQL",
            suffix="-quick" if args.quick else "",
            latest=not args.quick,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
