"""The two servers of the run, started by one command line so that they differ only in the
application: Depot (`config.asgi:application`) and the bare baseline (`bench.load.bare:app`),
each one uvicorn process with Depot's `--http config.http_protocol:BoundedHttpToolsProtocol` on
a free loopback port. And the server's memory, sampled once a second from /proc."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import REPO, VENV_BIN, log
from bench.common.process import free_port, status_kib, stop_process, wait_http


class Server:
    def __init__(self, name: str, app: str, env: dict[str, str], log_path: Path) -> None:
        self.name, self.app, self.env, self.log_path = name, app, env, log_path
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log: Any = None

    @property
    def command(self) -> list[str]:
        return [
            str(VENV_BIN / "uvicorn"),
            self.app,
            *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
            *("--host", "127.0.0.1", "--port", str(self.port)),
            # As the Dockerfile serves Depot; with DEPOT_EMBEDDED_WORKER=0 the lifespan starts
            # no task worker (production runs `manage.py db_worker` apart).
            *("--lifespan", "on", "--no-access-log"),
        ]

    def start(self, health_path: str = "/healthz") -> Server:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(self.base_url + health_path, seconds=60, process=self.process)
        except BaseException:
            self.stop()
            raise
        log(f"{self.name}: uvicorn pid {self.process.pid} on {self.base_url}")
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process, f"uvicorn {self.name}", wait=20)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_errors(self) -> tuple[int, str]:
        """Tracebacks and ERROR lines in the server's output, and its tail."""
        if not self.log_path.exists():
            return 0, ""
        text = self.log_path.read_text(errors="replace")
        return text.count("Traceback") + text.count(" ERROR"), text[-4000:]


class RssSampler:
    """VmRSS of one process every `interval` s, with time.monotonic() stamps (the clock the
    locust and socket processes stamp their blocks with)."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []  # (monotonic, KiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            rss = status_kib(self.pid, "VmRSS")
            if rss is None:
                return
            self.samples.append((time.monotonic(), rss))
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
