"""The event benchmark's phases, each on one running server: commit -> WebSocket push,
commit -> long-poll return, and many waiting long-polls (memory, CPU, a GET series beside
them). t0 is taken when the writer has read the upload's 201, t1 when a client process has the
message naming that attachment (time.perf_counter: CLOCK_MONOTONIC, one clock for every
process)."""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import statistics
import time
import uuid
from typing import Any

from bench.common import log
from bench.common.process import RssWatch, UvicornServer, status_kib
from bench.common.stats import raw_ms, summary_ms
from bench.events.clients import (
    Http,
    lp_poller_main,
    many_polls_main,
    stop_child,
    timed_gets,
    timed_upload,
    upload,
    wait_message,
    ws_reader_main,
)


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


def phase_ws(
    ctx: mp.context.BaseContext,
    server: UvicornServer,
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
            f"[{server.name}] WS connected; ping RTT p50 "
            f"{1000 * statistics.median(ready['ping_rtt']):.2f} ms; {total} uploads "
            f"({warmup} warm-up), pause {pause_s * 1000:.0f} ms"
        )
        deadline = time.perf_counter() + total * 0.5 + 60
        for number in range(total):
            if time.perf_counter() > deadline:
                break
            uploads.append(timed_upload(client, server.api_key, sid, number))
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
    ping_rtt = result.get("ping_rtt") or ready["ping_rtt"]
    return analyse_push(uploads, result["messages"], warmup, error=result.get("error")) | {
        "session_id": sid,
        "pause_ms": pause_s * 1000,
        "ping_rtt": summary_ms(ping_rtt),
        "ping_rtt_ms": raw_ms(ping_rtt),
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
    ok = [u for u in uploads if u["n"] >= warmup and u["status"] == 201]
    latencies = [arrival[u["id"]] - u["t0"] for u in ok if u["id"] in arrival]
    missing = [u["id"] for u in uploads if u["status"] == 201 and u["id"] not in arrival]
    failed = [u for u in uploads if u["status"] != 201]
    batches = [len(d["ids"]) for d in deliveries]
    return {
        "uploads": len(uploads),
        "measured": sum(1 for u in uploads if u["n"] >= warmup),
        "upload_failures": len(failed),
        "upload_failure_examples": [f"{u['status']} {u['body']}"[:300] for u in failed[:5]],
        "delivered": len(arrival),
        "missing": len(missing),
        "missing_examples": missing[:5],
        "duplicates": duplicates,
        "in_order": all(b > a for a, b in itertools.pairwise(order)),
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
    server: UvicornServer,
    *,
    events: int,
    warmup: int,
    settle_s: float,
    wait_seconds: float,
) -> dict[str, Any]:
    sid = f"bench-lp-{uuid.uuid4().hex[:12]}"
    total = events + warmup
    out, stop = ctx.Queue(), ctx.Event()
    max_s = total * (settle_s + 0.5) + 120
    poller = ctx.Process(
        target=lp_poller_main,
        args=(server.base_url, server.api_key, sid, total, wait_seconds, max_s, out, stop),
        daemon=True,
    )
    poller.start()
    client = Http(server.base_url)
    uploads: list[dict[str, Any]] = []
    log(
        f"[{server.name}] long-poll: {total} uploads ({warmup} warm-up), each "
        f"{settle_s * 1000:.0f} ms after the poll was issued"
    )
    try:
        deadline = time.perf_counter() + total * (settle_s + 0.5) + 60
        for number in range(total):
            if time.perf_counter() > deadline:
                break
            wait_message(out, "issued", wait_seconds + 30)
            time.sleep(settle_s)
            uploads.append(timed_upload(client, server.api_key, sid, number))
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
    path = f"/api/sessions/{sid}/artifact-events?after={max(0, last - 1)}&wait_seconds=0"
    headers = {"X-API-Key": server.api_key}
    immediate = timed_gets(client, path, headers, count=200, gap_s=0.002, max_s=60)
    healthz = timed_gets(client, "/healthz", {}, count=200, gap_s=0.002, max_s=60)
    client.close()
    return analysis | {
        "session_id": sid,
        "settle_ms": settle_s * 1000,
        "immediate_poll_rtt": summary_ms(immediate["times"]) | {"statuses": immediate["statuses"]},
        "healthz_rtt": summary_ms(healthz["times"]) | {"statuses": healthz["statuses"]},
    }


def phase_many_polls(
    ctx: mp.context.BaseContext,
    server: UvicornServer,
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

    def cpu_share_since(before: float, began: float) -> float:
        return ((cpu_seconds(server.pid) or 0.0) - before) / (time.perf_counter() - began)

    idle_rss_kib = status_kib(server.pid, "VmRSS") or 0
    idle_threads = status_kib(server.pid, "Threads")
    log(
        f"[{server.name}] idle RSS {idle_rss_kib / 1024:.1f} MiB; idle GET {list_path} "
        f"x{gets}, {get_gap_s * 1000:.0f} ms apart"
    )
    cpu_before, idle_began = cpu_seconds(server.pid) or 0.0, time.perf_counter()
    idle = timed_gets(client, list_path, headers, count=gets, gap_s=get_gap_s, max_s=120)
    idle_cpu = cpu_share_since(cpu_before, idle_began)

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
            log(f"[{server.name}] {polls} long-polls written in {sent.get('seconds')} s {sent}")
            settle = wait_cpu_settled(server.pid, below=0.15, window=0.5, max_seconds=30)
            log(
                f"  server settled={settle['settled']} after {settle['seconds']:.1f} s "
                f"(CPU share per 0.5 s: {settle['cpu']})"
            )
            waiting_rss_kib = status_kib(server.pid, "VmRSS") or 0
            threads = status_kib(server.pid, "Threads")
            log(f"  RSS while waiting {waiting_rss_kib / 1024:.1f} MiB, {threads} threads")
            # What the waiting polls cost by themselves: server CPU over one full re-check
            # period (every waiting poll re-reads the log once in it).
            cpu_window = span_s
            cpu_before = cpu_seconds(server.pid) or 0.0
            time.sleep(cpu_window)
            waiting_cpu = ((cpu_seconds(server.pid) or 0.0) - cpu_before) / cpu_window
            log(f"  server CPU while the polls wait: {waiting_cpu:.2f} core over {cpu_window} s")
            client.request("GET", list_path, headers=headers)  # reconnect if keep-alive expired
            cpu_before, loaded_began = cpu_seconds(server.pid) or 0.0, time.perf_counter()
            loaded = timed_gets(client, list_path, headers, count=gets, gap_s=get_gap_s, max_s=120)
            loaded_seconds = time.perf_counter() - loaded_began
            loaded_cpu = cpu_share_since(cpu_before, loaded_began)
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
