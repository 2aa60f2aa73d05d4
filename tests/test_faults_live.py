"""Faults in the parts Depot stands on, with real processes (issue 14, "Faults"): a real uvicorn
serving Depot, a real client, and the dependency itself stopped under it.

- S3 gone in the middle of a streamed upload: a JSON 503, nothing kept, and once S3 is back
  `collect_orphans` leaves no bytes and the next upload works.
- Redis stopped: HTTP keeps working, events still reach a long-poll and a WebSocket by their
  timers, and `/readyz` says Redis is down.
- SIGKILL during 50 concurrent uploads (PostgreSQL and S3): after a restart and
  `collect_orphans`, every committed row has its bytes and nothing else is stored.

The in-process fault tests (a disk that fills, storage failing at promotion, the database
failing after the bytes land) are in tests/test_faults.py.
"""

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import IN_CI, multipart_body
from tests.test_embedded_worker import ROOT, _free_port
from tests.test_settings_profiles import _clean_env

MIB = 1024 * 1024
S3_KEYS = {
    "S3_ACCESS_KEY_ID": "testing",
    "S3_SECRET_ACCESS_KEY": "testing",
    "S3_REGION": "us-east-1",
}


def _binary(name: str, path: str | None = None) -> str:
    """The path of a server binary; a missing one skips the test, but fails it in CI, where
    the binaries are part of the image and a skip would hide a broken one."""
    found = path if path and Path(path).is_file() else shutil.which(name)
    if found is None:
        message = f"{name} is not installed; this fault test needs a real {name}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


class DepotServer:
    """Depot under a real uvicorn, as `make run` starts it, with its output kept in a log file
    so a test can read what the server said about a fault."""

    def __init__(self, data_dir: Path, *, setup: bool = True, **extra_env: str) -> None:
        self.env = _clean_env(
            data_dir, DEPOT_EMBEDDED_WORKER="0", DEPOT_SEMANTIC_SEARCH="off", **extra_env
        )
        if setup:
            for command in (["migrate", "--noinput"], ["bootstrap"]):
                self.manage(*command)
        self.credentials = json.loads((data_dir / "bootstrap.json").read_text())
        self.headers = {"X-API-Key": self.credentials["api_key"]}
        self.log_path = data_dir / "server.log"
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.start()

    def manage(self, *command: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
                    *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
                    *("--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60  # a shared 2-core machine can be slow to import
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"the server did not start:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        _kill(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def upload(self, session_id: str, content: bytes, name: str = "file.bin") -> requests.Response:
        body, content_type = multipart_body("file", name, content)
        return requests.post(
            f"{self.base}/api/uploads/{session_id}",
            data=body,
            headers={**self.headers, "Content-Type": content_type},
            timeout=30,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=self.headers, timeout=30, **kwargs)


# --- Redis stopped ---


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = _binary("redis-server")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, process)
    return process


@pytest.fixture
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    process = _start_redis(port)
    try:
        yield process, port
    finally:
        _kill(process)


def _traceback_headlines(log: str) -> list[str]:
    """The log line above each traceback: the message that carried it (chained tracebacks,
    "During handling of the above exception", count once)."""
    lines = log.splitlines()
    return [
        lines[index - 1].strip() if index else ""
        for index, line in enumerate(lines)
        if line.startswith("Traceback (most recent call last)")
        and not (index >= 2 and lines[index - 2].startswith("During handling"))
    ]


# channels-redis's own background reader logs each failed read of the pub/sub connection with a
# traceback, at most once a second while anything is subscribed: a fact of the outage, not of
# any request, and out of Depot's reach.
LAYER_READER_TRACEBACK = "Unexpected exception in receive task"


class LongPoll(threading.Thread):
    """`GET /api/sessions/<sid>/artifact-events` waiting in a thread."""

    def __init__(self, server: DepotServer, session_id: str, after: int) -> None:
        super().__init__(daemon=True)
        self.server, self.session_id, self.after = server, session_id, after
        self.response: requests.Response | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.response = self.server.get(
                f"/api/sessions/{self.session_id}/artifact-events",
                params={"after": self.after, "wait_seconds": 30},
            )
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def names(self, seconds: float) -> list[str]:
        self.join(timeout=seconds)
        assert not self.is_alive(), "the long-poll did not answer"
        assert self.error is None, repr(self.error)
        assert self.response is not None and self.response.status_code == 200, (
            self.response.text if self.response is not None else None
        )
        return [event["name"] for event in self.response.json()["events"]]


def _pushed_names(websocket: Any, seconds: float) -> tuple[list[str], int]:
    """The names in the next event message on `websocket`, and the last sequence."""
    message = json.loads(websocket.recv(timeout=seconds))
    assert message["type"] == "artifact_created", message
    events = message["data"]["events"]
    return [event["name"] for event in events], events[-1]["sequence"]


def test_with_redis_stopped_http_works_and_events_arrive_by_polling(
    tmp_path: Path, redis_server: tuple[subprocess.Popen[bytes], int]
) -> None:
    from websockets.sync.client import connect

    redis_process, redis_port = redis_server
    server = DepotServer(
        tmp_path,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        # The timers that carry the events once no wake-up comes.
        DEPOT_EVENTS_POLL_SECONDS="1",
        DEPOT_LONGPOLL_RECHECK_SECONDS="1",
        DEPOT_READYZ_TIMEOUT_SECONDS="2",
    )
    ws_url = f"ws://127.0.0.1:{server.port}/ws/sessions/s1"
    try:
        assert server.get("/readyz").status_code == 200
        assert server.upload("s1", b"before the fault", "before.txt").status_code == 201
        with connect(f"{ws_url}?after=0", additional_headers=server.headers) as watcher:
            names, cursor = _pushed_names(watcher, 10)
            assert names == ["before.txt"]
            waiting = LongPoll(server, "s1", cursor)
            time.sleep(1)  # the long-poll is now subscribed to its wake-up group

            redis_process.kill()
            redis_process.wait()
            outage_log_start = len(server.log())

            started = time.monotonic()
            during = server.upload("s1", b"while redis is down", "during.txt")
            assert during.status_code == 201, during.text
            assert time.monotonic() - started < 5
            listed = server.get("/api/uploads/s1")
            assert listed.status_code == 200, listed.text
            assert {a["name"] for a in listed.json()["attachments"]} == {"before.txt", "during.txt"}

            ready = server.get("/readyz")
            assert ready.status_code == 503, ready.text
            checks = ready.json()["checks"]
            assert (checks["database"], checks["storage"]) == ("ok", "ok")
            assert checks["channel_layer"].startswith("unavailable"), checks
            assert "Redis" in checks["channel_layer"], checks
            assert "Redis" in ready.json()["detail"], ready.json()

            # Both readers that were subscribed when Redis went find the event by their timers.
            assert waiting.names(10) == ["during.txt"]
            names, cursor = _pushed_names(watcher, 10)
            assert names == ["during.txt"]

            # Readers that arrive during the outage cannot subscribe, and still get answers.
            steady_log_start = len(server.log())
            at_once = server.get(
                "/api/sessions/s1/artifact-events", params={"after": 0, "wait_seconds": 0}
            )
            assert at_once.status_code == 200, at_once.text
            assert len(at_once.json()["events"]) == 2
            late_poll = LongPoll(server, "s1", cursor)
            with connect(
                f"{ws_url}?after={cursor}", additional_headers=server.headers, open_timeout=10
            ) as late_watcher:
                time.sleep(0.5)
                assert server.upload("s1", b"later", "late.txt").status_code == 201
                assert late_poll.names(10) == ["late.txt"]
                assert _pushed_names(late_watcher, 10)[0] == ["late.txt"]
                assert _pushed_names(watcher, 10)[0] == ["late.txt"]
            time.sleep(0.5)  # the late socket's disconnect is handled
            steady = _traceback_headlines(server.log()[steady_log_start:])
            assert set(steady) <= {LAYER_READER_TRACEBACK}, server.log()[steady_log_start:]
        time.sleep(0.5)
        outage = _traceback_headlines(server.log()[outage_log_start:])
        # Only what was subscribed when Redis went may say so with a traceback once, on leaving.
        assert all(
            line in {LAYER_READER_TRACEBACK, "Unexpected exception while cleaning-up channel:"}
            for line in outage
        ), server.log()[outage_log_start:]
        assert outage.count("Unexpected exception while cleaning-up channel:") <= 2, outage
    finally:
        server.stop()
