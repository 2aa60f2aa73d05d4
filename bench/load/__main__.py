"""Sustained load on the production profile (issue 14): `python -m bench.load [--quick]`.

What one run does:
1. A scratch PostgreSQL database (`depot_load_bench_<random>`, dropped at the end), Redis at
   `--redis-url`, S3 on moto under a prefix of its own (`load-bench-<random>/`, emptied at the
   end); `manage.py migrate`; then, through product code (bench/load/setup.py), an organization,
   a workspace, a read-write key and the sessions.
2. Two uvicorns from one command line (bench/load/servers.py): Depot, and the bare ASGI app of
   bench/load/bare.py as the baseline.
3. Seeding over HTTP: 40 small attachments (1–16 KiB) to read and download, 32 artifacts in
   the 8 "hot" sessions the workload writes into.
4. The socket process (bench/load/sockets.py): `--websockets` (200) WebSockets and `--polls`
   (200) long-polls with `wait_seconds=25`, one of each on every hot session, the rest on idle
   sessions. Once they are all open, the load.
5. The locust process (bench/load/workload.py): `--users` (32) users without think time, a
   warm-up on Depot, then blocks alternating Depot (`--block` s) and the bare app (half as
   long) until Depot has had `--duration` (120) s.
6. Meanwhile VmRSS of Depot's uvicorn, once a second. After the load, every WebSocket must
   answer a ping and hold every event of its session, every poll must still be waiting; then
   the servers stop, their logs are searched for tracebacks, the database and the S3 prefix go.

A table on stdout, everything in bench/results/load-<stamp>[-quick].json; a full run with the
default figures whose code did not change under it also writes bench/results/latest-load.json.
Exit status 0 when every check passed, 1 when one failed, 2 when the run itself failed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import PYTHON, REPO, log
from bench.common.databases import DEFAULT_PG_ADMIN, database_create, database_drop, pg_url
from bench.common.multipart import multipart_body
from bench.common.process import (
    UvicornServer,
    depot_env,
    exit_on_sigterm,
    manage,
    status_kib,
    stop_process,
)
from bench.common.report import code_fingerprint, fail, finish_run, new_results, passed
from bench.common.worker import run_worker
from bench.load import report
from bench.load.servers import RssSampler

HOT_SESSIONS = 8
KIB = 1024


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="CI's version: 20 s, 50+50 sockets")
    parser.add_argument("--duration", type=float, help="seconds of load on Depot (120; quick 20)")
    parser.add_argument("--block", type=float, help="seconds per Depot block (10; quick 5)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up on Depot (10; quick 3)")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--websockets", type=int, help="open WebSockets (200; quick 50)")
    parser.add_argument("--polls", type=int, help="waiting long-polls (200; quick 50)")
    parser.add_argument("--poll-wait", type=int, help="the polls' wait_seconds (25; quick 10)")
    parser.add_argument("--pg-admin", default=DEFAULT_PG_ADMIN)
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/14"
    )
    parser.add_argument(
        "--s3-endpoint", default=os.environ.get("S3_ENDPOINT_URL") or "http://127.0.0.1:5055"
    )
    parser.add_argument("--s3-bucket", default=os.environ.get("S3_BUCKET") or "depot-ci")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    options = parser.parse_args()
    quick = options.quick
    defaults = {
        "duration": 20 if quick else 120,
        "block": 5 if quick else 10,
        "warmup": 3 if quick else 10,
        "websockets": 50 if quick else 200,
        "polls": 50 if quick else 200,
        "poll_wait": 10 if quick else 25,
    }
    options.default_figures = all(getattr(options, key) is None for key in defaults) and (
        options.users == 32
    )
    for key, value in defaults.items():
        if getattr(options, key) is None:
            setattr(options, key, value)
    if options.websockets < HOT_SESSIONS or options.polls < HOT_SESSIONS:
        parser.error(f"--websockets and --polls must be at least {HOT_SESSIONS}")
    return options


def schedule(duration: float, block: float) -> list[tuple[str, float]]:
    """Depot blocks of `block` s until `duration`, each followed by a bare block half as long."""
    blocks, left = [], duration
    while left > 1e-9:
        seconds = min(block, left)
        blocks += [("depot", seconds), ("bare", seconds / 2)]
        left -= seconds
    return blocks


def s3_settings(options: argparse.Namespace, prefix: str) -> dict[str, str]:
    return {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": options.s3_endpoint,
        "S3_BUCKET": options.s3_bucket,
        "S3_REGION": os.environ.get("S3_REGION") or "us-east-1",
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID") or "testing",
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY") or "testing",
        "S3_PREFIX": prefix,
    }


def s3_bucket(settings: dict[str, str]) -> Any:
    import boto3

    resource = boto3.resource(
        "s3",
        endpoint_url=settings["S3_ENDPOINT_URL"],
        region_name=settings["S3_REGION"],
        aws_access_key_id=settings["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["S3_SECRET_ACCESS_KEY"],
    )
    return resource.Bucket(settings["S3_BUCKET"])


def check_services(options: argparse.Namespace, s3: dict[str, str]) -> None:
    """PostgreSQL, Redis and S3 answer, before anything is made."""
    import redis

    from bench.common.databases import pg

    pg(options.pg_admin, "SELECT 1")
    redis.Redis.from_url(options.redis_url, socket_timeout=5).ping()
    bucket = s3_bucket(s3)
    if bucket.creation_date is None:  # moto starts empty
        bucket.create()


def seed(
    server: UvicornServer, api_key: str, hot: list[str], rng: random.Random, *, quick: bool
) -> dict[str, Any]:
    """What the workload reads and versions, made over HTTP as any client would: small
    attachments to read and download, artifacts (in the hot sessions) to version."""
    http = requests.Session()
    http.headers["X-API-Key"] = api_key
    downloads = []
    for number in range(16 if quick else 40):
        data = rng.randbytes(rng.randint(1 * KIB, 16 * KIB))
        body, content_type = multipart_body(data, f"seed-{number}.bin")
        response = http.post(
            f"{server.base_url}/api/uploads/load-seed",
            data=body,
            headers={"Content-Type": content_type},
            timeout=30,
        )
        response.raise_for_status()
        attachment = response.json()["attachment_id"]
        downloads.append(
            {"session_id": "load-seed", "attachment_id": attachment, "size": len(data)}
        )
    artifacts = []
    for number in range(16 if quick else 32):
        response = http.post(
            f"{server.base_url}/api/artifacts",
            json={
                "workflow_id": "load",
                "artifact_type": "report",
                "title": f"load artifact {number}",
                "content": f"# load artifact {number}\n\n" + "seed text " * 100,
                "session_id": hot[number % len(hot)],
            },
            timeout=30,
        )
        response.raise_for_status()
        artifacts.append(response.json()["id"])
    return {"downloads": downloads, "artifacts": artifacts}


def read_ready(process: subprocess.Popen, timeout: float) -> dict[str, Any]:
    """The socket process's READY line (its other output is passed on)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"socket process ended ({process.wait()}) before it was ready")
        if line.startswith("READY "):
            return json.loads(line[len("READY ") :])
        print(line, end="", flush=True)
    raise RuntimeError("socket process not ready in time")


def run(options: argparse.Namespace, results: dict[str, Any], work: Path) -> list[Any]:
    token = secrets.token_hex(4)
    database = f"depot_load_bench_{token}"
    s3 = s3_settings(options, f"load-bench-{token}/")
    results["database"], results["s3_prefix"] = database, s3["S3_PREFIX"]
    # Two cores shared with other people's work: how busy the machine was, at both ends.
    results["load_average_start"] = os.getloadavg()
    timings: dict[str, float] = {}
    results["timings"] = timings
    began = time.monotonic()
    check_services(options, s3)
    database_create(options.pg_admin, database)
    servers: list[UvicornServer] = []
    children: list[subprocess.Popen] = []
    sampler: RssSampler | None = None
    try:
        env = depot_env(
            work / "data",
            DATABASE_URL=pg_url(options.pg_admin, database),
            REDIS_URL=options.redis_url,
            DEPOT_EMBEDDED_WORKER="0",
            # No rate limit: a 429 would be the limiter working, not a failure of the server.
            DEPOT_RATE_LIMIT_READS="",
            DEPOT_RATE_LIMIT_WRITES="",
            DJANGO_SETTINGS_MODULE="config.settings",
            **s3,
        )
        (work / "data").mkdir()
        log(f"database {database}: migrate")
        manage(env, "migrate", "--noinput")
        hot = [f"load-hot-{n}" for n in range(HOT_SESSIONS)]
        idle = [f"load-idle-{n}" for n in range(max(options.websockets, options.polls))]
        tenant = run_worker(
            "bench.load.setup",
            "tenant_create",
            {"organization": "load", "workspace": "main", "session_ids": [*hot, *idle]},
            env,
            timeout=120,
        )
        # As the Dockerfile serves Depot: the lifespan on, which with DEPOT_EMBEDDED_WORKER=0
        # starts no task worker (production runs `manage.py db_worker` apart).
        depot = UvicornServer("depot", env, work / "uvicorn-depot.log", lifespan="on")
        servers.append(depot.start())
        bare = UvicornServer(
            "bare", env, work / "uvicorn-bare.log", lifespan="on", app="bench.load.bare:app"
        )
        servers.append(bare.start())
        results["server_command"] = depot.command
        timings["setup_s"] = round(time.monotonic() - began, 1)
        seeded = seed(
            depot, tenant["api_key"], hot, random.Random(options.seed), quick=options.quick
        )
        log(f"seeded {len(seeded['downloads'])} attachments, {len(seeded['artifacts'])} artifacts")
        timings["seed_s"] = round(time.monotonic() - began - timings["setup_s"], 1)

        sampler = RssSampler(depot.pid).start()
        results["rss_idle_mib"] = round((status_kib(depot.pid, "VmRSS") or 0) / 1024, 1)
        sockets_plan = {
            "depot_url": depot.base_url,
            "api_key": tenant["api_key"],
            "websockets": [[sid, True] for sid in hot]
            + [[sid, False] for sid in idle[: options.websockets - HOT_SESSIONS]],
            "polls": hot + idle[: options.polls - HOT_SESSIONS],
            "poll_wait_seconds": options.poll_wait,
            "ping_seconds": 10.0,
            "catch_up_seconds": 15.0,
        }
        (work / "sockets-plan.json").write_text(json.dumps(sockets_plan))
        socket_process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.load.sockets",
                *(str(work / n) for n in ("sockets-plan.json", "sockets.json")),
            ],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        children.append(socket_process)
        mark = time.monotonic()
        ready = read_ready(socket_process, timeout=180)
        timings["sockets_open_s"] = round(time.monotonic() - mark, 1)
        log(f"sockets: {ready['ws_open']} WebSockets open, {ready['polls_waiting']} polls waiting")
        time.sleep(1.0)
        results["rss_ready_mib"] = round((status_kib(depot.pid, "VmRSS") or 0) / 1024, 1)

        blocks = schedule(options.duration, options.block)
        load_plan = {
            "depot_url": depot.base_url,
            "bare_url": bare.base_url,
            "depot_pid": depot.pid,
            "bare_pid": bare.pid,
            "api_key": tenant["api_key"],
            "namespace_path": "/api/v1/orgs/{organization}/workspaces/{workspace}/namespaces/"
            "{namespace}".format(**tenant),
            "hot_sessions": hot,
            **seeded,
            "upload_min": 4 * KIB,
            "upload_max": 64 * KIB,
            "seed": options.seed,
            "users": options.users,
            "warmup": options.warmup,
            "schedule": blocks,
        }
        (work / "load-plan.json").write_text(json.dumps(load_plan))
        log(
            f"load: {options.users} users, {options.duration:g} s on Depot in blocks of "
            f"{options.block:g} s, interleaved with {options.duration / 2:g} s on the bare app"
        )
        locust = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "bench.load.workload",
                *(str(work / n) for n in ("load-plan.json", "load.json")),
            ],
            cwd=REPO,
            start_new_session=True,
        )
        children.append(locust)
        mark = time.monotonic()
        budget = options.warmup + sum(seconds for _, seconds in blocks) + 120
        if locust.wait(timeout=budget) != 0:
            raise RuntimeError(f"the locust process failed ({locust.returncode})")
        load = json.loads((work / "load.json").read_text())
        timings["load_s"] = round(time.monotonic() - mark, 1)
        results["load_average_end"] = os.getloadavg()
        mark = time.monotonic()

        assert socket_process.stdin is not None and socket_process.stdout is not None
        socket_process.stdin.write("STOP\n")
        socket_process.stdin.flush()
        for line in socket_process.stdout:
            if line.strip() == "DONE":
                break
            print(line, end="", flush=True)
        socket_process.wait(timeout=60)
        sockets = json.loads((work / "sockets.json").read_text())
        sampler.stop()
        timings["end_checks_s"] = round(time.monotonic() - mark, 1)

        start, end = load["blocks"][0]["start"], load["blocks"][-1]["end"]
        results["rss"] = report.rss_windows(sampler.samples, start, end)
        results["rss_samples"] = [
            [round(t - start, 2), round(kib / 1024, 1)] for t, kib in sampler.samples
        ]
    finally:
        if sampler is not None:
            sampler.stop()
        for child in children:
            stop_process(child, "child")
        for server in servers:
            server.stop()
        try:
            database_drop(options.pg_admin, database)
        except Exception as error:
            log(f"could not drop {database}: {error!r}")
        try:
            s3_bucket(s3).objects.filter(Prefix=s3["S3_PREFIX"]).delete()
        except Exception as error:
            log(f"could not empty s3://{options.s3_bucket}/{s3['S3_PREFIX']}: {error!r}")

    timings["total_s"] = round(time.monotonic() - began, 1)
    results["server_log_errors"], tail = servers[0].log_errors()
    if results["server_log_errors"]:
        print("--- Depot's uvicorn log (tail) ---\n" + tail)
    results["load"] = {k: v for k, v in load.items() if k != "latencies_ms"}
    results["sockets"] = sockets
    results["throughput"] = {t: report.throughput(load, t) for t in ("depot", "bare")}
    results["latency"] = {
        "depot_reads": report.aggregate(load, "depot", reads_only=True),
        "bare_reads": report.aggregate(load, "bare", reads_only=True),
        "depot_all": report.aggregate(load, "depot", reads_only=False),
        "bare_all": report.aggregate(load, "bare", reads_only=False),
    }
    results["routes"] = report.route_table(load)
    results["code_unchanged"] = code_fingerprint() == results["code_fingerprint_start"]
    print()
    print(report.render_routes(results["routes"]))
    return report.rows(results)


def main() -> int:
    exit_on_sigterm()
    options = arguments()
    work = Path(tempfile.mkdtemp(prefix="depot-bench-load-"))
    results = new_results(
        "load",
        work,
        fingerprint=True,
        quick=options.quick,
        parameters={
            k: getattr(options, k)
            for k in ("duration", "block", "warmup", "users", "websockets", "polls", "poll_wait")
        },
        profile={"database": "postgresql", "channel_layer": options.redis_url, "storage": "s3"},
    )
    rows: list[Any] = []
    try:
        rows = run(options, results, work)
    except BaseException as error:
        fail(results, error, work)
        finish_run(
            results, [], name="load", title="", suffix="-failed", latest=False, work=work, keep=True
        )
        return 2
    finish_run(
        results,
        rows,
        name="load",
        title="Sustained load, production profile (PostgreSQL, Redis, S3 on moto)",
        suffix="-quick" if options.quick else ("" if options.default_figures else "-custom"),
        latest=options.default_figures and not options.quick and results["code_unchanged"],
        work=work,
        keep=options.keep,
    )
    return 0 if passed(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
