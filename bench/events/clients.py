"""The event benchmark's clients: one keep-alive HTTP connection (http.client, the least client
work between the bytes and the clock), and the client processes, spawned so that no GIL is
shared with the writer: a WebSocket reader, a long-poll poller and the holder of many polls.
Each process reports on a queue: ("ready" | "issued" | "sent", ...) and at the end ("result",
...)."""

from __future__ import annotations

import asyncio
import http.client
import json
import multiprocessing as mp
import queue as queue_module
import resource
import time
import uuid
from typing import Any

from bench.common.multipart import multipart_body


class Http:
    """One keep-alive connection to the server, reconnecting if the server closed it."""

    def __init__(self, base_url: str, timeout: float = 60) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
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
    headers = {"X-API-Key": api_key, "Content-Type": content_type}
    status, raw = client.request("POST", f"/api/uploads/{sid}", body=body, headers=headers)
    t0 = time.perf_counter()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = {"raw": raw[:300].decode(errors="replace")}
    return status, parsed, t0


def timed_upload(client: Http, api_key: str, sid: str, number: int) -> dict[str, Any]:
    """upload() as the latency phases record it: t0 and the request's round trip."""
    began = time.perf_counter()
    status, body, t0 = upload(client, api_key, sid, number)
    return {
        "n": number,
        "status": status,
        "id": body.get("attachment_id"),
        "t0": t0,
        "rtt": t0 - began,
        "body": None if status == 201 else body,
    }


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


def ws_reader_main(
    url: str, api_key: str, pings: int, expected: int, max_seconds: float, out: Any, stop: Any
) -> None:
    """Connects, measures `pings` ping/pong round trips, says ready, then stamps every message
    until `expected` attachment ids were seen, `stop` is set, or `max_seconds` pass."""
    from websockets.asyncio.client import connect

    async def run() -> dict[str, Any]:
        result: dict[str, Any] = {"ping_rtt": [], "messages": [], "error": None}
        headers = {"X-API-Key": api_key}
        async with connect(
            url, additional_headers=headers, open_timeout=20, ping_interval=None, max_size=2**24
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
                ids = [e.get("attachment_id") for e in events]
                seqs = [e.get("sequence") for e in events]
                result["messages"].append(
                    {"t1": t1, "type": message.get("type"), "ids": ids, "seqs": seqs}
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
    cursor = seen = 0
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
    base_url: str, api_key: str, sids: list[str], wait_seconds: float, max_seconds: float, out: Any
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
                    record: dict[str, Any] = {
                        "i": index,
                        "status": response.status_code,
                        "issued": issued,
                        "t1": time.perf_counter(),
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
