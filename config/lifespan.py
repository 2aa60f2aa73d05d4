"""ASGI lifespan: the embedded default's task worker.

uvicorn sends `lifespan.startup` when it starts serving; with DEPOT_EMBEDDED_WORKER on, the
server then starts django-tasks' database worker (`db_worker`, through
config/embedded_worker.py) as its own child process, so text extraction and indexing happen
without the operator running a second command, and never inside a request.

A child process rather than a thread in the server: extraction, chunking and embeddings are
CPU work in Python, and in a thread they held the GIL against the event loop (uploads were
×1.16 slower while indexing ran; see bench/README.md). The child stops with the server: on
shutdown it gets SIGTERM (db_worker finishes its task and exits), and on Linux it also gets
SIGTERM if the server dies without shutting down."""

import logging
import os
import subprocess
import sys
from typing import Any

from django.conf import settings

from config import loop_reads

logger = logging.getLogger(__name__)

STOP_SECONDS = 10.0


class EmbeddedWorker:
    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "config.embedded_worker", str(os.getpid())],
            cwd=settings.BASE_DIR,
            stdin=subprocess.DEVNULL,
        )
        logger.info("task worker started (pid %s)", self.process.pid)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning("task worker did not stop in %s s; killing it", STOP_SECONDS)
            process.kill()
            process.wait()


class Lifespan:
    def __init__(self) -> None:
        self.worker = EmbeddedWorker()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if settings.DEPOT_EMBEDDED_WORKER:
                    self.worker.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.worker.stop()
                loop_reads.close_all()  # the event loop's own connections (config/loop_reads.py)
                await send({"type": "lifespan.shutdown.complete"})
                return
