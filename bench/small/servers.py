"""The ASGI servers bench.small can run each app under: uvicorn as Depot ships it
(`--http config.http_protocol:BoundedHttpToolsProtocol`, httptools and uvloop) and granian
(one worker, uvloop, HTTP/1, its own head limits set to Depot's: `--http1-buffer-size` to
DEPOT_MAX_HEADER_BYTES' default, `--http1-header-read-timeout` to DEPOT_HEADER_TIMEOUT_SECONDS'),
with the same app, environment and lifespan."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.common import VENV_BIN, log
from bench.common.process import DEPOT_APP, UvicornServer, stop_process, wait_http

SERVERS = ("uvicorn", "granian")
HEAD_BYTES = 64 * 1024  # DEPOT_MAX_HEADER_BYTES' default
HEAD_TIMEOUT_MS = 30_000  # DEPOT_HEADER_TIMEOUT_SECONDS' default


def granian_command(port: int, *, app: str = DEPOT_APP, lifespan: str = "off") -> list[str]:
    return [
        str(VENV_BIN / "granian"),
        *("--interface", "asgi" if lifespan == "on" else "asginl"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--workers", "1", "--loop", "uvloop", "--http", "1"),
        *("--http1-buffer-size", str(HEAD_BYTES)),
        *("--http1-header-read-timeout", str(HEAD_TIMEOUT_MS)),
        "--no-access-log",
        app,
    ]


class GranianServer(UvicornServer):
    """UvicornServer's interface (start, stop, pid, log) with granian as the server."""

    server = "granian"

    def start(self) -> GranianServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command,
            cwd=self.tree,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(f"{self.base_url}/healthz", seconds=60, process=self.process)
        except BaseException:
            stop_process(self.process, "granian (did not start)")
            raise
        log(f"granian {self.name} pid {self.process.pid} on {self.base_url}")
        return self

    @property
    def command(self) -> list[str]:
        return granian_command(self.port, app=self.app, lifespan=self.lifespan)

    def stop(self) -> None:
        stop_process(self.process, f"granian {self.name}", wait=20)
        if self._log is not None:
            self._log.close()
            self._log = None


def server_class(server: str) -> type[UvicornServer]:
    return GranianServer if server == "granian" else UvicornServer


def name_for(profile: str, server: str, servers: list[str]) -> str:
    """`embedded`, `production`, `baseline` under uvicorn alone (the names the results have
    always had); `embedded@granian` and so on when granian runs too or instead."""
    return profile if servers == ["uvicorn"] or server == "uvicorn" else f"{profile}@{server}"


def baseline_of(name: str) -> str:
    """The baseline measured on the same server as `name`."""
    return "baseline" + (name[name.index("@") :] if "@" in name else "")


def before_of(name: str) -> str:
    """The --before tree's server of the same profile and ASGI server as `name`."""
    profile, at, server = name.partition("@")
    return f"{profile}-before{at}{server}"


def is_before(name: str) -> bool:
    return name.partition("@")[0].endswith("-before")


def log_path(work: Path, name: str) -> Path:
    return work / f"server-{name.replace('@', '-')}.log"
