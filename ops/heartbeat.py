"""The task worker's heartbeat: a row per worker, stamped on a timer thread beside
django-tasks' `db_worker` loop, deleted when the worker stops cleanly. A worker killed
outright leaves its row to go stale, which is what /readyz notices."""

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from ops.models import WorkerHeartbeat


def beat(worker_id: str, *, started_at: datetime | None = None) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"beat_at": now, "host": socket.gethostname()[:255], "pid": os.getpid()},
        create_defaults={
            "beat_at": now,
            "started_at": started_at or now,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
        },
    )


class HeartbeatThread(threading.Thread):
    def __init__(self, worker_id: str) -> None:
        super().__init__(name="depot-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = settings.DEPOT_WORKER_HEARTBEAT_SECONDS
        while not self.stopped.is_set():
            try:
                close_old_connections()
                beat(self.worker_id)
            except Exception:  # the database may be away a moment: try again
                connection.close()
            self.stopped.wait(interval)
        connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()


@dataclass(frozen=True)
class WorkerStatus:
    alive: int  # workers whose last beat is fresh
    newest_age: float | None  # seconds since the freshest beat; None: no worker ever beat

    @property
    def ok(self) -> bool:
        return self.alive > 0

    def describe(self) -> str:
        if self.ok:
            return "ok"
        if self.newest_age is None:
            return "unavailable: no task worker has reported (run manage.py depot_worker)"
        return f"unavailable: last task worker heartbeat {self.newest_age:.0f} s ago"


def stale_after() -> float:
    return 3 * settings.DEPOT_WORKER_HEARTBEAT_SECONDS


def worker_status() -> WorkerStatus:
    now = timezone.now()
    fresh = now - timedelta(seconds=stale_after())
    alive = WorkerHeartbeat.objects.filter(beat_at__gte=fresh).count()
    newest = WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    age = (now - newest).total_seconds() if newest is not None else None
    return WorkerStatus(alive=alive, newest_age=age)
