"""Processes: Depot's environment and bootstrap, uvicorn started and stopped, free ports,
waiting for HTTP, and a server's memory read from /proc."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO, VENV_BIN, log

DEPOT_APP = "config.asgi:application"


def exit_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so that every `finally` stops its servers and databases."""

    def on_sigterm(*_: Any) -> None:
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, *, seconds: float, process: subprocess.Popen | None = None) -> None:
    import requests

    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} while starting")
        try:
            with requests.get(url, timeout=2, stream=True) as response:  # body left unread
                if response.status_code < 500:
                    return
        except requests.RequestException as error:
            last = error
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s: {last}")


def stop_process(
    process: subprocess.Popen | None, name: str, sig: int = signal.SIGTERM, *, wait: float = 15
) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(sig)
        process.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        log(f"{name} did not stop; killing pid {process.pid}")
        process.kill()
        process.wait(timeout=10)


def depot_env(data_dir: Path, tree: Path | None = None, /, **settings: str) -> dict[str, str]:
    """The environment of a Depot process on `data_dir`: the embedded default (SQLite, local
    disk, no Redis, no rate limit) whatever the caller's environment or a .env says, then
    `settings` (a DATABASE_URL, DEPOT_EMBEDDED_WORKER, ...). With `tree` (another checkout,
    run with cwd=tree) that tree comes first on PYTHONPATH, so its code is imported rather
    than this checkout's (installed editable in .venv)."""
    return {
        **os.environ,
        "DEPOT_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'depot.sqlite3'}",
        "REDIS_URL": "",
        "STORAGE_BACKEND": "local",
        "DEPOT_BLOB_ROOT": str(data_dir / "blobs"),
        "DEPOT_RATE_LIMIT": "",
        "DEPOT_AUTO_CLEAN_ATTACHMENTS": "0",
        "DEPOT_LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
        **({"PYTHONPATH": str(tree)} if tree is not None else {}),
        **settings,
    }


def manage(env: dict[str, str], *command: str, timeout: float = 600, cwd: Path = REPO) -> None:
    """`manage.py COMMAND` of the checkout `cwd` (this one by default)."""
    done = subprocess.run(
        [PYTHON, "manage.py", *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(command)} failed:\n{done.stderr[-3000:]}")


def bootstrap(env: dict[str, str], *, cwd: Path = REPO) -> dict[str, str]:
    """`migrate` and `bootstrap` on env's database, by the code of the checkout `cwd`; what
    bootstrap.json says (api_key, organization, workspace)."""
    manage(env, "migrate", "--noinput", cwd=cwd)
    manage(env, "bootstrap", cwd=cwd)
    return json.loads((Path(env["DEPOT_DATA_DIR"]) / "bootstrap.json").read_text())


def uvicorn_command(port: int, *, app: str = DEPOT_APP, lifespan: str = "off") -> list[str]:
    """The command line Depot is served with (as `make run` and the Dockerfile serve it)."""
    return [
        str(VENV_BIN / "uvicorn"),
        app,
        *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--lifespan", lifespan, "--no-access-log"),
    ]


def start_uvicorn(
    env: dict[str, str],
    port: int,
    output: Any,
    *,
    lifespan: str = "off",
    app: str = DEPOT_APP,
    cwd: Path = REPO,
) -> subprocess.Popen:
    """`app` (Depot by default) under uvicorn on 127.0.0.1:`port` (its own session, output to
    the open binary file `output`, started in the checkout `cwd`, this one by default), once
    `GET /healthz` answers."""
    process = subprocess.Popen(
        uvicorn_command(port, app=app, lifespan=lifespan),
        cwd=cwd,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", seconds=60, process=process)
    except BaseException:
        stop_process(process, "uvicorn (did not start)")
        raise
    return process


class UvicornServer:
    """One Depot (or another `app`) under uvicorn on a free loopback port, its output in
    `log_path`. `lifespan` "on" starts the embedded default's task worker process unless
    DEPOT_EMBEDDED_WORKER=0 (config/lifespan.py). `tree` is the checkout it is started in
    (this one by default; give another's env `depot_env(..., tree=...)` too)."""

    def __init__(
        self,
        name: str,
        env: dict[str, str],
        log_path: Path,
        *,
        lifespan: str = "off",
        app: str = DEPOT_APP,
        tree: Path = REPO,
    ) -> None:
        self.name, self.env, self.log_path, self.lifespan = name, env, log_path, lifespan
        self.app, self.tree = app, tree
        self.api_key = ""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._log: Any = None

    def start(self) -> UvicornServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = start_uvicorn(
            self.env, self.port, self._log, lifespan=self.lifespan, app=self.app, cwd=self.tree
        )
        log(f"uvicorn {self.name} pid {self.process.pid} on {self.base_url}")
        return self

    @property
    def command(self) -> list[str]:
        return uvicorn_command(self.port, app=self.app, lifespan=self.lifespan)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        stop_process(self.process, f"uvicorn {self.name}", wait=20)
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_errors(self, tail: int = 4000) -> tuple[int, str]:
        """Tracebacks and ERROR lines in the server's output, and its last `tail` characters."""
        if not self.log_path.exists():
            return 0, ""
        text = self.log_path.read_text(errors="replace")
        return text.count("Traceback") + text.count(" ERROR"), text[-tail:]


def status_kib(pid: int, field: str) -> int | None:
    """A field of /proc/<pid>/status (VmRSS, VmHWM, Threads)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class RssWatch:
    """Samples VmRSS of `pid` every `interval` s in a thread, and resets/reads VmHWM (the
    kernel's own peak, which catches spikes between samples) through /proc/<pid>/clear_refs."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid, self.interval = pid, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.before_kib = self.peak_kib = self.after_kib = self.samples = 0
        self.hwm_kib: int | None = None
        self.hwm_reset = False

    def __enter__(self) -> RssWatch:
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as refs:
                refs.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.before_kib = self.peak_kib = status_kib(self.pid, "VmRSS") or 0
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = status_kib(self.pid, "VmRSS")
            if rss is None:
                return
            self.samples += 1
            self.peak_kib = max(self.peak_kib, rss)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.hwm_kib = status_kib(self.pid, "VmHWM")
        self.after_kib = status_kib(self.pid, "VmRSS") or 0

    @property
    def growth_hwm_mib(self) -> float | None:
        if not self.hwm_reset or self.hwm_kib is None:
            return None
        return (self.hwm_kib - self.before_kib) / 1024

    @property
    def growth_mib(self) -> float:
        sampled = (self.peak_kib - self.before_kib) / 1024
        return max(sampled, self.growth_hwm_mib or 0.0)

    def summary(self) -> dict[str, Any]:
        def mib(kib: float | None) -> float | None:
            return None if kib is None else round(kib / 1024, 1)

        hwm = self.growth_hwm_mib
        return {
            "rss_before_mib": mib(self.before_kib),
            "rss_after_mib": mib(self.after_kib),
            "peak_sampled_mib": mib(self.peak_kib),
            "vmhwm_mib": mib(self.hwm_kib),
            "vmhwm_reset": self.hwm_reset,
            "growth_sampled_mib": mib(self.peak_kib - self.before_kib),
            "growth_hwm_mib": None if hwm is None else round(hwm, 1),
            "growth_mib": round(self.growth_mib, 1),
            "samples": self.samples,
        }
