"""Several Depot processes behind a load balancer share PostgreSQL and Redis; nothing about
events lives in one process's memory. Two real uvicorn processes prove it."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from websockets.sync.client import connect

from tests.support import Tenant

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_env(storage_location: str) -> dict[str, str]:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        # Long enough that only a wake-up explains a fast answer.
        "DEPOT_EVENTS_POLL_SECONDS": "30",
        "DEPOT_LONGPOLL_RECHECK_SECONDS": "30",
    }
    if settings.STORAGE_BACKEND == "s3":
        env["S3_PREFIX"] = storage_location
    else:
        env["DEPOT_BLOB_ROOT"] = storage_location
    return env


@pytest.fixture
def two_servers(isolated_storage: str) -> Iterator[tuple[str, str]]:
    env = _server_env(isolated_storage)
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "config.asgi:application",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--lifespan",
                        "off",
                        "--no-access-log",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            urls.append(f"127.0.0.1:{port}")
        for url in urls:
            for _ in range(100):
                try:
                    if requests.get(f"http://{url}/healthz", timeout=1).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)
            else:
                raise RuntimeError(f"server {url} did not start")
        yield urls[0], urls[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _upload(base: str, key: str, session: str, name: str) -> dict:
    response = requests.post(
        f"http://{base}/api/uploads/{session}",
        headers={"X-API-Key": key},
        files={"file": (name, f"content of {name}".encode())},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_socket_on_one_process_gets_writes_made_through_another(
    tenant: Tenant, two_servers: tuple[str, str]
) -> None:
    server_a, server_b = two_servers
    with connect(
        f"ws://{server_a}/ws/sessions/multi", additional_headers={"X-API-Key": tenant.owner_key}
    ) as socket_a:
        time.sleep(0.3)
        made = _upload(server_b, tenant.owner_key, "multi", "via-b.txt")
        started = time.monotonic()
        message = json.loads(socket_a.recv(timeout=10))
        assert time.monotonic() - started < 5
    assert message["type"] == "artifact_created"
    assert message["data"]["events"][0]["attachment_id"] == made["attachment_id"]


def test_a_long_poll_on_one_process_wakes_on_a_write_through_another(
    tenant: Tenant, two_servers: tuple[str, str]
) -> None:
    server_a, server_b = two_servers
    result: dict = {}

    def poll() -> None:
        response = requests.get(
            f"http://{server_b}/api/sessions/multi-lp/artifact-events",
            params={"wait_seconds": 25},
            headers={"X-API-Key": tenant.owner_key},
            timeout=40,
        )
        result["body"] = response.json()
        result["at"] = time.monotonic()

    waiting = threading.Thread(target=poll)
    waiting.start()
    time.sleep(0.5)
    written = time.monotonic()
    made = _upload(server_a, tenant.owner_key, "multi-lp", "via-a.txt")
    waiting.join(timeout=30)
    assert result["body"]["timed_out"] is False
    assert result["body"]["events"][0]["attachment_id"] == made["attachment_id"]
    assert result["at"] - written < 5  # a wake-up, not the 25 s timeout or the 30 s poll
