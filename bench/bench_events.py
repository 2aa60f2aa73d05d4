"""Depot event benchmarks: commit -> WebSocket push, commit -> long-poll return, and 1,000
waiting long-polls on one process, each against a baseline measured in the same run.

    .venv/bin/python bench/bench_events.py [--quick] [--skip-redis]

Run from anywhere; paths are resolved from this file. See bench/README.md for what each figure
means. Two profiles, each on one uvicorn process with a fresh DEPOT_DATA_DIR:

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
import asyncio
import contextlib
import datetime as dt
import http.client
import itertools
import json
import math
import multiprocessing as mp
import os
import platform
import queue as queue_module
import resource
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_files import RssWatch, _status_kib, depot_env, multipart_body
from common import (
    BENCH,
    REPO,
    VENV_BIN,
    code_fingerprint,
    finish_run,
    free_port,
    git_info,
    log,
    start_uvicorn,
    stop_process,
    verdict,
)

# Targets (from the benchmark brief).
TARGET_P99_MS = {"embedded": 5.0, "redis": 10.0}  # commit -> push / poll return, p99
TARGET_POLLS_RSS_MIB = 300.0  # server RSS while 1,000 long-polls wait
TARGET_GET_P99_RATIO = 2.0  # GET /api/uploads/<sid> p99 under 1,000 polls over idle p99

PROFILES = ("embedded", "redis")


# --- statistics ---


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> dict[str, Any]:
    """values in seconds -> summary in ms."""
    ms = [v * 1000 for v in values]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "min": round(min(ms), 3),
        "p50": round(pct(ms, 50), 3),  # type: ignore[arg-type]
        "p90": round(pct(ms, 90), 3),  # type: ignore[arg-type]
        "p99": round(pct(ms, 99), 3),  # type: ignore[arg-type]
        "p999": round(pct(ms, 99.9), 3),  # type: ignore[arg-type]
        "max": round(max(ms), 3),
        "mean": round(statistics.fmean(ms), 3),
        "negative": sum(1 for v in ms if v < 0),
    }


def raw_ms(values: list[float]) -> list[float]:
    return [round(v * 1000, 3) for v in values]


# --- HTTP helpers (http.client: the least client work between the bytes and the clock) ---


class Http:
    """One keep-alive connection to the server, reconnecting if the server closed it."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                if response.getheader("connection", "").lower() == "close":
                    self.close()
                return response.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def upload(client: Http, api_key: str, sid: str, number: int) -> tuple[int, dict[str, Any], float]:
    """One small unique upload; returns (status, json, t0) with t0 = response fully read."""
    data = f"bench-event {number} {uuid.uuid4().hex}\n".encode()
    body, content_type = multipart_body(data, f"event-{number}.txt")
    status, raw = client.request(
        "POST",
        f"/api/uploads/{sid}",
        body=body,
        headers={"X-API-Key": api_key, "Content-Type": content_type},
    )
    t0 = time.perf_counter()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = {"raw": raw[:300].decode(errors="replace")}
    return status, parsed, t0


def timed_gets(
    client: Http, path: str, headers: dict[str, str], *, count: int, gap_s: float, max_s: float
) -> dict[str, Any]:
    """`count` GETs one at a time with `gap_s` between them; round trips in seconds."""
    times: list[float] = []
    statuses: dict[str, int] = {}
    deadline = time.perf_counter() + max_s
    for _ in range(count):
        if time.perf_counter() > deadline:
            break
        began = time.perf_counter()
        status, _ = client.request("GET", path, headers=headers)
        took = time.perf_counter() - began
        statuses[str(status)] = statuses.get(str(status), 0) + 1
        if status == 200:
            times.append(took)
        if gap_s:
            time.sleep(gap_s)
    return {"times": times, "statuses": statuses, "gap_ms": gap_s * 1000}


# --- client processes (spawned, so no GIL is shared with the writer) ---


def ws_reader_main(
    url: str,
    api_key: str,
    pings: int,
    expected: int,
    max_seconds: float,
    out: Any,
    stop: Any,
) -> None:
    """Connects, measures `pings` ping/pong round trips, says ready, then stamps every message
    until `expected` attachment ids were seen, `stop` is set, or `max_seconds` pass."""
    from websockets.asyncio.client import connect

    async def run() -> dict[str, Any]:
        result: dict[str, Any] = {"ping_rtt": [], "messages": [], "error": None}
        async with connect(
            url,
            additional_headers={"X-API-Key": api_key},
            open_timeout=20,
            ping_interval=None,
            max_size=2**24,
        ) as ws:
            for _ in range(pings):
                began = time.perf_counter()
                await ws.send(json.dumps({"type": "ping"}))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                result["ping_rtt"].append(time.perf_counter() - began)
                if reply.get("type") != "pong":
                    result["error"] = f"expected pong, got {reply}"
                    return result
            out.put(("ready", {"ping_rtt": result["ping_rtt"]}))
            seen = 0
            deadline = time.perf_counter() + max_seconds
            while seen < expected and time.perf_counter() < deadline and not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                t1 = time.perf_counter()
                message = json.loads(text)
                events = (message.get("data") or {}).get("events") or []
                result["messages"].append(
                    {
                        "t1": t1,
                        "type": message.get("type"),
                        "ids": [e.get("attachment_id") for e in events],
                        "seqs": [e.get("sequence") for e in events],
                    }
                )
                seen += len(events)
        return result

    try:
        result = asyncio.run(run())
    except BaseException as error:  # report, do not hang the parent
        result = {"error": repr(error), "ping_rtt": [], "messages": []}
    out.put(("result", result))


def lp_poller_main(
    base_url: str,
    api_key: str,
    sid: str,
    expected: int,
    wait_seconds: float,
    max_seconds: float,
    out: Any,
    stop: Any,
) -> None:
    """Keeps one long-poll outstanding, re-issued at once with `next_cursor`; says when each
    poll is issued and stamps each return."""
    client = Http(base_url, timeout=wait_seconds + 30)
    headers = {"X-API-Key": api_key}
    cursor = 0
    seen = 0
    polls: list[dict[str, Any]] = []
    error = None
    deadline = time.perf_counter() + max_seconds
    try:
        while seen < expected and time.perf_counter() < deadline and not stop.is_set():
            path = f"/api/sessions/{sid}/artifact-events?after={cursor}&wait_seconds={wait_seconds}"
            issued = time.perf_counter()
            out.put(("issued", (len(polls), issued)))
            status, raw = client.request("GET", path, headers=headers)
            t1 = time.perf_counter()
            if status != 200:
                polls.append(
                    {"t1": t1, "status": status, "body": raw[:300].decode(errors="replace")}
                )
                error = f"poll returned {status}"
                break
            page = json.loads(raw)
            ids = [e.get("attachment_id") for e in page["events"]]
            polls.append(
                {
                    "issued": issued,
                    "t1": t1,
                    "status": status,
                    "ids": ids,
                    "seqs": [e.get("sequence") for e in page["events"]],
                    "timed_out": page["timed_out"],
                    "after": cursor,
                    "next_cursor": page["next_cursor"],
                }
            )
            seen += len(ids)
            cursor = page["next_cursor"]
    except BaseException as error_:
        error = repr(error_)
    finally:
        client.close()
    out.put(("result", {"polls": polls, "error": error}))


def many_polls_main(
    base_url: str,
    api_key: str,
    sids: list[str],
    wait_seconds: float,
    max_seconds: float,
    out: Any,
) -> None:
    """Opens one long-poll per session id at once (httpx, one connection each); says when every
    request has been written, then reports every outcome."""
    import httpx

    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = len(sids) + 256
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    except (ValueError, OSError):
        pass

    async def run() -> dict[str, Any]:
        sent = 0
        all_sent = asyncio.Event()
        n = len(sids)

        async def trace(name: str, info: dict[str, Any]) -> None:
            nonlocal sent
            if name == "http11.send_request_body.complete":
                sent += 1
                if sent == n:
                    all_sent.set()

        outcomes: list[dict[str, Any] | None] = [None] * n
        limits = httpx.Limits(max_connections=n + 50, max_keepalive_connections=n + 50)
        timeout = httpx.Timeout(wait_seconds + 60, connect=30)
        async with httpx.AsyncClient(
            base_url=base_url,
            limits=limits,
            timeout=timeout,
            headers={"X-API-Key": api_key},
            trust_env=False,
        ) as client:

            async def one(index: int, sid: str) -> None:
                issued = time.perf_counter()
                try:
                    response = await client.get(
                        f"/api/sessions/{sid}/artifact-events",
                        params={"after": 0, "wait_seconds": wait_seconds},
                        extensions={"trace": trace},
                    )
                    t1 = time.perf_counter()
                    record: dict[str, Any] = {
                        "i": index,
                        "status": response.status_code,
                        "issued": issued,
                        "t1": t1,
                    }
                    try:
                        page = response.json()
                        record["timed_out"] = page.get("timed_out")
                        record["ids"] = [e.get("attachment_id") for e in page.get("events", [])]
                    except ValueError:
                        record["body"] = response.text[:300]
                    outcomes[index] = record
                except Exception as error:
                    outcomes[index] = {
                        "i": index,
                        "status": None,
                        "error": repr(error)[:300],
                        "issued": issued,
                        "t1": time.perf_counter(),
                    }

            started = time.perf_counter()
            tasks = [asyncio.create_task(one(i, sid)) for i, sid in enumerate(sids)]
            try:
                await asyncio.wait_for(all_sent.wait(), 120)
                out.put(("sent", {"seconds": time.perf_counter() - started, "sent": sent}))
            except TimeoutError:
                out.put(("sent", {"seconds": None, "sent": sent, "error": "not all sent in 120 s"}))
            _done, pending = await asyncio.wait(tasks, timeout=max_seconds)
            for task in pending:
                task.cancel()
            return {
                "outcomes": outcomes,
                "pending": len(pending),
                "sent": sent,
                "seconds": time.perf_counter() - started,
            }

    try:
        result = asyncio.run(run())
    except BaseException as error:
        result = {"error": repr(error), "outcomes": [], "pending": None}
    out.put(("result", result))


def wait_message(q: Any, kind: str, timeout: float) -> Any:
    """The next message of `kind` from a client process queue (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no '{kind}' message within {timeout} s")
        try:
            got_kind, payload = q.get(timeout=remaining)
        except queue_module.Empty:
            raise TimeoutError(f"no '{kind}' message within {timeout} s") from None
        if got_kind == kind:
            return payload
        if got_kind == "result" and kind != "result":
            raise RuntimeError(f"client ended early: {str(payload)[:500]}")


def stop_child(process: mp.process.BaseProcess | None) -> None:
    if process is None or not process.is_alive():
        return
    process.terminate()
    process.join(timeout=10)
    if process.is_alive():
        process.kill()
        process.join(timeout=5)


# --- diagnostics, run inside a child with the server's environment ---

DIAG_CODE = r"""
import asyncio, json, os, sys, time, uuid
sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from channels.layers import get_channel_layer
from django.db import connection
from sessions_app.events import Feed, events_read, events_read_async
from sessions_app.models import Session

sid, n = sys.argv[1], int(sys.argv[2])
session = Session.objects.get(session_id=sid)
feed = Feed(organization_id=session.organization_id, session_id=sid)
after = max(0, session.last_event_sequence - 1)  # one event to read, as after a wake-up
connection.close()
pc = time.perf_counter
out = {"vendor": connection.vendor}

def loop(fn):
    times = []
    for _ in range(n):
        began = pc(); fn(); times.append(pc() - began)
    return times

out["connect_close"] = loop(lambda: (connection.ensure_connection(), connection.close()))
def new_conn_read():
    page = events_read(feed=feed, after=after, limit=200)
    connection.close()
    assert len(page.events) == 1, page
out["read_new_connection"] = loop(new_conn_read)
events_read(feed=feed, after=after, limit=200)
out["read_kept_connection"] = loop(lambda: events_read(feed=feed, after=after, limit=200))
connection.close()

async def async_reads():
    times = []
    for _ in range(n):
        began = pc(); await events_read_async(feed=feed, after=after, limit=200)
        times.append(pc() - began)
    return times
out["read_async_as_server"] = asyncio.run(async_reads())

async def layer_round_trips():
    layer = get_channel_layer()
    group = "depot.benchdiag." + uuid.uuid4().hex[:16]
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    times = []
    for _ in range(n):
        began = pc()
        await layer.group_send(group, {"type": "events.wakeup"})
        await asyncio.wait_for(layer.receive(channel), 5)
        times.append(pc() - began)
    await layer.group_discard(group, channel)
    return times, type(layer).__name__
out["layer_send_receive"], out["layer"] = asyncio.run(layer_round_trips())
from django.db.models import Count
from attachments.models import Attachment
from django_tasks_db.models import DBTaskResult
out["attachment_index_status"] = {
    row["index_status"]: row["n"]
    for row in Attachment.objects.values("index_status").annotate(n=Count("id"))
}
out["task_status"] = {
    row["status"]: row["n"] for row in DBTaskResult.objects.values("status").annotate(n=Count("id"))
}
from django.conf import settings
out["settings"] = {
    name: getattr(settings, name, None)
    for name in ("DEPOT_EVENTS_POLL_SECONDS", "DEPOT_LONGPOLL_RECHECK_SECONDS")
}
print("DIAG " + json.dumps(out))
"""


def run_diag(env: dict[str, str], sid: str, n: int) -> dict[str, Any]:
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-c", DIAG_CODE, sid, str(n)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("DIAG ")), None)
    if line is None:
        raise RuntimeError(f"diagnostics failed ({done.returncode}): {done.stderr[-2000:]}")
    raw = json.loads(line[5:])
    return {
        "vendor": raw["vendor"],
        "layer": raw["layer"],
        "attachment_index_status": raw["attachment_index_status"],
        "task_status": raw["task_status"],
        "settings": raw["settings"],
        **{
            key: summary_ms(raw[key])
            for key in (
                "connect_close",
                "read_new_connection",
                "read_kept_connection",
                "read_async_as_server",
                "layer_send_receive",
            )
        },
    }


# --- what else ran: code changes and other benchmarks ---

# What the measured processes run: Python and settings files, not docs, tests or benchmarks.


class ActivityWatch:
    """Every 2 s, lists other benchmark or test processes on the machine (from /proc): the
    figures of a run that overlapped one are not comparable with a quiet run's."""

    MARKERS = ("bench/bench_", "bench_files.py", "bench_artifacts.py", "bench_search.py", "pytest")

    def __init__(self) -> None:
        self.mine = {os.getpid()}
        self.seen: dict[str, list[str]] = {}  # command line -> [first seen, last seen]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ours(self, pid: int) -> bool:
        # Our own children (uvicorn, client processes, diagnostics) and their children.
        for _ in range(4):
            if pid in self.mine:
                return True
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    pid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                return False
        return pid in self.mine

    def _scan(self) -> None:
        now = time.strftime("%H:%M:%S")
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or self._ours(int(entry)):
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as file:
                    command = file.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            if any(marker in command for marker in self.MARKERS) and "timeout " not in command:
                key = command[:200]
                if key in self.seen:
                    self.seen[key][1] = now
                else:
                    self.seen[key] = [now, now]

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            with contextlib.suppress(Exception):  # never let the watch break the run
                self._scan()

    def __enter__(self) -> ActivityWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self) -> list[dict[str, str]]:
        return [{"command": k, "first": v[0], "last": v[1]} for k, v in self.seen.items()]


# --- server ---


class Server:
    def __init__(self, profile: str, work: Path, env: dict[str, str]) -> None:
        self.profile = profile
        self.work = work
        self.env = env
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self.api_key = ""
        self.log_path = work / f"uvicorn-{profile}.log"
        self._log: Any = None

    def start(self) -> None:
        python = str(VENV_BIN / "python")
        for command in (["migrate", "--noinput"], ["bootstrap"]):
            subprocess.run(
                [python, "manage.py", *command],
                cwd=REPO,
                env=self.env,
                check=True,
                capture_output=True,
                timeout=600,
            )
        data_dir = Path(self.env["DEPOT_DATA_DIR"])
        self.api_key = json.loads((data_dir / "bootstrap.json").read_text())["api_key"]
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        # Lifespan on: it starts the embedded default's task worker process
        # (config/lifespan.py), which extracts and indexes every uploaded text file.
        self.process = start_uvicorn(self.env, port, self._log, lifespan="on")
        log(f"[{self.profile}] uvicorn pid {self.process.pid} on {self.base_url}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process, f"uvicorn ({self.profile})")
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_errors(self) -> tuple[int, str]:
        if not self.log_path.exists():
            return 0, ""
        text = self.log_path.read_text(errors="replace")
        return text.count("Traceback") + text.count(" ERROR"), text[-4000:]


def cpu_seconds(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


def wait_cpu_settled(
    pid: int, *, below: float, window: float, max_seconds: float
) -> dict[str, Any]:
    """Waits until the server used less than `below` of one core over a `window` (or gives up
    after `max_seconds`): the sign that the burst of opening requests has been worked off."""
    started = time.perf_counter()
    windows = []
    while time.perf_counter() - started < max_seconds:
        before = cpu_seconds(pid)
        time.sleep(window)
        after = cpu_seconds(pid)
        if before is None or after is None:
            break
        share = (after - before) / window
        windows.append(round(share, 3))
        if share < below:
            return {"settled": True, "seconds": time.perf_counter() - started, "cpu": windows}
    return {"settled": False, "seconds": time.perf_counter() - started, "cpu": windows}


# --- phases ---


def phase_ws(
    ctx: mp.context.BaseContext,
    server: Server,
    *,
    events: int,
    warmup: int,
    pause_s: float,
    pings: int,
) -> dict[str, Any]:
    sid = f"bench-ws-{uuid.uuid4().hex[:12]}"
    total = events + warmup
    out, stop = ctx.Queue(), ctx.Event()
    ws_url = server.base_url.replace("http://", "ws://") + f"/ws/sessions/{sid}"
    reader = ctx.Process(
        target=ws_reader_main,
        args=(ws_url, server.api_key, pings, total, total * 0.5 + 120, out, stop),
        daemon=True,
    )
    reader.start()
    client = Http(server.base_url)
    uploads: list[dict[str, Any]] = []
    try:
        ready = wait_message(out, "ready", 60)
        log(
            f"[{server.profile}] WS connected; ping RTT p50 "
            f"{1000 * statistics.median(ready['ping_rtt']):.2f} ms; {total} uploads "
            f"({warmup} warm-up), pause {pause_s * 1000:.0f} ms"
        )
        deadline = time.perf_counter() + total * 0.5 + 60
        for number in range(total):
            if time.perf_counter() > deadline:
                break
            began = time.perf_counter()
            status, body, t0 = upload(client, server.api_key, sid, number)
            uploads.append(
                {
                    "n": number,
                    "status": status,
                    "id": body.get("attachment_id"),
                    "t0": t0,
                    "rtt": t0 - began,
                    "body": None if status == 201 else body,
                }
            )
            time.sleep(pause_s)
        # The last pushes get a bounded grace period, then the reader is told to stop.
        try:
            result = wait_message(out, "result", 15)
        except TimeoutError:
            stop.set()
            result = wait_message(out, "result", 15)
    finally:
        stop.set()
        client.close()
        reader.join(timeout=10)
        stop_child(reader)
    return analyse_push(uploads, result["messages"], warmup, error=result.get("error")) | {
        "session_id": sid,
        "pause_ms": pause_s * 1000,
        "ping_rtt": summary_ms(result.get("ping_rtt") or ready["ping_rtt"]),
        "ping_rtt_ms": raw_ms(result.get("ping_rtt") or ready["ping_rtt"]),
    }


def analyse_push(
    uploads: list[dict[str, Any]],
    deliveries: list[dict[str, Any]],
    warmup: int,
    *,
    error: str | None,
) -> dict[str, Any]:
    """Matches uploads with deliveries by attachment id; latency = t1 - t0."""
    arrival: dict[str, float] = {}
    duplicates = 0
    order: list[int] = []
    for delivery in deliveries:
        for attachment_id, seq in zip(delivery["ids"], delivery["seqs"], strict=False):
            if attachment_id in arrival:
                duplicates += 1
            else:
                arrival[attachment_id] = delivery["t1"]
            if seq is not None:
                order.append(seq)
    in_order = all(b > a for a, b in itertools.pairwise(order))
    measured = [u for u in uploads if u["n"] >= warmup]
    ok = [u for u in measured if u["status"] == 201]
    latencies = [arrival[u["id"]] - u["t0"] for u in ok if u["id"] in arrival]
    missing = [u["id"] for u in uploads if u["status"] == 201 and u["id"] not in arrival]
    failed = [u for u in uploads if u["status"] != 201]
    batches = [len(d["ids"]) for d in deliveries]
    return {
        "uploads": len(uploads),
        "measured": len(measured),
        "upload_failures": len(failed),
        "upload_failure_examples": [f"{u['status']} {u['body']}"[:300] for u in failed[:5]],
        "delivered": len(arrival),
        "missing": len(missing),
        "missing_examples": missing[:5],
        "duplicates": duplicates,
        "in_order": in_order,
        "messages": len(deliveries),
        "max_events_per_message": max(batches) if batches else 0,
        "latency": summary_ms(latencies),
        "latency_ms": raw_ms(latencies),
        "upload_rtt": summary_ms([u["rtt"] for u in ok]),
        "upload_rtt_ms": raw_ms([u["rtt"] for u in ok]),
        "client_error": error,
    }


def phase_long_poll(
    ctx: mp.context.BaseContext,
    server: Server,
    *,
    events: int,
    warmup: int,
    settle_s: float,
    wait_seconds: float,
) -> dict[str, Any]:
    sid = f"bench-lp-{uuid.uuid4().hex[:12]}"
    total = events + warmup
    out, stop = ctx.Queue(), ctx.Event()
    poller = ctx.Process(
        target=lp_poller_main,
        args=(
            server.base_url,
            server.api_key,
            sid,
            total,
            wait_seconds,
            total * (settle_s + 0.5) + 120,
            out,
            stop,
        ),
        daemon=True,
    )
    poller.start()
    client = Http(server.base_url)
    uploads: list[dict[str, Any]] = []
    log(
        f"[{server.profile}] long-poll: {total} uploads ({warmup} warm-up), each "
        f"{settle_s * 1000:.0f} ms after the poll was issued"
    )
    try:
        deadline = time.perf_counter() + total * (settle_s + 0.5) + 60
        for number in range(total):
            if time.perf_counter() > deadline:
                break
            wait_message(out, "issued", wait_seconds + 30)
            time.sleep(settle_s)
            began = time.perf_counter()
            status, body, t0 = upload(client, server.api_key, sid, number)
            uploads.append(
                {
                    "n": number,
                    "status": status,
                    "id": body.get("attachment_id"),
                    "t0": t0,
                    "rtt": t0 - began,
                    "body": None if status == 201 else body,
                }
            )
        result = wait_message(out, "result", 30)
    finally:
        stop.set()
        poller.join(timeout=10)
        stop_child(poller)
    polls = result["polls"]
    deliveries = [p for p in polls if p.get("ids")]
    analysis = analyse_push(uploads, deliveries, warmup, error=result.get("error"))
    analysis["polls"] = len(polls)
    analysis["polls_timed_out"] = sum(1 for p in polls if p.get("timed_out"))
    analysis["polls_with_several_events"] = sum(1 for p in polls if len(p.get("ids") or []) > 1)

    # Baseline: the same endpoint answering at once (one event after the cursor), plus the
    # stack's floor (/healthz), on one keep-alive connection.
    last = max((p["next_cursor"] for p in polls if "next_cursor" in p), default=1)
    immediate = timed_gets(
        client,
        f"/api/sessions/{sid}/artifact-events?after={max(0, last - 1)}&wait_seconds=0",
        {"X-API-Key": server.api_key},
        count=200,
        gap_s=0.002,
        max_s=60,
    )
    healthz = timed_gets(client, "/healthz", {}, count=200, gap_s=0.002, max_s=60)
    client.close()
    analysis |= {
        "session_id": sid,
        "settle_ms": settle_s * 1000,
        "immediate_poll_rtt": summary_ms(immediate["times"]) | {"statuses": immediate["statuses"]},
        "healthz_rtt": summary_ms(healthz["times"]) | {"statuses": healthz["statuses"]},
    }
    return analysis


def phase_many_polls(
    ctx: mp.context.BaseContext,
    server: Server,
    *,
    polls: int,
    wait_seconds: float,
    gets: int,
    span_s: float,
    wakes: int,
) -> dict[str, Any]:
    """`span_s`: how long the server CPU is measured with the polls waiting, and about how long
    each series of GETs lasts: one full re-check period of a waiting poll."""
    get_gap_s = max(0.025, span_s / gets - 0.01)
    headers = {"X-API-Key": server.api_key}
    client = Http(server.base_url)
    list_sid = f"bench-list-{uuid.uuid4().hex[:12]}"
    for number in range(5):
        status, body, _ = upload(client, server.api_key, list_sid, number)
        if status != 201:
            raise RuntimeError(f"setup upload failed: {status} {body}")
    list_path = f"/api/uploads/{list_sid}"
    timed_gets(client, list_path, headers, count=20, gap_s=0, max_s=30)  # warm-up

    idle_rss_kib = _status_kib(server.pid, "VmRSS") or 0
    idle_threads = _status_kib(server.pid, "Threads")
    log(
        f"[{server.profile}] idle RSS {idle_rss_kib / 1024:.1f} MiB; idle GET {list_path} "
        f"x{gets}, {get_gap_s * 1000:.0f} ms apart"
    )
    cpu_before = cpu_seconds(server.pid) or 0.0
    idle_began = time.perf_counter()
    idle = timed_gets(client, list_path, headers, count=gets, gap_s=get_gap_s, max_s=120)
    idle_cpu = ((cpu_seconds(server.pid) or 0.0) - cpu_before) / (time.perf_counter() - idle_began)

    prefix = f"bench-many-{uuid.uuid4().hex[:8]}"
    sids = [f"{prefix}-{i:04d}" for i in range(polls)]
    out = ctx.Queue()
    holder = ctx.Process(
        target=many_polls_main,
        args=(server.base_url, server.api_key, sids, wait_seconds, wait_seconds + 90, out),
        daemon=True,
    )
    result: dict[str, Any] = {}
    try:
        with RssWatch(server.pid, interval=0.02) as rss:
            opened_at = time.perf_counter()
            holder.start()
            sent = wait_message(out, "sent", 150)
            log(f"[{server.profile}] {polls} long-polls written in {sent.get('seconds')} s {sent}")
            settle = wait_cpu_settled(server.pid, below=0.15, window=0.5, max_seconds=30)
            log(
                f"  server settled={settle['settled']} after {settle['seconds']:.1f} s "
                f"(CPU share per 0.5 s: {settle['cpu']})"
            )
            waiting_rss_kib = _status_kib(server.pid, "VmRSS") or 0
            threads = _status_kib(server.pid, "Threads")
            log(f"  RSS while waiting {waiting_rss_kib / 1024:.1f} MiB, {threads} threads")
            # What the waiting polls cost by themselves: server CPU over one full re-check
            # period (every waiting poll re-reads the log once in it).
            cpu_window = span_s
            cpu_before = cpu_seconds(server.pid) or 0.0
            time.sleep(cpu_window)
            waiting_cpu = ((cpu_seconds(server.pid) or 0.0) - cpu_before) / cpu_window
            log(f"  server CPU while the polls wait: {waiting_cpu:.2f} core over {cpu_window} s")
            client.request("GET", list_path, headers=headers)  # reconnect if keep-alive expired
            cpu_before = cpu_seconds(server.pid) or 0.0
            loaded_began = time.perf_counter()
            loaded = timed_gets(client, list_path, headers, count=gets, gap_s=get_gap_s, max_s=120)
            loaded_seconds = time.perf_counter() - loaded_began
            loaded_cpu = ((cpu_seconds(server.pid) or 0.0) - cpu_before) / loaded_seconds
            # Wake a few of the waiting polls with a real event, to check they still work.
            wake_uploads = []
            for i in range(min(wakes, polls)):
                status, body, t0 = upload(client, server.api_key, sids[i], i)
                wake_uploads.append(
                    {"i": i, "status": status, "id": body.get("attachment_id"), "t0": t0}
                )
                time.sleep(0.05)
            end_of_window = time.perf_counter() - opened_at
        log(
            f"  RSS peak {rss.peak_kib / 1024:.1f} MiB (VmHWM "
            f"{(rss.hwm_kib or 0) / 1024:.1f} MiB); waiting for the polls to time out"
        )
        result = wait_message(out, "result", wait_seconds + 150)
    finally:
        holder.join(timeout=10)
        stop_child(holder)
        client.close()

    outcomes = [o for o in result.get("outcomes", []) if o is not None]
    woken = {w["i"]: w for w in wake_uploads}
    correct = errors = 0
    wrong: list[dict[str, Any]] = []
    wake_latency = []
    waited = []
    for o in outcomes:
        if o.get("status") != 200:
            errors += 1
            if len(wrong) < 10:
                wrong.append(o)
            continue
        w = woken.get(o["i"])
        if w is not None and w["status"] == 201:
            good = o.get("timed_out") is False and o.get("ids") == [w["id"]]
            if good:
                wake_latency.append(o["t1"] - w["t0"])
        else:
            good = o.get("timed_out") is True and o.get("ids") == []
            if good:
                waited.append(o["t1"] - o["issued"])
        if good:
            correct += 1
        elif len(wrong) < 10:
            wrong.append(o)
    return {
        "polls": polls,
        "wait_seconds": wait_seconds,
        "list_session_id": list_sid,
        "sent": sent,
        "settle": settle,
        "idle_rss_mib": round(idle_rss_kib / 1024, 1),
        "waiting_rss_mib": round(waiting_rss_kib / 1024, 1),
        "rss": rss.summary(),
        "peak_rss_mib": round(max(rss.peak_kib, rss.hwm_kib or 0) / 1024, 1),
        "server_cpu_share": {
            "idle_gets": round(idle_cpu, 3),
            "polls_waiting": round(waiting_cpu, 3),
            "polls_waiting_window_s": cpu_window,
            "loaded_gets": round(loaded_cpu, 3),
        },
        "server_threads_idle": idle_threads,
        "server_threads_waiting": threads,
        "window_seconds": round(end_of_window, 1),
        "get_idle": summary_ms(idle["times"]) | {"statuses": idle["statuses"]},
        "get_idle_ms": raw_ms(idle["times"]),
        "get_loaded": summary_ms(loaded["times"])
        | {"statuses": loaded["statuses"], "seconds": round(loaded_seconds, 2)},
        "get_loaded_ms": raw_ms(loaded["times"]),
        "get_gap_ms": round(get_gap_s * 1000, 1),
        "span_s": span_s,
        "returned": len(outcomes),
        "pending": result.get("pending"),
        "correct": correct,
        "errors": errors,
        "wrong_examples": wrong,
        "woken": len(wake_uploads),
        "wake_latency": summary_ms(wake_latency),
        "timed_out_wait_s": {
            "min": round(min(waited), 2) if waited else None,
            "max": round(max(waited), 2) if waited else None,
        },
        "client_error": result.get("error"),
    }


# --- PostgreSQL and Redis for the redis profile ---


def psql(pg_url: str, sql: str) -> None:
    subprocess.run(
        ["psql", f"{pg_url}/postgres", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def redis_cli(db: int, *args: str) -> str:
    done = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "-n", str(db), *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip()


# --- rows ---


def ms(value: float | None) -> float | None:
    return None if value is None else float(value)


def latency_rows(
    figure: str, lat: dict[str, Any], base: dict[str, Any], base_name: str, target: float
) -> list[dict[str, Any]]:
    """p50 (info), p99 (against `target`) and max of a delivery latency, each p against the
    same percentile of its same-run baseline."""
    return [
        {
            "figure": f"{figure} p50 (n={lat['n']})",
            "value": ms(lat.get("p50")),
            "unit": "ms",
            "digits": 2,
            "baseline_text": f"{base_name} p50 {base['p50']:.2f} ms",
            "ratio": lat["p50"] / base["p50"] if lat.get("p50") is not None else None,
            "result": "info",
        },
        {
            "figure": f"{figure} p99",
            "value": ms(lat.get("p99")),
            "unit": "ms",
            "digits": 2,
            "baseline_text": f"{base_name} p99 {base['p99']:.2f} ms",
            "ratio": lat["p99"] / base["p99"] if lat.get("p99") is not None else None,
            "target": f"<= {target:.0f} ms",
            "result": verdict(lat.get("p99") is not None and lat["p99"] <= target),
        },
        {
            "figure": f"{figure} max",
            "value": ms(lat.get("max")),
            "unit": "ms",
            "digits": 2,
            "result": "info",
        },
    ]


def profile_rows(profile: str, r: dict[str, Any]) -> list[dict[str, Any]]:
    target = TARGET_P99_MS[profile]
    rows: list[dict[str, Any]] = []
    tag = f"[{profile}]"
    ws = r.get("ws")
    if ws:
        lat, ping = ws["latency"], ws["ping_rtt"]
        rows += latency_rows(f"{tag} WS commit->receive", lat, ping, "WS ping RTT", target)
        rows += [
            {
                "figure": f"{tag} WS upload round trip p50/p99",
                "value": f"{ws['upload_rtt']['p50']:.2f}/{ws['upload_rtt']['p99']:.2f}",
                "unit": "ms",
                "result": "info",
            },
            {
                "figure": f"{tag} WS delivered, in order, no duplicate",
                "value": f"{ws['delivered']}/{ws['uploads']}",
                "unit": "events",
                "baseline_text": f"{ws['messages']} msgs, <= {ws['max_events_per_message']}/msg",
                "target": "all",
                "result": verdict(
                    ws["missing"] == 0
                    and ws["upload_failures"] == 0
                    and ws["duplicates"] == 0
                    and ws["in_order"]
                    and not ws["client_error"]
                ),
            },
        ]
    lp = r.get("long_poll")
    if lp:
        lat, imm = lp["latency"], lp["immediate_poll_rtt"]
        rows += latency_rows(
            f"{tag} long-poll commit->return", lat, imm, "answered-at-once poll RTT", target
        )
        rows += [
            {
                "figure": f"{tag} long-poll upload round trip p50/p99",
                "value": f"{lp['upload_rtt']['p50']:.2f}/{lp['upload_rtt']['p99']:.2f}",
                "unit": "ms",
                "baseline_text": f"/healthz RTT p50 {lp['healthz_rtt']['p50']:.2f} ms",
                "result": "info",
            },
            {
                "figure": f"{tag} long-poll delivered, in order, no duplicate",
                "value": f"{lp['delivered']}/{lp['uploads']}",
                "unit": "events",
                "baseline_text": f"{lp['polls']} polls, {lp['polls_timed_out']} timed out",
                "target": "all",
                "result": verdict(
                    lp["missing"] == 0
                    and lp["upload_failures"] == 0
                    and lp["duplicates"] == 0
                    and lp["in_order"]
                    and not lp["client_error"]
                ),
            },
        ]
    diag = r.get("diag")
    if diag:
        rows += [
            {
                "figure": f"{tag} diag: {diag['vendor']} connect+close p50/p99",
                "value": f"{diag['connect_close']['p50']:.2f}/{diag['connect_close']['p99']:.2f}",
                "unit": "ms",
                "result": "info",
            },
            {
                "figure": f"{tag} diag: events_read, new connection p50/p99",
                "value": f"{diag['read_new_connection']['p50']:.2f}/"
                f"{diag['read_new_connection']['p99']:.2f}",
                "unit": "ms",
                "baseline_text": f"kept connection {diag['read_kept_connection']['p50']:.2f}/"
                f"{diag['read_kept_connection']['p99']:.2f} ms",
                "ratio": diag["read_new_connection"]["p50"] / diag["read_kept_connection"]["p50"],
                "result": "info",
            },
            {
                "figure": f"{tag} diag: events_read_async (server path) p50/p99",
                "value": f"{diag['read_async_as_server']['p50']:.2f}/"
                f"{diag['read_async_as_server']['p99']:.2f}",
                "unit": "ms",
                "result": "info",
            },
            {
                "figure": f"{tag} diag: {diag['layer']} group_send->receive p50/p99",
                "value": f"{diag['layer_send_receive']['p50']:.3f}/"
                f"{diag['layer_send_receive']['p99']:.3f}",
                "unit": "ms",
                "result": "info",
            },
        ]
    if diag:
        rows.append(
            {
                "figure": f"{tag} background tasks after the run (worker "
                f"{'in-process' if r.get('inprocess_worker') == '1' else 'off'})",
                "value": ", ".join(f"{k} {v}" for k, v in sorted(diag["task_status"].items()))
                or "none",
                "unit": "",
                "result": "info",
            }
        )
    many = r.get("many_polls")
    if many:
        idle, loaded = many["get_idle"], many["get_loaded"]
        ratio = loaded["p99"] / idle["p99"] if idle.get("p99") and loaded.get("p99") else None
        rows += [
            {
                "figure": f"{tag} {many['polls']} polls: server RSS while waiting (peak)",
                "value": many["peak_rss_mib"],
                "unit": "MiB",
                "baseline_text": f"idle {many['idle_rss_mib']:.1f} MiB; settled "
                f"{many['waiting_rss_mib']:.1f} MiB",
                "ratio": many["peak_rss_mib"] / many["idle_rss_mib"],
                "target": f"<= {TARGET_POLLS_RSS_MIB:.0f} MiB",
                "result": verdict(many["peak_rss_mib"] <= TARGET_POLLS_RSS_MIB),
            },
            {
                "figure": f"{tag} {many['polls']} polls: GET uploads p50 (n={loaded['n']})",
                "value": ms(loaded.get("p50")),
                "unit": "ms",
                "digits": 2,
                "baseline_text": f"idle p50 {idle['p50']:.2f} ms",
                "ratio": loaded["p50"] / idle["p50"],
                "result": "info",
            },
            {
                "figure": f"{tag} {many['polls']} polls: GET uploads p99",
                "value": ms(loaded.get("p99")),
                "unit": "ms",
                "digits": 2,
                "baseline_text": f"idle p99 {idle['p99']:.2f} ms",
                "ratio": ratio,
                "target": f"<= {TARGET_GET_P99_RATIO:.0f} x idle",
                "result": verdict(ratio is not None and ratio <= TARGET_GET_P99_RATIO),
            },
            {
                "figure": f"{tag} {many['polls']} polls: GET uploads max",
                "value": ms(loaded.get("max")),
                "unit": "ms",
                "digits": 2,
                "baseline_text": f"idle max {idle['max']:.2f} ms",
                "result": "info",
            },
            {
                "figure": f"{tag} {many['polls']} polls: returned correctly",
                "value": f"{many['correct']}/{many['polls']}",
                "unit": "polls",
                "baseline_text": f"{many['woken']} woken by an upload",
                "target": "all",
                "result": verdict(many["correct"] == many["polls"]),
            },
            {
                "figure": f"{tag} {many['polls']} polls: errors",
                "value": many["errors"],
                "unit": "",
                "target": "0",
                "result": verdict(many["errors"] == 0 and not many["client_error"]),
            },
            {
                "figure": f"{tag} {many['polls']} polls: server CPU while waiting (no requests)",
                "value": many["server_cpu_share"]["polls_waiting"],
                "unit": "cores",
                "digits": 2,
                "baseline_text": f"during idle GETs {many['server_cpu_share']['idle_gets']:.2f}",
                "result": "info",
            },
            {
                "figure": f"{tag} {many['polls']} polls: server threads while waiting",
                "value": many["server_threads_waiting"],
                "unit": "threads",
                "baseline_text": f"idle {many['server_threads_idle']}",
                "result": "info",
            },
            {
                "figure": f"{tag} {many['polls']} polls: wake-up under load p50/max",
                "value": f"{many['wake_latency'].get('p50', float('nan')):.2f}/"
                f"{many['wake_latency'].get('max', float('nan')):.2f}",
                "unit": "ms",
                "result": "info",
            },
        ]
    if "server_log_errors" in r:
        rows.append(
            {
                "figure": f"{tag} server log: tracebacks/errors",
                "value": r["server_log_errors"],
                "unit": "",
                "target": "0",
                "result": verdict(r["server_log_errors"] == 0),
            }
        )
    return rows


def strip_samples(value: Any) -> Any:
    """The committed latest-events.json keeps summaries, not every sample."""
    if isinstance(value, dict):
        return {
            k: strip_samples(v)
            for k, v in value.items()
            if not (k.endswith("_ms") and isinstance(v, list))
        }
    if isinstance(value, list):
        return [strip_samples(v) for v in value]
    return value


# --- main ---


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 100 WS events, 50 long-poll events, 200 polls waiting 20 s; "
        "does not overwrite results/latest-events.json",
    )
    parser.add_argument("--events", type=int, default=None, help="WS events (default 1000)")
    parser.add_argument("--lp-events", type=int, default=None, help="long-poll events (500)")
    parser.add_argument("--polls", type=int, default=None, help="concurrent long-polls (1000)")
    parser.add_argument("--skip-redis", action="store_true", help="embedded profile only")
    parser.add_argument(
        "--pg-url",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server (a database is created on it and dropped)",
    )
    parser.add_argument("--redis-db", type=int, default=13, help="Redis db number (must be empty)")
    parser.add_argument("--tmp-root", default="/tmp", help="where the temporary folder goes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the servers (A/B experiments, e.g. "
        "DEPOT_EVENTS_POLL_SECONDS=1); such runs never write results/latest-events.json",
    )
    args = parser.parse_args()
    server_env = dict(item.split("=", 1) for item in args.server_env)

    ws_events = args.events or (100 if args.quick else 1000)
    lp_events = args.lp_events or (50 if args.quick else 500)
    n_polls = args.polls or (200 if args.quick else 1000)
    poll_wait = 20.0 if args.quick else 60.0
    gets = 50 if args.quick else 200
    warmup = 20
    profiles = ["embedded"] if args.skip_redis else list(PROFILES)

    def on_sigterm(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n_polls + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n_polls + 1024), hard))
    ctx = mp.get_context("spawn")

    work = Path(tempfile.mkdtemp(prefix="depot-bench-events-", dir=Path(args.tmp_root)))
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/bench_events.py", *sys.argv[1:]]),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
            "clock": str(time.get_clock_info("perf_counter")),
        },
        "git": git_info(),
        "code_fingerprint_start": code_fingerprint(),
        "work_dir": str(work),
        "settings": {
            "ws_events": ws_events,
            "lp_events": lp_events,
            "warmup": warmup,
            "polls": n_polls,
            "poll_wait_seconds": poll_wait,
            "gets": gets,
            "percentile": "nearest rank",
            "server_env": server_env,
        },
        "profiles": {},
    }
    rows: list[dict[str, Any]] = []
    servers: list[Server] = []
    pg_db = f"depot_bench_{uuid.uuid4().hex[:10]}"
    pg_created = False
    redis_used = False
    watch = ActivityWatch().__enter__()
    try:
        for profile in profiles:
            r: dict[str, Any] = {}
            results["profiles"][profile] = r
            data_dir = work / f"data-{profile}"
            data_dir.mkdir()
            env = depot_env(data_dir)
            # depot_env pins DATABASE_URL to the SQLite file, which turns the in-process task
            # worker's default (on only without DATABASE_URL) off: say what each profile runs.
            env["DEPOT_EMBEDDED_WORKER"] = "1" if profile == "embedded" else "0"
            if profile == "redis":
                size = redis_cli(args.redis_db, "DBSIZE")
                if size != "0":
                    raise RuntimeError(f"Redis db {args.redis_db} holds {size} keys; pick another")
                redis_used = True
                psql(args.pg_url, f'CREATE DATABASE "{pg_db}"')
                pg_created = True
                env["DATABASE_URL"] = f"{args.pg_url}/{pg_db}"
                env["REDIS_URL"] = f"redis://127.0.0.1:6379/{args.redis_db}"
                r["database"] = env["DATABASE_URL"]
                r["redis"] = env["REDIS_URL"]
            env |= server_env
            r["inprocess_worker"] = env["DEPOT_EMBEDDED_WORKER"]
            server = Server(profile, work, env)
            servers.append(server)
            server.start()

            r["ws"] = phase_ws(
                ctx, server, events=ws_events, warmup=warmup, pause_s=0.007, pings=200
            )
            ws = r["ws"]
            log(
                f"[{profile}] WS: {ws['delivered']}/{ws['uploads']} delivered, latency "
                f"{ws['latency']}, upload RTT p50 {ws['upload_rtt'].get('p50')} ms"
            )
            r["long_poll"] = phase_long_poll(
                ctx, server, events=lp_events, warmup=warmup, settle_s=0.05, wait_seconds=30
            )
            lp = r["long_poll"]
            log(
                f"[{profile}] long-poll: {lp['delivered']}/{lp['uploads']} delivered, latency "
                f"{lp['latency']}, immediate poll RTT p50 {lp['immediate_poll_rtt'].get('p50')} ms"
            )
            log(f"[{profile}] diagnostics (a child process with the server's settings)")
            r["diag"] = run_diag(env, ws["session_id"], 200)
            log(f"  {r['diag']}")
            if profile == "embedded":
                # A waiting long-poll re-reads the log every DEPOT_LONGPOLL_RECHECK_SECONDS
                # (+-20% jitter) or, in older code, DEPOT_EVENTS_POLL_SECONDS: measure over one
                # whole period, as far as the polls' own wait leaves room for it.
                effective = r["diag"]["settings"]
                recheck = (
                    effective.get("DEPOT_LONGPOLL_RECHECK_SECONDS")
                    or effective.get("DEPOT_EVENTS_POLL_SECONDS")
                    or 5.0
                )
                span = min(1.2 * float(recheck), max(5.0, (poll_wait - 15) / 2))
                r["many_polls_span_s"] = span
                r["many_polls"] = phase_many_polls(
                    ctx,
                    server,
                    polls=n_polls,
                    wait_seconds=poll_wait,
                    gets=gets,
                    span_s=span,
                    wakes=10,
                )
                many = r["many_polls"]
                log(
                    f"[{profile}] polls: {many['correct']}/{many['polls']} correct, "
                    f"{many['errors']} errors, RSS peak {many['peak_rss_mib']} MiB, GET p99 idle "
                    f"{many['get_idle'].get('p99')} / loaded {many['get_loaded'].get('p99')} ms"
                )
            server.stop()
            r["server_log_errors"], r["server_log_tail"] = server.log_errors()
            rows += profile_rows(profile, r)
        watch.__exit__()
        results["concurrent_processes"] = watch.summary()
        results["code_fingerprint_end"] = code_fingerprint()
        unchanged = results["code_fingerprint_end"] == results["code_fingerprint_start"]
        rows.append(
            {
                "figure": "code unchanged during the run (outside bench/, tests/)",
                "value": str(unchanged),
                "unit": "",
                "target": "True",
                "result": verdict(unchanged),
            }
        )
        rows.append(
            {
                "figure": "other benchmarks/tests running meanwhile",
                "value": len(results["concurrent_processes"]),
                "unit": "processes",
                "baseline_text": "; ".join(
                    f"{c['first']}-{c['last']} {c['command'][:60]}"
                    for c in results["concurrent_processes"][:3]
                )
                or "-",
                "result": "info",
            }
        )
        results["rows"] = rows
        results["passed"] = all(row["result"] != "FAIL" for row in rows)
        return 0 if results["passed"] else 1
    except BaseException as error:
        results["error"] = repr(error)
        log(f"ERROR: {error!r}")
        for server in servers:
            if server.log_path.exists():
                print(
                    f"--- uvicorn log ({server.profile}, tail) ---\n"
                    + server.log_path.read_text(errors="replace")[-3000:]
                )
        raise
    finally:
        watch.__exit__()
        for server in servers:
            server.stop()
        if pg_created:
            try:
                psql(args.pg_url, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
                log(f"dropped database {pg_db}")
            except subprocess.SubprocessError as error:
                log(f"could not drop database {pg_db}: {error}")
        if redis_used:
            try:
                redis_cli(args.redis_db, "FLUSHDB")
                log(f"flushed Redis db {args.redis_db}")
            except subprocess.SubprocessError as error:
                log(f"could not flush Redis db {args.redis_db}: {error}")
        finish_run(
            results,
            rows,
            name="events",
            title="Depot event benchmarks",
            suffix="-quick" if args.quick else "",
            latest=not args.quick
            and not server_env
            and results.get("code_fingerprint_end") == results["code_fingerprint_start"],
            latest_results=strip_samples(results),
            work=work,
            keep=args.keep,
        )


if __name__ == "__main__":
    assert BENCH.is_dir()
    sys.exit(main())
