"""Diagnostics beside the latency figures, and run hygiene.

`diagnostics` runs in a Django child process with the server's settings (run_diag starts it):
what one read of the event log costs with a new and a kept connection, the async read every
push and woken poll makes, a channel-layer round trip, and the task and index counts after
the phases. ActivityWatch lists other benchmark and test processes seen during the run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from bench.common.stats import summary_ms
from bench.common.worker import run_worker

TIMED = ("connect_close", "read_new_connection", "read_kept_connection")
TIMED_ASYNC = ("read_async_as_server", "layer_send_receive")


def diagnostics(params: dict[str, Any]) -> dict[str, Any]:
    """Each figure `n` times, in seconds (run_diag summarises them)."""
    from channels.layers import get_channel_layer
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from attachments.models import Attachment
    from sessions_app.events import Feed, events_read, events_read_async
    from sessions_app.models import Session

    sid, n = params["session_id"], params["n"]
    session = Session.objects.get(session_id=sid)
    feed = Feed(workspace_id=session.workspace_id, session_id=sid)
    after = max(0, session.last_event_sequence - 1)  # one event to read, as after a wake-up
    connection.close()
    pc = time.perf_counter
    out: dict[str, Any] = {"vendor": connection.vendor}

    def loop(fn: Callable[[], Any]) -> list[float]:
        times = []
        for _ in range(n):
            began = pc()
            fn()
            times.append(pc() - began)
        return times

    def read() -> Any:
        return events_read(feed=feed, after=after, limit=200)

    def new_connection_read() -> None:
        page = read()
        connection.close()
        assert len(page.events) == 1, page

    out["connect_close"] = loop(lambda: (connection.ensure_connection(), connection.close()))
    out["read_new_connection"] = loop(new_connection_read)
    read()
    out["read_kept_connection"] = loop(read)
    connection.close()

    async def async_reads() -> list[float]:
        times = []
        for _ in range(n):
            began = pc()
            await events_read_async(feed=feed, after=after, limit=200)
            times.append(pc() - began)
        return times

    async def layer_round_trips() -> tuple[list[float], str]:
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

    out["read_async_as_server"] = asyncio.run(async_reads())
    out["layer_send_receive"], out["layer"] = asyncio.run(layer_round_trips())
    statuses = Attachment.objects.values("index_status").annotate(n=Count("id"))
    out["attachment_index_status"] = {row["index_status"]: row["n"] for row in statuses}
    tasks = DBTaskResult.objects.values("status").annotate(n=Count("id"))
    out["task_status"] = {row["status"]: row["n"] for row in tasks}
    names = ("DEPOT_EVENTS_POLL_SECONDS", "DEPOT_LONGPOLL_RECHECK_SECONDS")
    out["settings"] = {name: getattr(settings, name, None) for name in names}
    return out


def run_diag(env: dict[str, str], sid: str, n: int) -> dict[str, Any]:
    raw = run_worker(
        "bench.events.diag", "diagnostics", {"session_id": sid, "n": n}, env, timeout=300
    )
    kept = ("vendor", "layer", "attachment_index_status", "task_status", "settings")
    return {key: raw[key] for key in kept} | {
        key: summary_ms(raw[key]) for key in TIMED + TIMED_ASYNC
    }


class ActivityWatch:
    """Every 2 s, lists other benchmark or test processes on the machine (from /proc): the
    figures of a run that overlapped one are not comparable with a quiet run's."""

    MARKERS = ("-m bench.", "bench/bench_", "pytest")

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
                self.seen.setdefault(command[:200], [now, now])[1] = now

    def _run(self) -> None:
        while not self._stop.wait(2.0):
            with contextlib.suppress(Exception):  # never let the watch break the run
                self._scan()

    def __enter__(self) -> ActivityWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def summary(self) -> list[dict[str, str]]:
        return [{"command": k, "first": v[0], "last": v[1]} for k, v in self.seen.items()]
