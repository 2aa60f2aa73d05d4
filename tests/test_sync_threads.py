"""config/threads.py: a request's sync work runs on one kept thread, in a context of its own."""

import asyncio
import threading
from typing import Any

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
