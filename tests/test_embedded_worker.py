"""The embedded default's server starts the task worker as its own child process and takes it
down with it. A real uvicorn on its own SQLite file and folder, as `make run` starts it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.test_settings_profiles import _clean_env

ROOT = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="finds child processes through Linux's /proc"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:  # a thread that ended while we looked
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # A zombie (exited, not yet reaped by a dead parent's init) counts as gone.
        stat = Path(f"/proc/{pid}/stat")
        if not stat.exists() or stat.read_text().split(") ")[1].startswith("Z"):
            return True
        time.sleep(0.1)
    return False


class Server:
    def __init__(
        self,
        tmp_path: Path,
        *,
        worker: str = "1",
        app: str = "config.asgi:application",
        **extra_env: str,
    ) -> None:
        # Lexical only: the semantic extra, when installed, would load its model on the first
        # query, which is not what this is about.
        self.env = _clean_env(
            tmp_path, DEPOT_EMBEDDED_WORKER=worker, DEPOT_SEMANTIC_SEARCH="off", **extra_env
        )
        for command in (["migrate", "--noinput"], ["bootstrap"]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=self.env,
                check=True,
                capture_output=True,
            )
        self.credentials = json.loads((tmp_path / "bootstrap.json").read_text())
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", app),
                *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
                *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120  # a shared 2-core machine can be slow to import
        while True:
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise AssertionError("the server did not start")
            time.sleep(0.1)

    def workers(self) -> list[int]:
        children = _children(self.process.pid)
        return [pid for pid in children if "config.embedded_worker" in _cmdline(pid)]

    def namespace_url(self) -> str:
        c = self.credentials
        workspace = f"orgs/{c['organization']}/workspaces/{c['workspace']}"
        return f"{self.base}/api/v1/{workspace}/namespaces/default"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    try:
        yield running
    finally:
        leftovers = running.workers() if running.process.poll() is None else []
        running.stop()
        for pid in leftovers:
            if not _gone(pid, 5):
                os.kill(pid, signal.SIGKILL)


@linux_only
def test_the_server_starts_a_worker_process_that_indexes_and_stops_with_it(server: Server) -> None:
    (worker,) = server.workers()
    headers = {"X-API-Key": server.credentials["api_key"]}
    created = requests.post(
        f"{server.namespace_url()}/artifacts",
        json={"name": "field notes", "content": "the zanzibar heron nests on the reef"},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = requests.post(
            f"{server.namespace_url()}/artifacts/query",
            json={"query": "zanzibar heron", "limit": 5},
            headers=headers,
            timeout=10,
        ).json()
        if found["results"]:
            break
        time.sleep(0.2)
    assert [r["artifact"]["name"] for r in found["results"]] == ["field notes"]
    assert found["results"][0]["artifact"]["is_indexed"] is True

    server.process.send_signal(signal.SIGTERM)  # uvicorn's shutdown runs the lifespan's
    # uvicorn re-raises the signal once it has shut down, so the status says SIGTERM.
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert _gone(worker, 5), "the worker outlived the server's shutdown"


@linux_only
def test_the_worker_does_not_outlive_a_killed_server(server: Server) -> None:
    (worker,) = server.workers()
    server.process.kill()  # no lifespan shutdown: only the kernel can tell the worker
    server.process.wait()
    assert _gone(worker, 10), "the worker outlived the killed server"


@linux_only
def test_no_worker_process_when_turned_off(tmp_path: Path) -> None:
    server = Server(tmp_path, worker="0")
    try:
        assert server.workers() == []
    finally:
        server.stop()
