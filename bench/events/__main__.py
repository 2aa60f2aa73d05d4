"""Depot event benchmarks: commit -> WebSocket push, commit -> long-poll return, and 1,000
waiting long-polls on one process, each against a baseline measured in the same run.

    .venv/bin/python -m bench.events [--quick] [--skip-redis]

Run from the repository root. See bench/README.md for what each figure means. Two profiles,
each on one uvicorn process with a fresh DEPOT_DATA_DIR:

- embedded: SQLite, local disk, in-memory channel layer;
- redis: PostgreSQL (a database created for the run and dropped after it) and Redis (one db
  number, checked empty first and flushed after).

Everything it starts (uvicorn, client processes) is stopped in `finally`.

Latency is measured across processes with time.perf_counter (CLOCK_MONOTONIC on Linux, one
clock for the whole machine): t0 = when the writer has read the upload's 201 response (the
commit happened before the response was sent), t1 = when the reader has the WebSocket message
or the long-poll response naming that attachment. t1 - t0 is reported as is: negative when
the push beats the HTTP response. Units: ms; RSS in MiB.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import log
from bench.common.databases import database_create, database_drop_logged
from bench.common.process import UvicornServer, bootstrap, depot_env, exit_on_sigterm
from bench.common.report import (
    Figure,
    check,
    code_fingerprint,
    fail,
    finish_run,
    info,
    new_results,
    passed,
)
from bench.events.diag import ActivityWatch, run_diag
from bench.events.phases import phase_long_poll, phase_many_polls, phase_ws
from bench.events.report import profile_rows, strip_samples

PROFILES = ("embedded", "redis")


def redis_cli(db: int, *args: str) -> str:
    command = ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(db), *args]
    done = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60)
    return done.stdout.strip()


# One option a line (the formatter would spread each over several).
# fmt: off
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.events", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: 100 WS events, 50 long-poll events, 200 "
        "polls waiting 20 s; does not overwrite results/latest-events.json")
    add("--events", type=int, help="WS events (default 1000)")
    add("--lp-events", type=int, help="long-poll events (500)")
    add("--polls", type=int, help="concurrent long-polls (1000)")
    add("--skip-redis", action="store_true", help="embedded profile only")
    add("--pg-url", default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server (a database is created on it and dropped)")
    add("--redis-db", type=int, default=13, help="Redis db number (must be empty)")
    add("--tmp-root", default="/tmp", help="where the temporary folder goes")
    add("--keep", action="store_true", help="keep the temporary folder")
    add("--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the servers (A/B experiments, e.g. "
        "DEPOT_EVENTS_POLL_SECONDS=1); such runs never write results/latest-events.json")
    return parser.parse_args()
# fmt: on


def run_profile(
    profile: str, server: UvicornServer, r: dict[str, Any], ctx: Any, s: dict[str, Any]
) -> None:
    """The phases on one profile's running server, their results into `r`."""
    r["ws"] = ws = phase_ws(
        ctx, server, events=s["ws_events"], warmup=s["warmup"], pause_s=0.007, pings=200
    )
    log(
        f"[{profile}] WS: {ws['delivered']}/{ws['uploads']} delivered, latency "
        f"{ws['latency']}, upload RTT p50 {ws['upload_rtt'].get('p50')} ms"
    )
    r["long_poll"] = lp = phase_long_poll(
        ctx, server, events=s["lp_events"], warmup=s["warmup"], settle_s=0.05, wait_seconds=30
    )
    log(
        f"[{profile}] long-poll: {lp['delivered']}/{lp['uploads']} delivered, latency "
        f"{lp['latency']}, immediate poll RTT p50 {lp['immediate_poll_rtt'].get('p50')} ms"
    )
    log(f"[{profile}] diagnostics (a child process with the server's settings)")
    r["diag"] = run_diag(server.env, ws["session_id"], 200)
    log(f"  {r['diag']}")
    if profile != "embedded":
        return
    # A waiting long-poll re-reads the log every DEPOT_LONGPOLL_RECHECK_SECONDS (+-20%
    # jitter) or, in older code, DEPOT_EVENTS_POLL_SECONDS: measure over one whole period, as
    # far as the polls' own wait leaves room for it.
    effective = r["diag"]["settings"]
    recheck = (
        effective.get("DEPOT_LONGPOLL_RECHECK_SECONDS")
        or effective.get("DEPOT_EVENTS_POLL_SECONDS")
        or 5.0
    )
    poll_wait = s["poll_wait_seconds"]
    r["many_polls_span_s"] = span = min(1.2 * float(recheck), max(5.0, (poll_wait - 15) / 2))
    r["many_polls"] = many = phase_many_polls(
        ctx, server, polls=s["polls"], wait_seconds=poll_wait, gets=s["gets"], span_s=span, wakes=10
    )
    log(
        f"[{profile}] polls: {many['correct']}/{many['polls']} correct, "
        f"{many['errors']} errors, RSS peak {many['peak_rss_mib']} MiB, GET p99 idle "
        f"{many['get_idle'].get('p99')} / loaded {many['get_loaded'].get('p99')} ms"
    )


def main() -> int:
    args = parse_args()
    server_env = dict(item.split("=", 1) for item in args.server_env)
    n_polls = args.polls or (200 if args.quick else 1000)
    settings = {
        "ws_events": args.events or (100 if args.quick else 1000),
        "lp_events": args.lp_events or (50 if args.quick else 500),
        "warmup": 20,
        "polls": n_polls,
        "poll_wait_seconds": 20.0 if args.quick else 60.0,
        "gets": 50 if args.quick else 200,
        "percentile": "nearest rank",
        "server_env": server_env,
    }
    profiles = ["embedded"] if args.skip_redis else list(PROFILES)
    exit_on_sigterm()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n_polls + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n_polls + 1024), hard))
    ctx = mp.get_context("spawn")

    work = Path(tempfile.mkdtemp(prefix="depot-bench-events-", dir=Path(args.tmp_root)))
    machine = {
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
        "clock": str(time.get_clock_info("perf_counter")),
    }
    results = new_results("events", work, machine=machine, fingerprint=True, quick=args.quick)
    results |= {"settings": settings, "profiles": {}}
    rows: list[Figure] = []
    servers: list[UvicornServer] = []
    pg_admin, pg_db = f"{args.pg_url}/postgres", f"depot_bench_{uuid.uuid4().hex[:10]}"
    pg_created = redis_used = False
    watch = ActivityWatch().__enter__()
    try:
        for profile in profiles:
            r: dict[str, Any] = {}
            results["profiles"][profile] = r
            data_dir = work / f"data-{profile}"
            data_dir.mkdir()
            # depot_env pins DATABASE_URL to the SQLite file, which turns the in-process task
            # worker's default (on only without DATABASE_URL) off: say what each profile runs.
            env = depot_env(data_dir, DEPOT_EMBEDDED_WORKER="1" if profile == "embedded" else "0")
            if profile == "redis":
                size = redis_cli(args.redis_db, "DBSIZE")
                if size != "0":
                    raise RuntimeError(f"Redis db {args.redis_db} holds {size} keys; pick another")
                redis_used = True
                database_create(pg_admin, pg_db)
                pg_created = True
                env["DATABASE_URL"] = r["database"] = f"{args.pg_url}/{pg_db}"
                env["REDIS_URL"] = r["redis"] = f"redis://127.0.0.1:6379/{args.redis_db}"
            env |= server_env
            r["inprocess_worker"] = env["DEPOT_EMBEDDED_WORKER"]
            # Lifespan on: it starts the embedded default's task worker process
            # (config/lifespan.py), which extracts and indexes every uploaded text file.
            server = UvicornServer(profile, env, work / f"uvicorn-{profile}.log", lifespan="on")
            servers.append(server)
            server.api_key = bootstrap(env)["api_key"]
            server.start()
            run_profile(profile, server, r, ctx, settings)
            server.stop()
            r["server_log_errors"], r["server_log_tail"] = server.log_errors()
            rows += profile_rows(profile, r)
        watch.__exit__()
        results["concurrent_processes"] = others = watch.summary()
        results["code_fingerprint_end"] = code_fingerprint()
        unchanged = results["code_fingerprint_end"] == results["code_fingerprint_start"]
        seen = "; ".join(f"{c['first']}-{c['last']} {c['command'][:60]}" for c in others[:3])
        # fmt: off
        rows += [
            check("code unchanged during the run (outside bench/, tests/)", str(unchanged), "",
                  unchanged, target="True"),
            info("other benchmarks/tests running meanwhile", len(others), "processes",
                 baseline=seen or "-"),
        ]
        # fmt: on
        return 0 if passed(rows) else 1
    except BaseException as error:
        fail(results, error, work)
        raise
    finally:
        watch.__exit__()
        for server in servers:
            server.stop()
        if pg_created:
            database_drop_logged(pg_admin, pg_db)
        if redis_used:
            try:
                redis_cli(args.redis_db, "FLUSHDB")
                log(f"flushed Redis db {args.redis_db}")
            except subprocess.SubprocessError as error:
                log(f"could not flush Redis db {args.redis_db}: {error}")
        unchanged = results.get("code_fingerprint_end") == results["code_fingerprint_start"]
        finish_run(
            results,
            rows,
            name="events",
            title="Depot event benchmarks",
            suffix="-quick" if args.quick else "",
            latest=not args.quick and not server_env and unchanged,
            latest_filter=strip_samples,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
