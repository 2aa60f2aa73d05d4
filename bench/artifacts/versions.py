"""The PUT phase of bench.artifacts alone: new versions of one artifact, 1 writer, on
PostgreSQL, optionally against another checkout of Depot in the same run (issue 11's
"≥ 2× today's rate" is measured this way), rounds interleaved A, B, A, B.

    .venv/bin/python -m bench.artifacts.versions [--before /tmp/depot-before] [--tree PATH]
        [--rounds 6] [--puts 400] [--seconds 8] [--artifacts 200] [--quick]

Each tree gets its own scratch database (migrated and bootstrapped by that tree's own code)
and its own uvicorn, started from that tree (cwd and PYTHONPATH), the task worker off as in
bench.artifacts. Each server gets `--artifacts` artifacts over its API and one of them takes
every PUT (`{"content": <unique text>}`, the request bench.artifacts sends, through the same
`phases.put_run`). Per round and tree: versions/s, p50/p99, and the server's CPU per PUT (its
utime+stime over the run, from /proc). The version numbers each tree answered are checked to
be unique and contiguous. Databases are dropped and servers stopped in `finally`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.artifacts import phases
from bench.common import PYTHON, REPO, log
from bench.common.databases import DEFAULT_PG_ADMIN, database_create, database_drop_logged, pg_url
from bench.common.process import (
    depot_env,
    exit_on_sigterm,
    free_port,
    stop_process,
    uvicorn_command,
    wait_http,
)
from bench.common.report import Figure, fail, finish_run, info, new_results


# fmt: off
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.artifacts.versions",
                                     description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--tree", default=str(REPO), help="the checkout measured (default: this one)")
    add("--before", help="another checkout measured in the same run, rounds interleaved")
    add("--rounds", type=int, default=6, help="rounds per tree (default 6)")
    add("--puts", type=int, default=400, help="at most this many PUTs per round (default 400)")
    add("--seconds", type=float, default=8.0, help="at most this long per round (default 8)")
    add("--artifacts", type=int, default=200, help="artifacts made in each database first")
    add("--quick", action="store_true", help="smoke run: 2 rounds of 2 s, 20 artifacts")
    add("--pg-admin-url", default=DEFAULT_PG_ADMIN)
    add("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args()
# fmt: on


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` (its threads included), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TreeServer:
    """One checkout's Depot: its database migrated and bootstrapped by its own code, its
    uvicorn started from it."""

    def __init__(self, label: str, tree: Path, admin_url: str, work: Path) -> None:
        self.label, self.tree = label, tree
        self.db_name = f"depot_bench_versions_{label}"
        self.database_url = pg_url(admin_url, self.db_name)
        data = work / label
        data.mkdir()
        self.env = depot_env(
            data,
            DATABASE_URL=self.database_url,
            DEPOT_EMBEDDED_WORKER="0",
            PYTHONPATH=str(tree),
        )
        self.log_path = work / f"uvicorn-{label}.log"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.boot: dict[str, str] = {}

    def manage(self, *command: str) -> None:
        done = subprocess.run(
            [PYTHON, "manage.py", *command],
            cwd=self.tree,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{self.label}: manage.py {command} failed:\n{done.stderr[-3000:]}")

    def start(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("bootstrap")
        self.boot = json.loads((Path(self.env["DEPOT_DATA_DIR"]) / "bootstrap.json").read_text())
        output = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(
            uvicorn_command(self.port),
            cwd=self.tree,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(f"{self.base_url}/healthz", seconds=60, process=self.process)
        log(f"{self.label}: {self.tree} pid {self.process.pid} on {self.base_url}")

    @property
    def ns_path(self) -> str:
        return (
            f"/api/v1/orgs/{self.boot['organization']}/workspaces/{self.boot['workspace']}"
            "/namespaces/default"
        )

    def make_artifacts(self, count: int) -> str:
        """`count` artifacts; the id of the one in the middle, which takes the PUTs."""
        import requests

        made = []
        with requests.Session() as http:
            for number in range(count):
                response = http.post(
                    f"{self.base_url}{self.ns_path}/artifacts",
                    json={"name": f"bench {number}", "content": f"version 1 of {number}"},
                    headers={"X-API-Key": self.boot["api_key"]},
                    timeout=60,
                )
                response.raise_for_status()
                made.append(response.json()["artifact_id"])
        return made[len(made) // 2]

    def stop(self) -> None:
        stop_process(self.process, f"uvicorn {self.label}", wait=20)


def round_of_puts(server: TreeServer, target: str, args: argparse.Namespace, label: str) -> dict:
    assert server.process is not None
    cpu_before = cpu_seconds(server.process.pid)
    run = phases.put_run(
        server.base_url,
        server.boot["api_key"],
        server.ns_path,
        [target],
        writers=1,
        max_puts=args.puts,
        max_seconds=args.seconds,
        label=label,
    )
    cpu = cpu_seconds(server.process.pid) - cpu_before
    run.pop("_sent_hashes")
    run["versions"] = run.pop("_versions_returned").get(target, [])
    run["server_cpu_ms_per_put"] = round(1000 * cpu / run["ok"], 2) if run["ok"] else None
    return run


def main() -> int:
    args = parse_args()
    if args.quick:
        args.rounds, args.seconds, args.artifacts = 2, 2.0, 20
    exit_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="depot-bench-versions-"))
    trees = {"after": Path(args.tree).resolve()}
    if args.before:
        trees["before"] = Path(args.before).resolve()
    parameters = {key: getattr(args, key) for key in ("rounds", "puts", "seconds", "artifacts")}
    results = new_results("artifacts.versions", work, quick=args.quick, parameters=parameters)
    results["trees"] = {label: str(tree) for label, tree in trees.items()}
    results["tree_commits"] = {
        label: subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        for label, tree in trees.items()
    }
    results["tree_dirty_files"] = {
        label: subprocess.run(
            ["git", "-C", str(tree), "status", "--porcelain"], capture_output=True, text=True
        ).stdout.splitlines()
        for label, tree in trees.items()
    }
    servers = {
        label: TreeServer(label, tree, args.pg_admin_url, work) for label, tree in trees.items()
    }
    created: list[TreeServer] = []
    rows: list[Figure] = []
    try:
        targets = {}
        for label, server in servers.items():
            database_create(args.pg_admin_url, server.db_name)
            created.append(server)
            server.start()
            targets[label] = server.make_artifacts(args.artifacts)
            round_of_puts(server, targets[label], argparse.Namespace(puts=20, seconds=5), "warm")
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in servers}
        order = list(servers)
        for number in range(args.rounds):
            # A, B, A, B: the tree that goes first alternates too.
            for label in order if number % 2 == 0 else order[::-1]:
                run = round_of_puts(servers[label], targets[label], args, f"{label} {number}")
                runs[label].append(run)
                log(
                    f"round {number} {label:6}: {run['versions_per_s']:.1f} versions/s "
                    f"({run['ok']} of {run['attempted']}, {run['statuses']}), p50 "
                    f"{run['latency_p50_ms']} ms, p99 {run['latency_p99_ms']} ms, server CPU "
                    f"{run['server_cpu_ms_per_put']} ms a PUT; load {os.getloadavg()[0]:.1f}"
                )
        summary: dict[str, Any] = {}
        for label, label_runs in runs.items():
            numbers = sorted(n for run in label_runs for n in run.pop("versions"))
            contiguous = numbers == list(range(numbers[0], numbers[0] + len(numbers)))
            summary[label] = {
                "versions_per_s_median": round(
                    statistics.median(run["versions_per_s"] for run in label_runs), 1
                ),
                "versions_per_s_rounds": [round(run["versions_per_s"], 1) for run in label_runs],
                "p50_ms_median": round(
                    statistics.median(run["latency_p50_ms"] for run in label_runs), 2
                ),
                "server_cpu_ms_per_put_median": round(
                    statistics.median(run["server_cpu_ms_per_put"] for run in label_runs), 2
                ),
                "versions_unique_and_contiguous": contiguous,
                "non_200": sum(run["attempted"] - run["ok"] for run in label_runs),
            }
        results["runs"], results["summary"] = runs, summary
        for label, found in summary.items():
            rows.append(
                info(
                    f"new versions of one artifact, 1 writer ({label}: {trees[label]})",
                    found["versions_per_s_median"],
                    "versions/s",
                    baseline=f"rounds {found['versions_per_s_rounds']}; p50 "
                    f"{found['p50_ms_median']} ms; server CPU "
                    f"{found['server_cpu_ms_per_put_median']} ms a PUT; numbers contiguous: "
                    f"{found['versions_unique_and_contiguous']}; non-200: {found['non_200']}",
                )
            )
        if "before" in summary:
            ratio = (
                summary["after"]["versions_per_s_median"]
                / summary["before"]["versions_per_s_median"]
            )
            results["ratio_after_to_before"] = round(ratio, 2)
            rows.append(info("after / before, medians of the interleaved rounds", round(ratio, 2)))
        return 0
    except BaseException as error:
        fail(results, error, work)
        raise
    finally:
        for server in servers.values():
            server.stop()
        for server in created:
            database_drop_logged(args.pg_admin_url, server.db_name)
        finish_run(
            results,
            rows,
            name="artifacts-versions",
            title="Depot: new versions of one artifact, 1 writer, PostgreSQL",
            suffix="-quick" if args.quick else "",
            latest=not args.quick,
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    sys.exit(main())
