"""A live Depot for the tus clients: uvicorn on a free loopback port, in a thread of this
process (so the test's database and storage settings are the server's)."""

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from tests.test_embedded_worker import _free_port


@pytest.fixture
def live_url(tenant) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port()
    config = uvicorn.Config(
        "config.asgi:application",
        host="127.0.0.1",
        port=port,
        http="config.http_protocol:BoundedHttpToolsProtocol",
        lifespan="off",
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
