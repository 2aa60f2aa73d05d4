"""The mixed workload, as locust users driven from Python (no web UI, no locustfile).

Run by `bench.load` in its own process (`python -m bench.load.workload PLAN OUT`): importing
locust monkey-patches the interpreter with gevent, which the orchestrator, its samplers and the
asyncio socket clients must not share.

`USERS` users (32) loop without think time. Each request goes to the target of the current
block: Depot, or the bare ASGI app in the baseline blocks, which get the very same requests
(paths, headers, bodies) and answer 200 `{}`. Blocks alternate, so the machine's noise (two
cores shared with PostgreSQL, Redis, moto and other people's work) falls on both alike. Every
request is recorded through locust's `request` event, with its target and block in the
request context; a request whose status is not the one the route answers on success is a
failure, as is an exception in a task (`user_error`).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment

from bench.common.multipart import multipart_body

KIB = 1024


class Clock:
    """Which server the users talk to now ("depot", "bare", or None once the schedule is over)
    and the block number (-1 is the warm-up, not counted in latencies)."""

    target: str | None = "depot"
    block: int = -1
    in_flight = 0


class Plan:
    """What the orchestrator decided (see `bench.load.__main__`); filled in from JSON."""

    depot_url = ""
    bare_url = ""
    api_key = ""
    namespace_path = ""  # /api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}
    hot_sessions: list[str] = []
    downloads: list[dict[str, Any]] = []  # {"session_id", "attachment_id", "size"}
    artifacts: list[str] = []  # root ids
    upload_min = 4 * KIB
    upload_max = 64 * KIB
    seed = 1


def proc_cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class LoadUser(FastHttpUser):
    """One client of the mixed workload: 70 % reads, 20 % small uploads, 10 % artifact
    versions (the task weights)."""

    wait_time = constant(0)
    # Generous: a request that takes this long is a failure worth seeing, not a hang.
    network_timeout = 60.0
    connection_timeout = 30.0
    host = "http://127.0.0.1"  # replaced by Plan.depot_url before the users start
    number = 0
    last_target: str | None = None

    def on_start(self) -> None:
        LoadUser.number += 1
        self.random = random.Random(Plan.seed * 1000 + LoadUser.number)
        self.clients = {
            "depot": self.client,
            "bare": FastHttpSession(
                base_url=Plan.bare_url,
                request_event=self.environment.events.request,
                user=self,
                network_timeout=self.network_timeout,
                connection_timeout=self.connection_timeout,
                max_retries=0,
                concurrency=self.concurrency,
            ),
        }

    def call(
        self,
        method: str,
        path: str,
        name: str,
        expected: int,
        *,
        headers: dict[str, str] | None = None,
        check: Callable[[Any], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        """One request to the current target. A status other than `expected` (Depot) or 200
        (bare) is a failure, and so is what `check` says about a Depot answer."""
        target = Clock.target
        if target is None:
            gevent.sleep(0.05)
            return
        want = expected if target == "depot" else 200
        if self.last_target not in (None, target):
            # Close the connections to the server we leave: idle through a whole block, they
            # would meet uvicorn's 5 s keep-alive timeout just as the user comes back, and a
            # request sent as the server closes is lost (seen here: status 0 on an upload).
            self.clients[self.last_target].client.close()
        self.last_target = target
        Clock.in_flight += 1
        try:
            with self.clients[target].request(
                method,
                path,
                name=name,
                catch_response=True,
                headers={"X-API-Key": Plan.api_key, **(headers or {})},
                context={"target": target, "block": Clock.block},
                **kwargs,
            ) as response:
                problem = None
                if response.status_code != want:
                    problem = f"HTTP {response.status_code}: {(response.text or '')[:300]}"
                elif check is not None and target == "depot":
                    problem = check(response)
                if problem:
                    response.failure(problem)
                else:
                    response.success()
        finally:
            Clock.in_flight -= 1

    def random_bytes(self) -> bytes:
        return os.urandom(self.random.randint(Plan.upload_min, Plan.upload_max))

    # --- reads: 70 ---

    @task(9)
    def upload_list(self) -> None:
        sid = self.random.choice(Plan.hot_sessions)
        self.call("GET", f"/api/uploads/{sid}", "GET /api/uploads/{sid}", 200)

    @task(5)
    def session_list(self) -> None:
        self.call("GET", "/api/sessions?limit=20", "GET /api/sessions", 200)

    @task(8)
    def flat_list(self) -> None:
        self.call("GET", "/api/artifacts?limit=20", "GET /api/artifacts", 200)

    @task(6)
    def flat_get(self) -> None:
        artifact = self.random.choice(Plan.artifacts)
        self.call("GET", f"/api/artifacts/{artifact}", "GET /api/artifacts/{id}", 200)

    @task(12)
    def namespaced_list(self) -> None:
        self.call(
            "GET", f"{Plan.namespace_path}/artifacts?limit=20", "GET /api/v1/…/artifacts", 200
        )

    @task(12)
    def namespaced_get(self) -> None:
        artifact = self.random.choice(Plan.artifacts)
        self.call(
            "GET",
            f"{Plan.namespace_path}/artifacts/{artifact}",
            "GET /api/v1/…/artifacts/{id}",
            200,
        )

    @task(9)
    def meta(self) -> None:
        item = self.random.choice(Plan.downloads)
        self.call(
            "GET",
            f"/api/sessions/{item['session_id']}/artifacts/{item['attachment_id']}?mode=meta",
            "GET /api/sessions/{sid}/artifacts/{id}?mode=meta",
            200,
        )

    @task(9)
    def download(self) -> None:
        item = self.random.choice(Plan.downloads)

        def whole(response: Any) -> str | None:
            # A short body after a 200 is what issue 14 item 7 was about.
            got = len(response.content or b"")
            return None if got == item["size"] else f"{got} of {item['size']} bytes"

        self.call(
            "GET",
            f"/api/sessions/{item['session_id']}/artifacts/{item['attachment_id']}?mode=stream",
            "GET /api/sessions/{sid}/artifacts/{id}?mode=stream",
            200,
            check=whole,
        )

    # --- small uploads: 20 ---

    @task(20)
    def upload(self) -> None:
        sid = self.random.choice(Plan.hot_sessions)
        body, content_type = multipart_body(self.random_bytes(), f"load-{uuid.uuid4().hex}.bin")
        self.call(
            "POST",
            f"/api/uploads/{sid}",
            "POST /api/uploads/{sid}",
            201,
            data=body,
            headers={"Content-Type": content_type},
        )

    # --- artifact versions: 10 ---

    @task(5)
    def version_put(self) -> None:
        artifact = self.random.choice(Plan.artifacts)
        # New text every time: identical content makes no new version (product.md §6).
        content = f"# version {uuid.uuid4().hex}\n\n" + "load text " * self.random.randint(50, 400)
        self.call(
            "PUT",
            f"{Plan.namespace_path}/artifacts/{artifact}",
            "PUT /api/v1/…/artifacts/{id}",
            200,
            json={"content": content},
        )

    @task(5)
    def version_upload(self) -> None:
        artifact = self.random.choice(Plan.artifacts)
        body, content_type = multipart_body(self.random_bytes(), f"v-{uuid.uuid4().hex}.bin")
        self.call(
            "POST",
            f"/api/artifacts/{artifact}/upload",
            "POST /api/artifacts/{id}/upload",
            200,
            data=body,
            headers={"Content-Type": content_type},
        )


class Recorder:
    """Every request as locust reports it, kept per (target, route) for the counted blocks."""

    MAX_FAILURE_DETAILS = 50

    def __init__(self) -> None:
        self.latencies_ms: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.counts: dict[tuple[str, int], int] = defaultdict(int)
        self.failures = 0
        self.failure_details: list[dict[str, Any]] = []
        self.user_errors = 0

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        context: dict[str, Any],
        exception: BaseException | None,
        **_: Any,
    ) -> None:
        target, block = context.get("target", "?"), context.get("block", -1)
        if exception is not None:
            self.failure(target=target, route=name, error=str(exception)[:400], block=block)
            return
        self.counts[(target, block)] += 1
        if block >= 0:
            self.latencies_ms[(target, name)].append(response_time)

    def on_user_error(self, user_instance: Any, exception: BaseException, tb: Any) -> None:
        self.user_errors += 1
        self.failure(target="?", route="(task)", error=repr(exception)[:400], block=Clock.block)

    def failure(self, **detail: Any) -> None:
        self.failures += 1
        if len(self.failure_details) < self.MAX_FAILURE_DETAILS:
            self.failure_details.append({"t": time.monotonic(), **detail})


def run(plan: dict[str, Any]) -> dict[str, Any]:
    for key in ("depot_url", "bare_url", "api_key", "namespace_path", "hot_sessions"):
        setattr(Plan, key, plan[key])
    Plan.downloads, Plan.artifacts = plan["downloads"], plan["artifacts"]
    Plan.upload_min, Plan.upload_max = plan["upload_min"], plan["upload_max"]
    Plan.seed = plan["seed"]
    LoadUser.host = Plan.depot_url
    recorder = Recorder()
    events.request.add_listener(recorder.on_request)
    events.user_error.add_listener(recorder.on_user_error)
    environment = Environment(user_classes=[LoadUser], events=events, catch_exceptions=True)
    runner = environment.create_local_runner()
    server_pids = {"depot": plan["depot_pid"], "bare": plan["bare_pid"]}

    def progress(message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] load: {message}", file=sys.stderr, flush=True)

    blocks: list[dict[str, Any]] = []
    Clock.target, Clock.block = "depot", -1
    runner.start(plan["users"], spawn_rate=100)
    progress(f"{plan['users']} users, warm-up {plan['warmup']} s on Depot")
    gevent.sleep(plan["warmup"])
    for number, (target, seconds) in enumerate(plan["schedule"]):
        cpu_before = {name: proc_cpu_seconds(pid) for name, pid in server_pids.items()}
        client_before = time.process_time()
        start = time.monotonic()
        Clock.target, Clock.block = target, number
        gevent.sleep(seconds)
        end = time.monotonic()
        cpu_after = {name: proc_cpu_seconds(pid) for name, pid in server_pids.items()}
        blocks.append(
            {
                "block": number,
                "target": target,
                "start": start,
                "end": end,
                "requests": recorder.counts[(target, number)],
                "server_cpu_s": {
                    name: None
                    if cpu_before[name] is None or cpu_after[name] is None
                    else round(cpu_after[name] - cpu_before[name], 3)
                    for name in server_pids
                },
                "client_cpu_s": round(time.process_time() - client_before, 3),
            }
        )
        progress(
            f"block {number + 1}/{len(plan['schedule'])} {target:5} {seconds:g} s: "
            f"{recorder.counts[(target, number)] / (end - start):.0f} req/s, "
            f"{recorder.failures} failures so far"
        )
    Clock.target = None
    # The users finish the request they are in and then idle; none is cut off mid-request.
    deadline = time.monotonic() + 60
    while Clock.in_flight and time.monotonic() < deadline:
        gevent.sleep(0.05)
    cut_off = Clock.in_flight
    runner.quit()
    return {
        "users": plan["users"],
        "warmup_s": plan["warmup"],
        "warmup_requests": recorder.counts[("depot", -1)],
        "blocks": blocks,
        "latencies_ms": {
            f"{target} {route}": values for (target, route), values in recorder.latencies_ms.items()
        },
        "failures": recorder.failures + cut_off,
        "cut_off_at_end": cut_off,
        "user_errors": recorder.user_errors,
        "failure_details": recorder.failure_details,
    }


def main(plan_path: str, out_path: str) -> None:
    result = run(json.loads(Path(plan_path).read_text()))
    Path(out_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:])
