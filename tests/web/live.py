"""Depot under a real uvicorn in a thread of this process, so the rows a test writes are the
rows the server reads (on either profile), on one port that survives a restart."""

import threading
import time

import uvicorn

from tests.test_embedded_worker import _free_port


class LiveServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            "config.asgi:application",
            host="127.0.0.1",
            port=self.port,
            http="config.http_protocol:BoundedHttpToolsProtocol",
            lifespan="off",  # no task worker process: nothing here needs one
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise AssertionError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Closes every connection (open WebSockets included), as a server restart does."""
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(10)
            self.server = self.thread = None
