"""Service routes (health, readiness) and the JSON answers for Django-level errors."""

import asyncio
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse

from sessions_app.errors import error_body


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches nothing else, so a load balancer can call it often."""
    return JsonResponse({"status": "ok"})


# What `/api/` answers: where each surface starts (README, "API surfaces"), so the URL `make
# run` prints answers. Public, like the schema: it names routes, never data.
API_ROOTS = {
    "sessions": "/api/sessions",
    "seed_000_uploads": "/api/uploads/{session_id}",
    "seed_000_events": "/api/sessions/{session_id}/artifact-events",
    "seed_001_artifacts": "/api/artifacts",
    "seed_002_namespace": "/api/v1/orgs/{org}/workspaces/{workspace}/namespaces/{namespace}",
    "seed_003_uploads": "/api/v2/apps/{app_id}/environments/{env_name}/attachments/upload",
    "usage": "/api/usage",
    "tus_uploads": "/api/tus/",
    "websocket_events": "/ws/sessions/{session_id}",
    "mcp": "/mcp",
    "docs": "/api/docs/",
    "redoc": "/api/redoc/",
    "schema": "/api/schema/",
    "health": "/healthz",
    "readiness": "/readyz",
}


def api_root(request: HttpRequest) -> JsonResponse:
    """The surfaces' roots, for a person or a client finding their way in."""
    return JsonResponse({"name": "Depot", "surfaces": API_ROOTS})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    connection.close()


def _check_storage() -> None:
    # `exists` on a key that is never written asks the backend a real question (HeadObject on
    # S3, a stat on disk) without writing anything.
    default_storage.exists("readyz/probe")
    if settings.STORAGE_BACKEND == "local" and not default_storage.location:
        raise RuntimeError("no storage location")


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    group = f"depot.readyz.{uuid.uuid4().hex}"
    await layer.group_send(group, {"type": "readyz.probe"})


def _check_task_worker() -> str:
    from ops.heartbeat import worker_status

    try:
        return worker_status().describe()
    finally:
        connection.close()


def _on_redis() -> bool:
    return type(get_channel_layer()).__module__.startswith("channels_redis")


async def readyz(request: HttpRequest) -> JsonResponse:
    """Database, storage and channel layer reachable → 200; otherwise 503 naming what failed."""
    timeout = settings.DEPOT_READYZ_TIMEOUT_SECONDS
    checks: dict[str, Any] = {
        "database": sync_to_async(_check_database, thread_sensitive=False)(),
        "storage": sync_to_async(_check_storage, thread_sensitive=False)(),
        "channel_layer": _check_channel_layer(),
    }
    results: dict[str, str] = {}
    # The service behind a check that is not inside this process, so whoever reads a 503 knows
    # where to look; its name only, never its address, since this answer is public.
    behind = {"channel_layer": " (Redis)"} if _on_redis() else {}
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(check, timeout) for check in checks.values()), return_exceptions=True
    )
    for name, outcome in zip(checks, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            reason = "timed out" if isinstance(outcome, TimeoutError) else type(outcome).__name__
            results[name] = f"unavailable: {reason}{behind.get(name, '')}"
        else:
            results[name] = "ok"
    # The task worker (text extraction, indexing) reports through its heartbeat: without one,
    # uploads are kept but search never finds them (DEPOT_READYZ_REQUIRE_WORKER=0: report only).
    try:
        results["task_worker"] = await asyncio.wait_for(
            sync_to_async(_check_task_worker, thread_sensitive=False)(), timeout
        )
    except Exception as error:  # the database check names the cause
        results["task_worker"] = f"unavailable: {type(error).__name__}"
    failed = [
        name
        for name, result in results.items()
        if result != "ok" and (name != "task_worker" or settings.DEPOT_READYZ_REQUIRE_WORKER)
    ]
    body: dict[str, Any] = {"status": "ok" if not failed else "unavailable", "checks": results}
    if failed:
        body["detail"] = (
            f"Unavailable: {', '.join(name + behind.get(name, '') for name in failed)}."
        )
    return JsonResponse(body, status=503 if failed else 200)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("Bad request."), status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("Forbidden."), status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(error_body("Not found."), status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal server error."), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return JsonResponse(error_body(f"CSRF check failed: {reason}"), status=403)
