"""Watching Depot (issue 13): /metrics scraped after a scripted workload moves by the right
amounts; a log line parses as JSON with its fields; /readyz fails while the task worker is
stopped and recovers with it. Each against a real uvicorn started as `make run` starts it."""

import asyncio
import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from config.observability import Observed, principal_of, route_of
from tests.test_config import ROOT, clean_env

NS = "/api/v1/orgs/demo/workspaces/main/namespaces/default"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """uvicorn on the embedded profile with its own data folder and log file."""

    def __init__(self, tmp_path: Path, **extra: str) -> None:
        self.env = clean_env(
            tmp_path,
            DEPOT_SEMANTIC_SEARCH="off",
            DEPOT_WORKER_HEARTBEAT_SECONDS="1",
            **extra,
        )
        for command in (["migrate", "--noinput"], ["bootstrap"]):
            self.manage(*command)
        data = Path(self.env["DEPOT_DATA_DIR"])
        self.key = json.loads((data / "bootstrap.json").read_text())["api_key"]
        self.headers = {"X-API-Key": self.key}
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "server.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
                    *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
                    *("--port", str(self.port), "--no-access-log"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            assert self.process.poll() is None and time.monotonic() < deadline, self.log()
            time.sleep(0.1)

    def manage(self, *command: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def metrics(self, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        answer = httpx.get(f"{self.base}/metrics", headers=headers)
        assert answer.status_code == 200, answer.text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text)
            for sample in family.samples
        }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path, DEPOT_EMBEDDED_WORKER="0")
    yield running
    running.stop()


def test_metrics_move_by_the_workload(server: Server) -> None:
    before = server.metrics()
    sizes = [10, 2_000, 70_000]
    for index, size in enumerate(sizes):
        answer = httpx.post(
            f"{server.base}/api/uploads/metered",
            files={"file": (f"f{index}.bin", b"x" * size, "application/octet-stream")},
            headers=server.headers,
        )
        assert answer.status_code in {200, 201}, answer.text
    for _ in range(2):
        assert httpx.get(f"{server.base}/api/sessions", headers=server.headers).status_code == 200
    made = httpx.post(
        f"{server.base}{NS}/artifacts",
        json={"name": "a", "content": "text"},
        headers=server.headers,
    )
    assert made.status_code == 201

    async def hold_a_socket_and_a_poll() -> dict[Any, float]:
        url = f"ws://127.0.0.1:{server.port}/ws/sessions/metered"
        async with (
            websockets.connect(url, additional_headers=server.headers),
            httpx.AsyncClient() as client,
        ):
            poll = asyncio.create_task(
                client.get(
                    f"{server.base}/api/sessions/quiet/artifact-events?after=0&wait_seconds=10",
                    headers=server.headers,
                    timeout=30,
                )
            )
            await asyncio.sleep(1.0)
            during = await asyncio.to_thread(server.metrics)
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await poll
            return during

    during = asyncio.run(hold_a_socket_and_a_poll())
    assert value(during, "depot_websockets_open") == 1
    assert value(during, "depot_long_polls_waiting") == 1
    time.sleep(0.5)
    after = server.metrics()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("depot_upload_files_total", kind="attachment") == 3
    assert moved("depot_upload_bytes_total", kind="attachment") == sum(sizes)
    assert moved("depot_upload_files_total", kind="artifact_text") == 1
    assert moved("depot_http_requests_total", method="GET", route="api/sessions", status="200") == 2
    upload_route = {
        labels
        for (name, labels), _ in after.items()
        if name == "depot_http_requests_total"
        and ("method", "POST") in labels
        and any(key == "route" and "uploads" in val for key, val in labels)
    }
    assert upload_route, "the upload route is counted"
    assert (
        moved("depot_http_request_duration_seconds_count", method="GET", route="api/sessions") == 2
    )
    assert moved("depot_websocket_connections_total") == 1
    assert value(after, "depot_websockets_open") == 0
    assert value(after, "depot_long_polls_waiting") == 0
    # No worker runs here: the uploads' and the artifact's tasks wait, and say how long.
    assert value(after, "depot_tasks", status="ready") >= 4
    assert value(after, "depot_task_oldest_ready_age_seconds") > 0
    assert value(after, "depot_task_workers_alive") == 0


def test_a_log_line_is_json_with_its_fields(server: Server) -> None:
    prefix = server.key.split("_")[1]
    answer = httpx.get(
        f"{server.base}/api/sessions", headers={**server.headers, "X-Request-ID": "trace-42"}
    )
    assert answer.headers["X-Request-ID"] == "trace-42"
    assert httpx.get(f"{server.base}/healthz").headers["X-Request-ID"]  # minted when not sent
    time.sleep(0.3)
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert len(lines) == len(server.log().splitlines())  # every line is JSON
    traced = [line for line in lines if line.get("request_id") == "trace-42"]
    (access,) = [line for line in traced if line["event"] == "request"]
    # One line per request: uvicorn's own access line stays off (it was a second line for
    # every request, 12% of a /healthz's time, despite --no-access-log).
    assert traced == [access], traced
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["event"] == "request" and access["logger"] == "depot.access"
    assert access["level"] == "info"
    assert access["timestamp"].endswith("Z") and "T" in access["timestamp"]
    assert access["principal"] == f"key:{prefix}"
    assert access["route"] == "api/sessions"
    assert (access["method"], access["path"], access["status"]) == ("GET", "/api/sessions", 200)
    assert access["duration_ms"] >= 0


def _readyz(server: Server) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{server.base}/readyz")
    return answer.status_code, answer.json()


def _until(server: Server, status: int, seconds: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        code, body = _readyz(server)
        if code == status:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.3)


def test_readyz_follows_the_task_worker(server: Server) -> None:
    code, body = _readyz(server)
    assert code == 503
    assert body["checks"]["task_worker"].startswith("unavailable: no task worker has reported")
    assert body["checks"]["database"] == "ok"

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "depot_worker"],
        cwd=ROOT,
        env=server.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = _until(server, 200, seconds=60)
        assert body["checks"]["task_worker"] == "ok"
        assert value(server.metrics(), "depot_task_workers_alive") == 1
        # Killed outright: its heartbeat goes stale (3 intervals) and /readyz says since when.
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        body = _until(server, 503)
        assert "last task worker heartbeat" in body["checks"]["task_worker"]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_readyz_sees_the_embedded_worker_and_its_stop(tmp_path: Path) -> None:
    running = Server(tmp_path, DEPOT_EMBEDDED_WORKER="1")
    try:
        _until(running, 200, seconds=60)
        # A clean stop deletes the worker's row at once.
        children = subprocess.run(
            ["pgrep", "-P", str(running.process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert children, "the embedded worker runs as the server's child"
        for child in children:
            subprocess.run(["kill", "-TERM", child], check=False)
        body = _until(running, 503)
        assert body["checks"]["task_worker"].startswith("unavailable")
    finally:
        running.stop()


def test_readyz_can_report_without_requiring_the_worker(tmp_path: Path) -> None:
    running = Server(tmp_path, DEPOT_EMBEDDED_WORKER="0", DEPOT_READYZ_REQUIRE_WORKER="0")
    try:
        code, body = _readyz(running)
        assert code == 200
        assert body["checks"]["task_worker"].startswith("unavailable")
    finally:
        running.stop()


# --- the /metrics guard -------------------------------------------------------------------


def test_metrics_token(tmp_path: Path) -> None:
    running = Server(tmp_path, DEPOT_EMBEDDED_WORKER="0", DEPOT_METRICS_TOKEN="s3cret-token")
    try:
        assert httpx.get(f"{running.base}/metrics").status_code == 401
        wrong = httpx.get(f"{running.base}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert running.metrics(Authorization="Bearer s3cret-token")
    finally:
        running.stop()


def _call(app: Observed, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_metrics_refuse_remote_clients_without_a_token(settings: Any) -> None:
    settings.DEPOT_METRICS_TOKEN = ""
    reached = threading.Event()

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        reached.set()

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/metrics",
        "headers": [],
        "client": ("10.0.0.7", 5000),
    }
    sent = _call(Observed(inner), scope)
    assert sent[0]["status"] == 403
    assert b"DEPOT_METRICS_TOKEN" in sent[1]["body"]
    settings.DEPOT_METRICS = False
    _call(Observed(inner), scope)
    assert reached.is_set()  # turned off: /metrics is an ordinary (unknown) path


def test_routes_and_principals_are_bounded() -> None:
    assert route_of("/api/sessions/run-1") == route_of("/api/sessions/run-2")
    assert route_of("/no/such/thing") == "unmatched"
    assert route_of("/api/sessions/run-1/artifact-events").startswith("longpoll:")
    assert principal_of({"headers": [(b"x-api-key", b"dpt_abc123_secret")]}) == "key:abc123"
    assert principal_of({"headers": [(b"authorization", b"Bearer dpt_def_x")]}) == "key:def"
    assert principal_of({"headers": []}) == "anonymous"
