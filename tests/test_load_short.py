"""CI's sustained-load run (issue 14): `python -m bench.load --quick` as a subprocess, on the
production profile only: 20 s of locust's mixed workload (70 % reads, 20 % small uploads, 10 %
artifact versions) from 32 clients against a real uvicorn on PostgreSQL, Redis and S3, beside
50 open WebSockets and 50 waiting long-polls, interleaved with a bare ASGI baseline.

The benchmark makes its own scratch database (never this run's test database), its own
organization, key and S3 prefix, and removes them again; it needs nothing from pytest-django.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.s3]


class RssUnstable(AssertionError):
    """The server's RSS at the end of the run is not within 10 % of the start."""


def run_quick() -> tuple[dict[str, Any], str, Path]:
    # The scratch database goes on the server the production profile points at.
    admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--quick", "--pg-admin", admin],
        cwd=REPO,
        env=os.environ.copy(),  # REDIS_URL and S3_* of the production profile
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    found = re.search(r"^results: (.+\.json)$", done.stdout, re.MULTILINE)
    assert found, f"no results file (exit {done.returncode}):\n{output[-6000:]}"
    path = Path(found.group(1))
    results = json.loads(path.read_text())
    assert done.returncode in (0, 1), f"the run failed (exit {done.returncode}):\n{output[-6000:]}"
    return results, output, path


def test_quick_load_has_no_failures_and_a_stable_rss() -> None:
    results, output, path = run_quick()
    tail = output[-6000:]
    load, sockets = results["load"], results["sockets"]

    # Every request of the workload was answered as the route answers on success.
    assert load["failures"] == 0, (load["failure_details"], tail)
    assert results["throughput"]["depot"]["requests"] > 0, tail
    reads = [row for row in results["routes"] if row["route"].startswith("GET ")]
    assert len(reads) == 8 and all(row["depot"]["n"] > 0 for row in reads), results["routes"]
    # Every socket stayed open and answered to the end; every poll was waiting at the end; the
    # hot sessions' sockets got every event of the log, in order.
    assert sockets["failures"] == 0, (sockets["failure_details"], tail)
    assert sockets["ws_open"] == sockets["ws_alive_at_end"] == sockets["websockets"] == 50
    assert sockets["polls_waiting_at_stop"] == sockets["polls"] == 50
    assert sockets["polls_returned"] > 0
    assert all(hot["behind_at_end"] == 0 and hot["in_order"] for hot in sockets["hot_sockets"])
    assert results["server_log_errors"] == 0, tail

    # RSS: the last third of the run within 10 % of the first (a minute each in the full run).
    rss = results["rss"]
    assert rss["samples"] >= 20, rss
    if rss["ratio"] is None or abs(rss["ratio"] - 1) > 0.10:
        raise RssUnstable(rss)
    assert results["passed"], tail
    path.unlink()  # a passing CI run's file is not a result to keep
