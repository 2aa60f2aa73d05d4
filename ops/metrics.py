"""Depot's Prometheus metrics (prometheus-client), served at /metrics by config/observability.py.

Counted in this process as things happen: HTTP requests per route (rate, latency), open
WebSockets, waiting long-polls (config/observability.py), committed uploads (here, from the
rows' post_save). Read from the database at each scrape, so every process reports the same
numbers: the task queue (depth, running, failed, the oldest waiting task's age), indexing
failures, and the task workers' heartbeats."""

from collections.abc import Iterator
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.models import Count, Min
from django.db.models.signals import post_save
from django.utils import timezone
from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

disable_created_metrics()  # no `_created` twin of every series

HTTP_REQUESTS = Counter(
    "depot_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "depot_http_request_duration_seconds",
    "Time from a request's start to the end of its answer",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
WEBSOCKETS_OPEN = Gauge("depot_websockets_open", "WebSocket connections open in this process")
WEBSOCKETS = Counter("depot_websocket_connections", "WebSocket connections opened")
LONG_POLLS_WAITING = Gauge(
    "depot_long_polls_waiting", "Event long-polls in progress (waiting) in this process"
)
UPLOAD_FILES = Counter("depot_upload_files", "Files stored (committed)", ["kind"])
UPLOAD_BYTES = Counter("depot_upload_bytes", "Bytes of the files stored (committed)", ["kind"])


def _count_upload(kind: str, size: int) -> None:
    UPLOAD_FILES.labels(kind).inc()
    UPLOAD_BYTES.labels(kind).inc(size)


def _on_attachment_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        size = instance.size
        transaction.on_commit(lambda: _count_upload("attachment", size))


def _on_artifact_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        size = instance.size_bytes
        kind = "artifact_file" if instance.blob_id else "artifact_text"
        transaction.on_commit(lambda: _count_upload(kind, size))


def connect_receivers() -> None:
    from artifacts.models import Artifact
    from attachments.models import Attachment

    post_save.connect(_on_attachment_saved, sender=Attachment, dispatch_uid="ops.uploads")
    post_save.connect(_on_artifact_saved, sender=Artifact, dispatch_uid="ops.artifacts")


class DatabaseCollector(Collector):
    """Queue, indexing and worker figures, read at scrape time."""

    def describe(self) -> list[Any]:
        return []  # registering must not query the database (it runs at start-up)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django_tasks_db.models import DBTaskResult

        from artifacts.models import Artifact
        from attachments.models import Attachment, IndexStatus
        from ops.heartbeat import worker_status

        now = timezone.now()
        by_status = {status: 0 for status in ("READY", "RUNNING", "FAILED", "SUCCESSFUL")}
        for row in DBTaskResult.objects.values("status").annotate(n=Count("id")).order_by():
            by_status[row["status"]] = row["n"]
        tasks = GaugeMetricFamily("depot_tasks", "Background tasks by status", labels=["status"])
        for status, count in sorted(by_status.items()):
            tasks.add_metric([status.lower()], count)
        yield tasks
        # Due now and waiting; aged from when it was enqueued.
        oldest = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
        yield GaugeMetricFamily(
            "depot_task_oldest_ready_age_seconds",
            "Age of the oldest task due and waiting for a worker (0: none waiting)",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
        failed = GaugeMetricFamily(
            "depot_index_failed", "Versions and files whose indexing failed", labels=["kind"]
        )
        failed.add_metric(
            ["artifact"], Artifact.objects.filter(index_status=IndexStatus.FAILED).count()
        )
        failed.add_metric(
            ["attachment"], Attachment.objects.filter(index_status=IndexStatus.FAILED).count()
        )
        yield failed
        workers = worker_status()
        yield GaugeMetricFamily(
            "depot_task_workers_alive", "Task workers with a fresh heartbeat", value=workers.alive
        )
        if workers.newest_age is not None:
            yield GaugeMetricFamily(
                "depot_task_worker_heartbeat_age_seconds",
                "Seconds since the freshest task worker heartbeat",
                value=workers.newest_age,
            )


DATABASE_COLLECTOR = DatabaseCollector()
REGISTRY.register(DATABASE_COLLECTOR)


def render() -> bytes:
    """The exposition text; runs the database collector (call it off the event loop)."""
    close_old_connections()
    try:
        return generate_latest(REGISTRY)
    finally:
        connection.close()
