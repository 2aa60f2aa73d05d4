"""The workloads, each run by the client process against one server, and the server's CPU
time over the window (utime + stime of the uvicorn process and its children, from /proc)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import uuid
from typing import Any

from bench.common import PYTHON, REPO
from bench.common.stats import latency_summary

TICK = os.sysconf("SC_CLK_TCK")
# name: (connections, expected status, what each connection sends)
WORKLOADS = ("healthz", "list", "upload1", "upload8")


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of `pid` and every descendant, living now."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        if current in stats:
            fields = stats[current]
            total += (int(fields[11]) + int(fields[12])) / TICK
        stack.extend(children.get(current, []))
    return total


def run_client(plan: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "bench.small.client", json.dumps(plan)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"client failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _auth(api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key} if api_key else {}


def _upload(api_key: str, session_id: str) -> dict[str, Any]:
    """The client's request for one upload into `session_id`."""
    return {
        "method": "POST",
        "path": f"/api/uploads/{session_id}",
        "headers": _auth(api_key),
        "body_kind": "upload",
        "expect": 201,
    }


def plan_for(
    workload: str, port: int, api_key: str, list_session: str, seconds: float
) -> dict[str, Any]:
    headers = _auth(api_key)
    base = {"host": "127.0.0.1", "port": port, "seconds": seconds}
    if workload == "healthz":
        request = {"method": "GET", "path": "/healthz", "expect": 200}
        return base | {"connections": 1, "requests": [[request]]}
    if workload == "list":
        path = f"/api/uploads/{list_session}"
        request = {"method": "GET", "path": path, "headers": headers, "expect": 200}
        return base | {"connections": 16, "requests": [[request]]}
    clients = 1 if workload == "upload1" else 8
    uploads = [[_upload(api_key, f"bench-{uuid.uuid4().hex[:12]}")] for _ in range(clients)]
    return base | {"connections": clients, "requests": uploads}


def measure(server: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """One window: the client's figures and the server's CPU per request."""
    cpu_before = process_tree_cpu(server.pid)
    out = run_client(plan)
    cpu = process_tree_cpu(server.pid) - cpu_before
    n = len(out["latencies"])
    return {
        "requests": n,
        "rate": n / out["elapsed"] if out["elapsed"] else 0.0,
        "latency": latency_summary(out["latencies"]),
        "cpu_ms_per_request": 1000 * cpu / n if n else None,
        "failures": out["failures"],
        "bad_statuses": out["bad_statuses"],
        "errors": out["errors"],
    }


def seed_list(server: Any, api_key: str, session_id: str, items: int = 20) -> None:
    """`items` small uploads into `session_id`, the list workload's session."""
    out = _uploads(server, api_key, [session_id], items, upload_bytes=30 * 1024)
    if out["failures"]:
        raise RuntimeError(f"seeding the list on {server.name} failed: {out['bad_statuses']}")


def _uploads(
    server: Any, api_key: str, session_ids: list[str], count: int, **plan: Any
) -> dict[str, Any]:
    """`count` uploads (1 MiB unless `plan` says) by one client, into each of `session_ids`
    in turn: the client's result (`latencies` in the order sent, `failures`)."""
    requests = [_upload(api_key, session_id) for session_id in session_ids]
    base = {"host": "127.0.0.1", "port": server.port, "connections": 1, "count": count}
    return run_client(base | plan | {"requests": [requests]}, timeout=3600)


def flat_run(server: Any, api_key: str, count: int, window: int) -> dict[str, Any]:
    """`count` 1 MiB uploads by one client into one fresh session: the rate of its last
    `window` against its first `window`, each measured against a fresh session at the same time.

    The machine's speed drifts over a run of minutes (the page cache's writeback of the
    gigabytes written, the neighbours), and within one by as much, so in each measured window
    the client's uploads alternate between the session and a fresh session of the window's
    own (the reference: the same server at the same moment, starting with no files). The
    figure is the session's rate over the reference's at the end, divided by the same at the
    start (where both sessions grow alike, so about 1); `raw_ratio` is the plain last/first
    beside it."""
    session = f"flat-{uuid.uuid4().hex[:12]}"

    def rate(latencies: list[float]) -> float:
        return len(latencies) / sum(latencies) if latencies else 0.0

    failures = 0

    def sent(session_ids: list[str], uploads: int) -> list[float]:
        nonlocal failures
        out = _uploads(server, api_key, session_ids, uploads)
        failures += out["failures"]
        latencies: list[float] = out["latencies"]
        return latencies

    def measured() -> tuple[list[float], list[float]]:
        both = sent([session, f"flat-ref-{uuid.uuid4().hex[:12]}"], 2 * window)
        return both[0::2], both[1::2]

    first, first_fresh = measured()
    filled = count - 2 * len(first)
    middle = sent([session], filled) if filled > 0 else []
    last, last_fresh = measured()
    at_start = rate(first) / rate(first_fresh)
    at_end = rate(last) / rate(last_fresh)
    return {
        "count": len(first) + len(middle) + len(last),
        "failures": failures,
        "first_rate": rate(first),
        "last_rate": rate(last),
        "first_fresh_rate": rate(first_fresh),
        "last_fresh_rate": rate(last_fresh),
        "raw_ratio": rate(last) / rate(first),
        "ratio": at_end / at_start,
        "median_ms": 1000 * statistics.median(first + middle + last),
    }
