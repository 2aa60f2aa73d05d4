"""The old bench/common.py, kept while the four bench_*.py scripts move into packages: what
the benchmark scripts share: paths, logging, percentiles, PostgreSQL scratch
databases, the Django-side worker subprocess, starting and stopping servers, the result
table, and the code fingerprint that tells whether the code changed during a run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
VENV_BIN = REPO / ".venv" / "bin"
RESULT_MARK = "BENCH-RESULT "
# Where the scratch databases are made (trust auth on loopback, as the machine has it).
DEFAULT_PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
# Python and settings files outside bench/ and tests/: what a run's figures depend on.
CODE_PATHSPEC = ["*.py", "*.toml", ".env", ":(exclude)bench/**", ":(exclude)tests/**"]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(0, math.ceil(p / 100 * len(sorted_values)) - 1)
    return sorted_values[rank]


def latency_summary(seconds: list[float]) -> dict[str, Any]:
    values = sorted(seconds)
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 2),
        "p99_ms": round(1000 * (percentile(values, 99) or 0), 2),
        "mean_ms": round(1000 * statistics.fmean(values), 2),
        "max_ms": round(1000 * values[-1], 2),
    }


def pg_url(admin_url: str, db_name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + db_name


def pg(url: str, query: str, args: Any = None, *, autocommit: bool = False) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=autocommit, connect_timeout=10) as connection:
        cursor = connection.execute(query, args)
        return cursor.fetchall() if cursor.description else []


def database_create(admin_url: str, name: str) -> bool:
    """Creates `name`; a leftover of an earlier run of this benchmark is dropped first."""
    existed = bool(pg(admin_url, "SELECT 1 FROM pg_database WHERE datname = %s", [name]))
    if existed:
        log(f"dropping leftover database {name}")
        database_drop(admin_url, name)
    pg(admin_url, f'CREATE DATABASE "{name}"', autocommit=True)
    return existed


def database_drop(admin_url: str, name: str) -> None:
    pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', autocommit=True)


def django_setup() -> None:
    os.chdir(REPO)
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def run_worker(
    script: str, name: str, params: dict[str, Any], env: dict[str, str], timeout: float
) -> Any:
    """Runs `script --worker name` (a benchmark's Django-side helper) and returns what it
    printed after RESULT_MARK; its stderr is logged as it comes."""
    command = [
        str(VENV_BIN / "python"),
        script,
        "--worker",
        name,
        "--worker-args",
        json.dumps(params),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stderr_lines: list[str] = []
    stdout_parts: list[str] = []

    # One reader per pipe (communicate() would read stderr too, racing the progress reader).
    def pump_stderr() -> None:  # progress lines as they come
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line)
            if line.strip():
                log(f"  [{name}] {line.rstrip()[:300]}")

    def pump_stdout() -> None:
        assert process.stdout is not None
        stdout_parts.append(process.stdout.read())

    readers = [
        threading.Thread(target=pump_stderr, daemon=True),
        threading.Thread(target=pump_stdout, daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout=timeout)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    for reader in readers:
        reader.join(timeout=10)
    stdout = "".join(stdout_parts)
    if process.returncode != 0:
        raise RuntimeError(
            f"worker {name} failed ({process.returncode}):\n{''.join(stderr_lines)[-3000:]}"
        )
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(f"worker {name} printed no result:\n{stdout[-2000:]}")


def wait_http(url: str, *, seconds: float, process: subprocess.Popen | None = None) -> None:
    import requests

    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} while starting")
        try:
            with requests.get(url, timeout=2, stream=True) as response:  # body left unread
                if response.status_code < 500:
                    return
        except requests.RequestException as error:
            last = error
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s: {last}")


def stop_process(
    process: subprocess.Popen | None,
    name: str,
    sig: int = signal.SIGTERM,
    *,
    wait_seconds: float = 15,
) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(sig)
        process.wait(timeout=wait_seconds)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop; killing pid {process.pid}")
        process.kill()
        process.wait(timeout=10)


def verdict(ok: bool | None) -> str:
    return "info" if ok is None else ("PASS" if ok else "FAIL")


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_table(rows: list[dict[str, Any]]) -> str:
    headers = ["figure", "value", "unit", "baseline", "ratio", "target", "result"]
    table = [
        [
            row["figure"],
            fmt(row.get("value"), row.get("digits", 1)),
            row.get("unit", ""),
            row.get("baseline_text") or "-",
            fmt(row.get("ratio"), 2),
            row.get("target") or "-",
            row["result"],
        ]
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [headers, *table]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(cell).ljust(widths[i]) if i in (0, 2, 3, 5) else str(cell).rjust(widths[i])
            for i, cell in enumerate(cells)
        )

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in table]
    return "\n".join(out)


def git_info() -> dict[str, Any]:
    def run(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=20
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = [line for line in run("status", "--porcelain").splitlines() if line]
    return {"commit": run("rev-parse", "HEAD"), "dirty_files": len(dirty)}


def code_fingerprint() -> str:
    """The code's state (Python and settings files outside bench/ and tests/, as committed plus
    uncommitted changes): other people work in this tree, and a run whose code changed under
    it measures a mix."""

    def run(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=60
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    tracked = run("ls-files", "-s", "--", *CODE_PATHSPEC)  # blob hashes as committed
    state = "\n".join(
        [
            tracked,
            run("diff", "HEAD", "--", *CODE_PATHSPEC),
            run("ls-files", "--others", "--exclude-standard", "--", *CODE_PATHSPEC),
        ]
    )
    return hashlib.sha256(state.encode()).hexdigest()


def finish_run(
    results: dict[str, Any],
    rows: list[dict[str, Any]],
    *,
    name: str,
    title: str,
    suffix: str,
    latest: bool,
    work: Path,
    keep: bool,
    latest_results: dict[str, Any] | None = None,
) -> None:
    """Ends a run: the table under `title` (with the start time and commit), the results as
    results/NAME-STAMP[SUFFIX].json and, when `latest` and the run went through,
    results/latest-NAME.json (`latest_results` if given); the work folder is removed unless
    `keep`."""
    results["finished_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if rows:
        print()
        print(
            f"{title}, {results['started_at']}, commit {results['git']['commit'][:12]}"
            + (f" (+{dirty} dirty files)" if (dirty := results["git"]["dirty_files"]) else "")
        )
        print(render_table(rows))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{name}-{stamp}{suffix}.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if latest and "error" not in results and rows:
        (RESULTS / f"latest-{name}.json").write_text(
            json.dumps(latest_results or results, indent=2, default=str) + "\n"
        )
    print(f"results: {out}")
    if keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def start_uvicorn(
    env: dict[str, str], port: int, output: Any, *, lifespan: str = "off"
) -> subprocess.Popen:
    """Depot under uvicorn on 127.0.0.1:`port` (its own session, output to the open binary
    file `output`), once `GET /healthz` answers."""
    process = subprocess.Popen(
        [
            str(VENV_BIN / "uvicorn"),
            "config.asgi:application",
            *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--lifespan", lifespan, "--no-access-log"),
        ],
        cwd=REPO,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", seconds=60, process=process)
    except BaseException:
        stop_process(process, "uvicorn (did not start)")
        raise
    return process
