"""config/threads.py: a request's sync work runs on one kept thread, in a context of its own."""

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from config.threads import BoundToThread, SyncThreads


async def test_a_request_started_inside_an_earlier_requests_task_gets_a_context_of_its_own() -> (
    None
):
    """uvicorn starts a pipelined request's task from inside the previous request's `send`, so
    the new task inherits the previous request's thread-sensitive context, which exits as the
    previous request ends. Reusing it was a RuntimeError ("ThreadSensitiveContext has exited")
    and a 500."""
    threads = SyncThreads(2)
    later: dict[str, asyncio.Task[None]] = {}
    ran: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        ran.append(await sync_to_async(threading.get_ident, thread_sensitive=True)())
        if scope["n"] == 1:
            # What uvicorn does for the next request on the connection.
            later["next"] = asyncio.get_running_loop().create_task(
                bound({"type": "http", "n": 2}, None, None)
            )

    bound = BoundToThread(app, threads)
    await bound({"type": "http", "n": 1}, None, None)
    await later["next"]  # raised RuntimeError before
    assert len(ran) == 2
    for executor in threads.executors:
        executor.shutdown()


async def test_an_enclosing_context_that_is_not_ours_is_kept() -> None:
    """Inside a test's own thread-sensitive context the app's sync work stays on that context's
    thread (the test's database connection), as before."""
    from asgiref.sync import ThreadSensitiveContext

    threads = SyncThreads(2)
    ran: list[int] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        ran.append(await sync_to_async(threading.get_ident, thread_sensitive=True)())

    async with ThreadSensitiveContext():
        outer = await sync_to_async(threading.get_ident, thread_sensitive=True)()
        await BoundToThread(app, threads)({"type": "http"}, None, None)
        pool = {executor.submit(threading.get_ident).result() for executor in threads.executors}
    assert ran == [outer]
    assert outer not in pool
    for executor in threads.executors:
        executor.shutdown()


@pytest.mark.django_db(transaction=True)
def test_the_gates_key_lookup_and_the_view_share_the_requests_kept_thread(
    tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The binding wraps the whole HTTP application (config/asgi.py), so the gate's key lookup
    runs on the request's kept thread, beside the view, instead of on asgiref's one global
    thread, where every request's lookup queued behind every other's (16 connections on one
    thread and one connection; issue 11)."""
    import requests
    from django.core.signals import request_started

    from config import request_gate
    from tests.support.live_server import in_process_uvicorn

    lookups: list[str] = []
    views: list[str] = []
    original = request_gate.authenticate_raw_key

    def recording(raw_key: str) -> Any:
        lookups.append(threading.current_thread().name)
        return original(raw_key)

    def started(**kwargs: Any) -> None:
        views.append(threading.current_thread().name)

    async def not_on_the_loop(raw_key: str, session_id: str | None = None) -> None:
        return None  # the thread path, which the loop's key read falls back to

    monkeypatch.setattr(request_gate, "authenticate_raw_key", recording)
    monkeypatch.setattr(request_gate.loop_keys, "usable_key", not_on_the_loop)
    request_started.connect(started, weak=False)
    try:
        with in_process_uvicorn() as base:
            for _ in range(3):
                answer = requests.get(
                    f"{base}/api/sessions", headers={"X-API-Key": tenant.owner_key}, timeout=30
                )
                assert answer.status_code == 200, answer.text
    finally:
        request_started.disconnect(started)
    assert len(lookups) == len(views) == 3
    assert lookups == views, (lookups, views)
    assert all(name.startswith("depot-sync-") for name in lookups), lookups
