"""The idle-but-open clients beside the load: WebSockets and waiting long-polls, in one asyncio
process of their own (`python -m bench.load.sockets PLAN OUT`).

Plain asyncio rather than locust users: locust's user count is then exactly the 32 clients of
the mixed workload, its statistics hold only those requests (a 25 s poll is not a latency to
put beside a 5 ms read), and 400 mostly idle connections cost one event loop here instead of 400
greenlets on the locust process's one core. Not in the locust process either: locust patches
the interpreter with gevent on import, under which an asyncio loop is not what it seems.

Protocol with the orchestrator: this prints `READY {...}` once every socket is open and every
poll sent, waits for `STOP` on stdin, checks that every socket still answers, closes them and
writes its figures to OUT.

- WebSockets `/ws/sessions/{sid}` with the `X-API-Key` handshake header, each sending
  `{"type": "ping"}` every `ping_seconds` (jittered) and timing the pong. Those on hot sessions
  (the ones the workload uploads into) connect with `after=0`, so they get the log replayed and
  then pushed: at the end each must hold every event of the log, 1, 2, 3 ... in order, none
  twice, none missing.
- Long-polls `GET /api/sessions/{sid}/artifact-events?after=<cursor>&wait_seconds=W`,
  re-issued with `next_cursor` as soon as one returns. The first poll of each waits a random
  1..W s, so that the re-issues spread out instead of coming back all at once every W s.
A refused handshake, a socket closed before STOP, an error frame, a missing pong, a poll that
is not a 200 or fails: each is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.common.stats import latency_summary

MAX_FAILURE_DETAILS = 50


class Figures:
    def __init__(self) -> None:
        self.failures: list[dict[str, Any]] = []
        self.failure_count = 0
        self.ws_open = 0
        self.pong_seconds: list[float] = []
        self.ws_messages = 0
        self.ws_events = 0
        self.polls_returned = 0
        self.polls_with_events = 0
        self.polls_timed_out = 0
        self.polls_waiting = 0
        self.poll_events = 0

    def fail(self, kind: str, **detail: Any) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_FAILURE_DETAILS:
            self.failures.append({"kind": kind, "t": time.monotonic(), **detail})


class Socket:
    """One WebSocket: reads every message, pings on a timer, keeps the sequences it saw."""

    def __init__(self, session_id: str, hot: bool) -> None:
        self.session_id, self.hot = session_id, hot
        self.connection: ClientConnection | None = None
        self.sequences: list[int] = []
        self.pong: asyncio.Event = asyncio.Event()
        self.ping_sent = 0.0
        self.stopping = False
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, api_key: str, figures: Figures) -> None:
        try:
            self.connection = await connect(
                url, additional_headers={"X-API-Key": api_key}, open_timeout=60
            )
        except Exception as error:  # any refusal or network error: counted, not raised
            figures.fail("ws_handshake", session_id=self.session_id, error=repr(error)[:300])
            return
        figures.ws_open += 1

    async def read(self, figures: Figures) -> None:
        assert self.connection is not None
        try:
            async for text in self.connection:
                figures.ws_messages += 1
                message = json.loads(text)
                kind = message.get("type")
                if kind == "pong":
                    if self.ping_sent:
                        figures.pong_seconds.append(time.perf_counter() - self.ping_sent)
                        self.ping_sent = 0.0
                    self.pong.set()
                elif kind == "error":
                    figures.fail("ws_error_frame", session_id=self.session_id, message=message)
                else:
                    events = message.get("data", {}).get("events", [])
                    figures.ws_events += len(events)
                    self.sequences.extend(event["sequence"] for event in events)
        except Exception as error:
            if not self.stopping:
                figures.fail("ws_read", session_id=self.session_id, error=repr(error)[:300])
            return
        if not self.stopping:
            close = self.connection.close_code, self.connection.close_reason
            figures.fail("ws_closed", session_id=self.session_id, close=close)

    async def ping(self, timeout: float, figures: Figures) -> bool:
        """One ping; True when its pong came within `timeout`."""
        assert self.connection is not None
        self.pong.clear()
        self.ping_sent = time.perf_counter()
        try:
            await self.connection.send(json.dumps({"type": "ping"}))
            await asyncio.wait_for(self.pong.wait(), timeout)
        except Exception as error:
            if not self.stopping:
                figures.fail("ws_ping", session_id=self.session_id, error=repr(error)[:300])
            return False
        return True

    async def ping_loop(self, every: float, figures: Figures) -> None:
        await asyncio.sleep(random.uniform(0, every))
        while not self.stopping:
            await self.ping(30, figures)
            await asyncio.sleep(every * random.uniform(0.8, 1.2))


async def poller(
    base_url: str, session_id: str, wait_seconds: int, api_key: str, figures: Figures
) -> None:
    """One long-poll after another on a connection of its own, as a real client holds one: in
    a shared pool, a poll could take a connection idle for 5 s that uvicorn's keep-alive
    timeout is closing that moment (seen here: ReadError), which says nothing of Depot."""
    async with httpx.AsyncClient(
        base_url=base_url,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        timeout=httpx.Timeout(wait_seconds + 60, connect=30),
    ) as client:
        await poll_loop(client, session_id, wait_seconds, api_key, figures)


async def poll_loop(
    client: httpx.AsyncClient,
    session_id: str,
    wait_seconds: int,
    api_key: str,
    figures: Figures,
) -> None:
    cursor = 0
    wait = random.randint(1, wait_seconds)
    while True:
        figures.polls_waiting += 1
        try:
            response = await client.get(
                f"/api/sessions/{session_id}/artifact-events",
                params={"after": cursor, "wait_seconds": wait},
                headers={"X-API-Key": api_key},
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            figures.fail("poll_error", session_id=session_id, error=repr(error)[:300])
            await asyncio.sleep(1)
            continue
        finally:
            figures.polls_waiting -= 1
        wait = wait_seconds
        if response.status_code != 200:
            figures.fail("poll_status", session_id=session_id, status=response.status_code)
            await asyncio.sleep(1)
            continue
        body = response.json()
        figures.polls_returned += 1
        figures.poll_events += len(body["events"])
        figures.polls_with_events += bool(body["events"])
        figures.polls_timed_out += bool(body["timed_out"])
        cursor = body["next_cursor"]


async def caught_up(
    client: httpx.AsyncClient, socket: Socket, api_key: str, seconds: float
) -> dict[str, Any]:
    """Whether a hot socket's events are the log's: 1, 2, 3 ... with none twice and none
    missing, and nothing in the log after the last one (given `seconds` to arrive: the
    consumer also reads the log on a timer)."""
    deadline = time.monotonic() + seconds
    while True:
        last = socket.sequences[-1] if socket.sequences else 0
        response = await client.get(
            f"/api/sessions/{socket.session_id}/artifact-events",
            params={"after": last, "wait_seconds": 0},
            headers={"X-API-Key": api_key},
        )
        behind = len(response.json()["events"]) if response.status_code == 200 else -1
        if behind == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    sequences = socket.sequences
    in_order = sequences == list(range(1, len(sequences) + 1))
    return {
        "session_id": socket.session_id,
        "events": len(sequences),
        "first": sequences[0] if sequences else None,
        "last": sequences[-1] if sequences else None,
        "in_order": in_order,
        "behind_at_end": behind,
    }


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    figures = Figures()
    base_url, api_key = plan["depot_url"], plan["api_key"]
    ws_base = base_url.replace("http://", "ws://", 1)
    wait_seconds = plan["poll_wait_seconds"]
    sockets = [Socket(sid, hot) for sid, hot in plan["websockets"]]
    checker = httpx.AsyncClient(base_url=base_url, timeout=30)
    started = time.monotonic()
    # Open a few at a time: a handshake storm of 200 measures the server's accept queue.
    gate = asyncio.Semaphore(20)

    async def open_one(socket: Socket) -> None:
        url = f"{ws_base}/ws/sessions/{socket.session_id}" + ("?after=0" if socket.hot else "")
        async with gate:
            await socket.open(url, api_key, figures)

    await asyncio.gather(*(open_one(socket) for socket in sockets))
    opened_s = time.monotonic() - started
    for socket in sockets:
        if socket.connection is not None:
            socket.tasks = [
                asyncio.create_task(socket.read(figures)),
                asyncio.create_task(socket.ping_loop(plan["ping_seconds"], figures)),
            ]
    polls = [
        asyncio.create_task(poller(base_url, sid, wait_seconds, api_key, figures))
        for sid in plan["polls"]
    ]
    await asyncio.sleep(1.0)  # the polls are sent and waiting
    ready = {"ws_open": figures.ws_open, "polls_waiting": figures.polls_waiting}
    print("READY " + json.dumps(ready), flush=True)

    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    stopped_at = time.monotonic()
    waiting_at_stop = figures.polls_waiting
    # Still alive? Every socket must answer one more ping, and every hot one have every event.
    live = [socket for socket in sockets if socket.connection is not None]
    for socket in live:
        socket.tasks[1].cancel()  # the ping timer: one ping in flight at a time
    await asyncio.gather(*(socket.tasks[1] for socket in live), return_exceptions=True)
    alive = await asyncio.gather(*(socket.ping(20, figures) for socket in live))
    hot = await asyncio.gather(
        *(
            caught_up(checker, socket, api_key, plan["catch_up_seconds"])
            for socket in live
            if socket.hot
        )
    )
    for report in hot:
        if not report["in_order"] or report["behind_at_end"] != 0:
            figures.fail("ws_events", **report)
    for socket in sockets:
        socket.stopping = True
    for task in polls:
        task.cancel()
    for socket in live:
        for task in socket.tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            assert socket.connection is not None
            await socket.connection.close()
    await asyncio.gather(*polls, *(t for s in live for t in s.tasks), return_exceptions=True)
    await checker.aclose()
    return {
        "stop_line": line.strip(),
        "websockets": len(sockets),
        "ws_open": figures.ws_open,
        "ws_open_seconds": round(opened_s, 2),
        "ws_alive_at_end": sum(alive),
        "ws_messages": figures.ws_messages,
        "ws_events": figures.ws_events,
        "pong": latency_summary(figures.pong_seconds),
        "hot_sockets": hot,
        "polls": len(plan["polls"]),
        "polls_waiting_at_stop": waiting_at_stop,
        "polls_returned": figures.polls_returned,
        "polls_with_events": figures.polls_with_events,
        "polls_timed_out": figures.polls_timed_out,
        "poll_events": figures.poll_events,
        "failures": figures.failure_count,
        "failure_details": figures.failures,
        "check_seconds": round(time.monotonic() - stopped_at, 2),
    }


def main(plan_path: str, out_path: str) -> None:
    result = asyncio.run(run(json.loads(Path(plan_path).read_text())))
    Path(out_path).write_text(json.dumps(result))
    print("DONE", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
