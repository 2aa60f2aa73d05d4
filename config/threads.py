"""A small fixed set of threads for the sync work of HTTP requests, each keeping its database
connection.

Django's ASGI handler gives every request a new thread (asgiref's ThreadSensitiveContext
makes a one-thread executor per request and shuts it down after), so every request opened a
new database connection and closed it: on SQLite 0.64 ms per connection, and closing the
database's last connection checkpoints the WAL with fsyncs and drops the page cache
(issue 11: 3-3.5 ms and 4-6 fsyncs of a 10.2 ms upload). Here a request is bound, for its
whole life (the gate's key lookup, the middleware, the view), to one of `DEPOT_SYNC_THREADS`
long-lived one-thread executors, the one with the fewest requests bound to it, so its
thread-sensitive calls run on one thread as before, and that thread's connection outlives the
request (SQLite: CONN_MAX_AGE=None; PostgreSQL: the pool takes it back at the end of the
request, as before).
"""

import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from asgiref.sync import SyncToAsync, ThreadSensitiveContext
from django.conf import settings

# The thread-sensitive context a SyncThreads made for the request running in this context.
_ours: ContextVar[ThreadSensitiveContext | None] = ContextVar("depot_sync_thread", default=None)


class SyncThreads:
    def __init__(self, size: int) -> None:
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"depot-sync-{index}")
            for index in range(max(1, size))
        ]
        self.bound = [0] * len(self.executors)

    @contextlib.asynccontextmanager
    async def bound_thread(self) -> AsyncIterator[None]:
        """Thread-sensitive calls inside run on one pooled thread (the least loaded). Inside an
        enclosing thread-sensitive context that is not one of ours (a test's) nothing changes.

        One of ours is never reused: it belongs to an earlier request whose task created this
        one. uvicorn starts a pipelined request's task from inside the previous request's
        `send` (a client may send the next request once it has the body, before the final
        empty body message), so that task inherits the previous request's context, which exits
        moments later; reusing it made about 1 in 60 keep-alive requests a 500
        ("ThreadSensitiveContext has exited")."""
        current = SyncToAsync.thread_sensitive_context.get(None)
        if current is not None and current is not _ours.get():
            yield
            return
        index = min(range(len(self.bound)), key=self.bound.__getitem__)
        self.bound[index] += 1
        try:
            context = ThreadSensitiveContext(executor=self.executors[index])
            async with context:
                token = _ours.set(context)
                try:
                    yield
                finally:
                    _ours.reset(token)
        finally:
            self.bound[index] -= 1


class BoundToThread:
    """ASGI middleware for `http`: the request's sync work runs on one of the kept threads."""

    def __init__(
        self,
        app: Any,
        threads: SyncThreads | None = None,
        *,
        unbound_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.threads = threads or SyncThreads(settings.DEPOT_SYNC_THREADS)
        # Paths left unbound: those whose application starts tasks that outlive the request
        # (MCP), and those answered with no sync work (`/healthz`); config/asgi.py names them.
        self.unbound_prefixes = unbound_prefixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self.unbound_prefixes and scope.get("path", "").startswith(self.unbound_prefixes):
            await self.app(scope, receive, send)
            return
        async with self.threads.bound_thread():
            await self.app(scope, receive, send)
