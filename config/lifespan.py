"""ASGI lifespan: the embedded default's in-process task worker.

uvicorn sends `lifespan.startup` when it starts serving; with DEPOT_INPROCESS_WORKER on, a
django-tasks database worker then runs in a daemon thread of the server process, so text
extraction and indexing happen without a second process, and never inside a request."""

import logging
import os
import threading
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


class InProcessWorker:
    def __init__(self) -> None:
        self.worker: Any = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        self.worker = Worker(
            queue_names=["*"],
            interval=0.5,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"inprocess-{os.getpid()}",
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self._run, name="depot-task-worker", daemon=True)
        self.thread.start()
        logger.info("in-process task worker started")

    def _run(self) -> None:
        try:
            self.worker.run()
        except Exception:
            logger.exception("the in-process task worker stopped")

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.running = False
        if self.thread is not None:
            self.thread.join(timeout=10)


class Lifespan:
    def __init__(self) -> None:
        self.worker = InProcessWorker()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if settings.DEPOT_INPROCESS_WORKER:
                    self.worker.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.worker.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return
