"""A real uvicorn, started as `make run` starts it, on the test database (the rows a test
commits), for tests that drive Depot with outside clients over HTTP."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_database_url() -> str:
    database = connection.settings_dict
    if connection.vendor == "postgresql":
        return (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        )
    return f"sqlite:///{database['NAME']}"


@contextlib.contextmanager
def live_uvicorn(
    root: Path, *, name: str, env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """(process, base URL, log path) of a uvicorn with no embedded worker and no semantic
    search, its blobs under `root` (or its own S3 prefix), plus `env`; stopped on exit."""
    environment = {
        **os.environ,
        "DEPOT_DATA_DIR": str(root / "data"),
        "DATABASE_URL": test_database_url(),
        "DEPOT_EMBEDDED_WORKER": "0",
        "DEPOT_SEMANTIC_SEARCH": "off",
        **env,
    }
    if settings.STORAGE_BACKEND == "s3":
        environment["S3_PREFIX"] = f"test-{name}-{uuid.uuid4().hex[:12]}"
    else:
        environment["DEPOT_BLOB_ROOT"] = str(root / "blobs")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
                *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
                *("--host", "127.0.0.1", "--port", str(port), "--lifespan", "off"),
                "--no-access-log",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120  # a shared 2-core machine can be slow to import
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"the server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield process, base, log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def in_process_uvicorn() -> Iterator[str]:
    """Depot under a real uvicorn on a free loopback port, in a thread of this process (so the
    test's database and storage settings are the server's); yields its base URL."""
    import threading

    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        "config.asgi:application",
        host="127.0.0.1",
        port=port,
        http="config.http_protocol:BoundedHttpToolsProtocol",
        lifespan="off",  # no task worker process
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
