"""Depot artifact benchmarks on the production profile (PostgreSQL): list and detail latency
over 100,000 artifacts, SQL queries per request, and the version-creation rate on one artifact
with 1 and 8 writers, each against a baseline measured in the same run.

    .venv/bin/python -m bench.artifacts [--artifacts 100000] [--quick]

Run from the repository root. Needs PostgreSQL on 127.0.0.1:5432 with user `postgres` and
trust auth (override with --pg-admin-url). It creates a dedicated database (--db-name, default
depot_bench_artifacts) and drops it in `finally`, unless --keep-db is given; uvicorn is stopped
and the temporary folder removed in `finally` too. See bench/README.md for what each figure
means. The Django side (populate, querycount) is bench/artifacts/populate.py, run through
bench.common.worker against the benchmark database.
"""

# ruff: noqa: S608  (SQL text holds table names from Django _meta, never input)
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.artifacts import phases
from bench.artifacts.phases import READ_ROUTES, TEXT_MAX_BYTES, TEXT_MIN_BYTES, encode_cursor
from bench.artifacts.report import rows as artifact_rows
from bench.common import log
from bench.common.databases import (
    DEFAULT_PG_ADMIN,
    database_create,
    database_drop_logged,
    pg,
    pg_url,
)
from bench.common.process import UvicornServer, bootstrap, depot_env, exit_on_sigterm
from bench.common.report import Figure, fail, finish_run, new_results, passed
from bench.common.worker import run_worker

DEFAULT_DB = "depot_bench_artifacts"
POPULATE = "bench.artifacts.populate"


# One option a line (the formatter would spread each over several).
# fmt: off
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.artifacts", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--artifacts", type=int, help="default 100000")
    add("--versions", type=int, help="extra versions via the service (default 3000)")
    add("--requests", type=int, help="per read route (default 500)")
    add("--small-artifacts", type=int, default=1000, help="artifacts of a second namespace, "
        "whose list is compared with the big one's (default 1000; 0: no list-scaling phase)")
    add("--scaling-rounds", type=int, help="rounds of the list-scaling phase (default 500)")
    add("--no-writes", action="store_true", help="skip the PUT runs; does not overwrite "
        "results/latest-artifacts.json")
    add("--quick", action="store_true", help="smoke run: 3,000 artifacts, 150 versions, 60 "
        "requests per route, short write windows; does not overwrite results/latest-artifacts.json")
    add("--db-name", default=DEFAULT_DB)
    add("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    add("--keep-db", action="store_true", help="do not drop the database")
    add("--keep", action="store_true", help="keep the temporary folder")
    add("--seed", type=int, default=1)
    return parser.parse_args()
# fmt: on


def query_count_requests(
    ns_path: str, roots: list[tuple[int, str]], versioned: set[int], put_target: str
) -> list[dict[str, str]]:
    """The requests whose SQL is counted (each run 3 times by the querycount worker)."""
    deep_pk = sorted(pk for pk, _ in roots)[len(roots) // 3]
    sample_versioned = next((public for pk, public in roots if pk in versioned), roots[0][1])
    paths = {
        "healthz": "/healthz",
        "sessions_list": "/api/sessions?limit=50",
        "ns_list_first": f"{ns_path}/artifacts?limit=50",
        "ns_list_deep": f"{ns_path}/artifacts?limit=50&cursor={encode_cursor(deep_pk)}",
        "flat_list": "/api/artifacts?limit=50",
        "ns_detail": f"{ns_path}/artifacts/{roots[len(roots) // 2][1]}",
        "ns_detail_versioned": f"{ns_path}/artifacts/{sample_versioned}",
        "flat_detail": f"/api/artifacts/{roots[7][1]}",
    }
    requests = [{"name": name, "method": "GET", "path": path} for name, path in paths.items()]
    put = {
        "name": "ns_put_new_version",
        "method": "PUT",
        "path": f"{ns_path}/artifacts/{put_target}",
    }
    return [*requests, put]


def write_phase(
    r: dict[str, Any],
    server: UvicornServer,
    ns_path: str,
    database: tuple[str, str],
    target: str,
    pool: list[str],
    root_pk_of: dict[str, int],
    bounds: dict[str, Any],
) -> None:
    """Four PUT runs (one artifact or distinct ones, 1 or 8 writers) with a lock watch, then
    the versions they made checked in SQL."""
    database_url, db_name = database
    max_puts = bounds["max_puts"]
    plan = [
        ("one_artifact_1_writer", 1, [target]),
        ("distinct_artifacts_1_writer", 1, pool[:max_puts]),
        ("one_artifact_8_writers", 8, [target]),
        ("distinct_artifacts_8_writers", 8, pool[max_puts : 2 * max_puts]),
    ]
    writes: dict[str, Any] = {}
    sent: dict[str, list[str]] = {}
    for label, writers, run_targets in plan:
        log(
            f"PUT new versions: {label} ({writers} writer(s), "
            f"<= {max_puts} PUTs or {bounds['max_seconds']} s)"
        )
        with phases.LockWatch(database_url, db_name) as locks:
            run = phases.put_run(
                server.base_url,
                server.api_key,
                ns_path,
                run_targets,
                writers=writers,
                label=label,
                **bounds,
            )
        run["locks"] = locks.summary()
        for public, hashes in run.pop("_sent_hashes").items():
            sent.setdefault(public, []).extend(hashes)
        returned = run.pop("_versions_returned")
        if len(run_targets) == 1:
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
    r["writes"] = writes
    table = r["populate"]["artifact_table"]
    one = {target: sent.get(target, [])}
    r["verify_one_artifact"] = phases.verify_versions(database_url, table, root_pk_of, one)
    others = {public: hashes for public, hashes in sent.items() if public != target}
    r["verify_distinct_artifacts"] = distinct = phases.verify_versions(
        database_url, table, root_pk_of, others
    )
    log(f"  one artifact: {r['verify_one_artifact']}")
    log(f"  distinct artifacts: ok={distinct['ok']} ({distinct['artifacts_checked']} checked)")


def list_scaling(
    r: dict[str, Any],
    server: UvicornServer,
    database_url: str,
    ns_path: str,
    roots: list[tuple[int, str]],
    rounds: int,
    seed: int,
) -> None:
    """The seed-002 list at the small namespace's size and at the big one's, and
    `GET /api/sessions/{sid}`, interleaved in one run (issue 11's list target)."""
    populate = r["populate"]
    table = populate["artifact_table"]
    small_pks = [
        row[0]
        for row in pg(
            database_url,
            f"SELECT id FROM {table} WHERE id = root_id AND namespace_id = %s",
            [populate["small_namespace_pk"]],
        )
    ]
    small_path = ns_path.rsplit("/", 1)[0] + f"/{populate['small_namespace']}/artifacts"
    lists = {
        f"ns_list_{len(small_pks)}": (small_path, small_pks),
        f"ns_list_{len(roots)}": (f"{ns_path}/artifacts", [pk for pk, _ in roots]),
    }
    log(
        f"list scaling: {rounds} rounds of the seed-002 list at {len(small_pks)} and at "
        f"{len(roots)} artifacts and GET /api/sessions/{{sid}}, interleaved"
    )
    found = phases.list_scaling_phase(
        server.base_url,
        server.api_key,
        lists,
        f"/api/sessions/{populate['session_id']}",
        rounds=rounds,
        seed=seed + 3,
    )
    found["lists"] = list(lists)
    r["list_scaling"] = found
    for route in (*lists, "session_detail"):
        summary = found[route]
        log(
            f"  {route:16} p50 {summary['p50_ms']:8.2f} ms  p99 {summary['p99_ms']:8.2f} ms  "
            f"{summary['mean_bytes']} B  {summary['statuses']}"
        )
    log(f"  checks: {found['checks']}")


def main() -> int:
    args = parse_args()
    n_artifacts = args.artifacts or (3000 if args.quick else 100_000)
    n_versions = args.versions if args.versions is not None else (150 if args.quick else 3000)
    n_requests = args.requests or (60 if args.quick else 500)
    n_rounds = args.scaling_rounds or (60 if args.quick else 500)
    max_puts, max_seconds = (60, 3.0) if args.quick else (500, 10.0)
    db_name = args.db_name
    database_url = pg_url(args.pg_admin_url, db_name)
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="depot-bench-artifacts-"))
    data_dir = work / "data"
    data_dir.mkdir()
    env = depot_env(data_dir, DATABASE_URL=database_url, DEPOT_EMBEDDED_WORKER="0")
    server = UvicornServer("artifacts", env, work / "uvicorn.log")
    db_created = False
    parameters = {
        "artifacts": n_artifacts,
        "extra_versions": n_versions,
        "requests_per_read_route": n_requests,
        "small_artifacts": args.small_artifacts,
        "list_scaling_rounds": n_rounds,
        "writes": not args.no_writes,
        "put_bounds": {"max_puts": max_puts, "max_seconds": max_seconds},
        "text_bytes": [TEXT_MIN_BYTES, TEXT_MAX_BYTES],
        "seed": args.seed,
    }
    results = new_results("artifacts", work, quick=args.quick, parameters=parameters)
    results["database"] = database_url
    rows: list[Figure] = []
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
        boot = bootstrap(env)
        server.api_key, org, ws = boot["api_key"], boot["organization"], boot["workspace"]
        ns_path = f"/api/v1/orgs/{org}/workspaces/{ws}/namespaces/default"
        key_name = pg(database_url, "SELECT name FROM sessions_app_apikey LIMIT 1")[0][0]

        # -- 1. populate --------------------------------------------------------------------
        log(
            f"populating: {n_artifacts} artifacts (bulk insert), then {n_versions} versions "
            f"through artifacts.services.artifact_version_create, then VACUUM (ANALYZE)"
        )
        began = time.perf_counter()
        params = {
            "org": org,
            "ws": ws,
            "artifacts": n_artifacts,
            "versions": n_versions,
            "small_artifacts": args.small_artifacts,
            "seed": args.seed,
            "batch": 1000,
            "created_by": f"key:{key_name}",
        }
        populate = run_worker(POPULATE, "populate", params, env, timeout=3600)
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
        invariants = phases.check_invariants(database_url, table, event_table)
        results["invariants_after_populate"] = invariants
        log(f"  invariants: ok={invariants['ok']} {invariants['violations']}")
        roots = pg(
            database_url,
            f"SELECT id, artifact_id FROM {table} WHERE id = root_id AND namespace_id = %s "
            "ORDER BY id",
            [populate["namespace_pk"]],
        )
        roots = [(pk, public) for pk, public in roots]
        versioned_rows = pg(
            database_url, f"SELECT root_id FROM {table} GROUP BY root_id HAVING count(*) > 1"
        )
        versioned = {row[0] for row in versioned_rows}
        unversioned = [(pk, public) for pk, public in roots if pk not in versioned]
        server.start()

        # -- 2. reads -------------------------------------------------------------------------
        log("baseline: psycopg connect + SELECT 1 + close (Depot opens one connection a request)")
        connect = phases.baseline_pg_connect(database_url, 200 if not args.quick else 30)
        results["baseline_pg_connect"] = connect
        log(f"  p50 {connect['p50_ms']} ms, p99 {connect['p99_ms']} ms")
        log(f"reads: {n_requests} requests per route, 6 routes interleaved, 1 keep-alive client")
        reads = phases.read_phase(
            server.base_url,
            server.api_key,
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
        if args.small_artifacts:
            list_scaling(results, server, database_url, ns_path, roots, n_rounds, args.seed)

        # -- 3. queries per request -------------------------------------------------------------
        log("queries per request (Django test client + CaptureQueriesContext, same database)")
        qc_put_target = unversioned[len(unversioned) // 2][1]
        query_requests = query_count_requests(ns_path, roots, versioned, qc_put_target)
        params = {"api_key": server.api_key, "requests": query_requests, "repeat": 3}
        query_counts = run_worker(
            POPULATE, "querycount", params | {"explain_ms": 5.0}, env, timeout=600
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
        gap = phases.cursor_gap_check(server.base_url, server.api_key, ns_path, roots)
        results["cursor_gap_check"] = gap
        log(f"  {gap}")

        # -- 4. version creation ----------------------------------------------------------------
        if args.no_writes:
            results["invariants_at_end"] = phases.check_invariants(database_url, table, event_table)
            results["server_log_errors"], results["server_log_tail"] = server.log_errors()
            rows = artifact_rows(results)
            return 0 if passed(rows) else 1
        rng = random.Random(args.seed + 7)
        pool = [item for item in unversioned if item[1] not in (qc_put_target, gap["victim"])]
        rng.shuffle(pool)
        target = pool.pop()[1]
        write_phase(
            results,
            server,
            ns_path,
            (database_url, db_name),
            target,
            [public for _, public in pool],
            {public: pk for pk, public in roots},
            {"max_puts": max_puts, "max_seconds": max_seconds},
        )
        results["invariants_at_end"] = invariants_end = phases.check_invariants(
            database_url, table, event_table
        )
        log(f"  invariants over the whole table: ok={invariants_end['ok']}")
        results["server_log_errors"], results["server_log_tail"] = server.log_errors()
        rows = artifact_rows(results)
        return 0 if passed(rows) else 1
    except BaseException as error:
        fail(results, error, work)
        raise
    finally:
        server.stop()
        if db_created and not args.keep_db:
            database_drop_logged(args.pg_admin_url, db_name)
        finish_run(
            results,
            rows,
            name="artifacts",
            title=f"Depot artifact benchmarks, {n_artifacts} artifacts, PostgreSQL",
            suffix="-quick" if args.quick else "-reads" if args.no_writes else "",
            latest=not args.quick and not args.no_writes,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
