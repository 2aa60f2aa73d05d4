"""`python -m bench.small`: small requests (issue 11) on three servers started in one run —
Depot on the embedded default, Depot on the production profile (PostgreSQL, Redis; blobs on
local disk so both Depots write bytes alike) and the bare baseline (bench/small/baseline.py) —
each workload run on each server in turn, round after round, each round starting on the next
server (A, B, C, then B, C, A, then C, A, B, ...), every
Depot figure printed as a ratio to the baseline's in the same round (medians over rounds).
`--server uvicorn,granian` serves each of them under both ASGI servers in the same run
(bench/small/servers.py), each Depot's ratio taken to the baseline on its own server.
`--before PATH` also serves each Depot profile from another checkout (a git worktree at an
older commit, run with this .venv's python and uvicorn and cwd=PATH), as `embedded-before`
and `production-before`, in the same rounds; the report adds its ratio to the baseline and
after / before (info)."""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench.common import REPO, log
from bench.common.databases import DEFAULT_PG_ADMIN, database_create, database_drop_logged, pg_url
from bench.common.process import UvicornServer, bootstrap, depot_env, exit_on_sigterm
from bench.common.report import fail, finish_run, new_results
from bench.small import phases, report
from bench.small.servers import SERVERS, log_path, name_for, server_class

BASELINE_APP = "bench.small.baseline:app"


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.small", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows, 2 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (5)")
    parser.add_argument("--seconds", type=float, default=None, help="window per workload (4)")
    parser.add_argument(
        "--flat", type=int, default=None, help="uploads into one session for the flatness check"
    )
    parser.add_argument("--no-prod", action="store_true", help="skip the production profile")
    parser.add_argument("--pg-admin", default=os.environ.get("BENCH_PG_ADMIN", DEFAULT_PG_ADMIN))
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--only", default="", help="comma list of workloads to run")
    parser.add_argument(
        "--server",
        default="uvicorn",
        help="comma list of ASGI servers, each serving every app (uvicorn, granian)",
    )
    parser.add_argument(
        "--before",
        default="",
        help="another checkout of Depot (no .venv of its own) served beside this one, "
        "each profile as <profile>-before, in the same rounds",
    )
    options = parser.parse_args()
    options.servers = [s for s in options.server.split(",") if s]
    options.trees = {"": REPO}
    if options.before:
        before = Path(options.before).resolve()
        if not (before / "manage.py").is_file():
            parser.error(f"--before: no manage.py in {before}")
        options.trees["-before"] = before
    unknown = set(options.servers) - set(SERVERS)
    if unknown or not options.servers:
        parser.error(f"--server: one or more of {', '.join(SERVERS)}")
    return options


def _tree_state(tree: Path) -> dict[str, Any]:
    """The --before checkout: its path, commit and uncommitted files."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True)
        return done.stdout

    return {
        "tree": str(tree),
        "commit": git("rev-parse", "HEAD").strip(),
        "dirty_files": git("status", "--porcelain").splitlines(),
    }


def main() -> int:
    exit_on_sigterm()
    options = _options()
    rounds = options.rounds or (2 if options.quick else 5)
    seconds = options.seconds or (1.5 if options.quick else 4.0)
    flat = options.flat if options.flat is not None else (0 if options.quick else 5000)
    workloads = [w for w in phases.WORKLOADS if not options.only or w in options.only.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-small-"))
    results = new_results(
        "small",
        work,
        rounds=rounds,
        seconds=seconds,
        flat=flat,
        fingerprint=True,
        servers=options.servers,
    )
    if options.before:
        results["before"] = _tree_state(options.trees["-before"])
        log(f"--before: {results['before']['tree']} at {results['before']['commit'][:12]}")
    servers: list[UvicornServer] = []
    run_id = uuid.uuid4().hex[:8]
    databases: list[str] = []  # one per server, so each Depot has its own
    rows: list[Any] = []
    try:
        for kind in options.servers:
            cls = server_class(kind)
            profiles = ["embedded"] + ([] if options.no_prod else ["production"])
            for profile in profiles:
                # This checkout's Depot, then (with --before) the other tree's, side by side.
                for suffix, tree in options.trees.items():
                    name = name_for(profile + suffix, kind, options.servers)
                    settings: dict[str, str] = {}
                    if profile == "production":
                        database = f"bench_small_{run_id}_{kind}{suffix.replace('-', '_')}"
                        database_create(options.pg_admin, database)
                        databases.append(database)
                        settings = {
                            "DATABASE_URL": pg_url(options.pg_admin, database),
                            "REDIS_URL": options.redis_url,
                        }
                    env = depot_env(work / name, tree if tree != REPO else None, **settings)
                    depot = cls(name, env, log_path(work, name), lifespan="on", tree=tree)
                    depot.api_key = bootstrap(depot.env, cwd=tree)["api_key"]
                    servers.append(depot)
            name = name_for("baseline", kind, options.servers)
            baseline = cls(
                name,
                depot_env(
                    work / name,
                    BASELINE_DIR=str(work / name),
                    DJANGO_SETTINGS_MODULE="config.settings",
                ),
                log_path(work, name),
                lifespan="on",
                app=BASELINE_APP,
            )
            servers.append(baseline)
        for server in servers:
            server.start()
        list_session = f"list-{uuid.uuid4().hex[:8]}"
        for server in servers:
            phases.seed_list(server, server.api_key, list_session)
            # A first window off the record: imports, caches, first connections.
            for workload in workloads:
                phases.measure(
                    server,
                    phases.plan_for(workload, server.port, server.api_key, list_session, 0.5),
                )
        windows: dict[str, dict[str, list[dict[str, Any]]]] = {
            w: {s.name: [] for s in servers} for w in workloads
        }
        for number in range(rounds):
            # Each round starts on the next server (A B C, B C A, C A B, ...): a window run
            # first after the previous workload measured worse p99s than the same server run
            # later in the round (2026-12-02: embedded p99 81-105 ms first, 70-74 ms second),
            # so a fixed order would charge that to whoever comes first.
            shift = number % len(servers)
            in_turn = servers[shift:] + servers[:shift]
            for workload in workloads:
                for server in in_turn:
                    plan = phases.plan_for(
                        workload, server.port, server.api_key, list_session, seconds
                    )
                    figures = phases.measure(server, plan)
                    windows[workload][server.name].append(figures)
                    log(
                        f"round {number + 1}/{rounds} {workload:8} {server.name:17} "
                        f"{figures['rate']:8.1f}/s p99 {figures['latency']['p99_ms']} ms "
                        f"cpu {figures['cpu_ms_per_request'] or 0:.2f} ms/req"
                        + (
                            f" FAILURES {figures['failures']} {figures['bad_statuses']}"
                            if figures["failures"]
                            else ""
                        )
                    )
        results["windows"] = windows
        flatness: dict[str, Any] = {}
        if flat:
            window = max(1, min(500, flat // 10))
            for server in servers:
                # Both Depot profiles and the baseline (its own drift over the same uploads,
                # shown beside them); another checkout's Depot is left out.
                if "-before" in server.name:
                    continue
                log(f"flatness: {flat} uploads into one session on {server.name}")
                flatness[server.name] = phases.flat_run(server, server.api_key, flat, window)
                log(f"  {flatness[server.name]}")
            results["flatness"] = flatness
        results["log_errors"] = {s.name: s.log_errors()[0] for s in servers}
        rows = report.rows(windows, flatness, results["log_errors"])
    except BaseException as error:
        fail(results, error, work)
        if not isinstance(error, Exception):
            raise
    finally:
        for server in servers:
            server.stop()
        for database in databases:
            database_drop_logged(options.pg_admin, database)
        finish_run(
            results,
            rows,
            name="small",
            title="Small requests (bench.small)",
            suffix="-quick" if options.quick else "",
            latest=not options.quick
            and not options.only
            and not options.before
            and options.servers == ["uvicorn"],
            work=work,
            keep=options.keep,
        )
    return 0 if rows and report.passed(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
