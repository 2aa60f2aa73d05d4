from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running task worker (`manage.py depot_worker`), stamped every
    DEPOT_WORKER_HEARTBEAT_SECONDS; /readyz and /metrics read how fresh the newest is."""

    worker_id = models.CharField(max_length=128, unique=True)
    host = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid})"
