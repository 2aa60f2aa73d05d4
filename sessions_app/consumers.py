"""`/ws/sessions/{session_id}`: a session's events, pushed.

The database log is the truth. The consumer keeps its own cursor and reads the log from it
whenever a channel-layer wake-up arrives and on a timer, so a dropped wake-up (channels-redis
drops group messages over capacity by design) costs latency, never an event."""

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import parse_qs

from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from sessions_app.api.event_views import answer_long_poll, namespace_feed, session_feed
from sessions_app.events import (
    SESSION_ID_RE,
    Feed,
    events_head_async,
    events_read_async,
    message_batches,
)

# Close codes in the application range, mirroring HTTP statuses.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_INVALID = 4422
PAGE = 200


class SessionEventsConsumer(AsyncJsonWebsocketConsumer):
    feed: Feed
    cursor: int

    async def connect(self) -> None:
        principal = self.scope.get("principal")
        if principal is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        after_values = query.get("after")
        if not SESSION_ID_RE.fullmatch(session_id) or (
            after_values and not after_values[0].isdigit()
        ):
            await self.close(code=CLOSE_INVALID)
            return
        self.feed = Feed(
            organization_id=principal.organization_id,
            session_id=session_id,
            workspace_limit_id=principal.workspace_limit_id,
        )
        self.flush_lock = asyncio.Lock()
        self.poller: asyncio.Task[None] | None = None
        await self.channel_layer.group_add(self.feed.group, self.channel_name)
        if after_values:
            self.cursor = int(after_values[0])
        else:
            # Only what happens from now on: start at the end of the log as it stands.
            self.cursor = await events_head_async(feed=self.feed)
        await self.accept()
        await self.flush()
        self.poller = asyncio.create_task(self.poll())

    async def disconnect(self, code: int) -> None:
        if getattr(self, "poller", None) is not None:
            self.poller.cancel()  # type: ignore[union-attr]
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller  # type: ignore[misc]
        if hasattr(self, "feed"):
            await self.channel_layer.group_discard(self.feed.group, self.channel_name)

    async def events_wakeup(self, message: dict[str, Any]) -> None:
        await self.flush()

    async def poll(self) -> None:
        while True:
            await asyncio.sleep(settings.DEPOT_EVENTS_POLL_SECONDS)
            await self.flush()

    async def flush(self) -> None:
        """Send everything after our cursor, in order, exactly once."""
        async with self.flush_lock:
            while True:
                page = await events_read_async(feed=self.feed, after=self.cursor, limit=PAGE)
                for message_type, events in message_batches(page.events):
                    await self.send_json(
                        {
                            "type": message_type,
                            "data": {"session_id": self.feed.session_id, "events": events},
                        }
                    )
                self.cursor = page.next_cursor
                if not page.has_more:
                    return

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "cursor": self.cursor})


class LongPollConsumer(AsyncHttpConsumer):
    """The long-polls (`…/artifact-events`, `…/events`), answered before Django.

    Django's handler parks a worker thread for every request it serves, including one that only
    awaits; this consumer waits on the event loop alone, so 1,000 waiting polls cost 1,000
    coroutines, not 1,000 threads. The answer is the same code the Django views use."""

    answering: "asyncio.Task[None] | None" = None

    async def http_request(self, message: dict[str, Any]) -> None:
        # Channels handles one message at a time, so awaiting the wait here would leave a
        # client's disconnect unread until the deadline. Answer in a task instead; the
        # consumer keeps listening, and a disconnect cancels the wait (and its subscription).
        if message.get("more_body"):
            return
        self.answering = asyncio.create_task(self.handle(b""))

    async def http_disconnect(self, message: dict[str, Any]) -> None:
        if self.answering is not None and not self.answering.done():
            self.answering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.answering
        raise StopConsumer()

    async def handle(self, body: bytes) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        feed_for = (
            namespace_feed(kwargs["org"], kwargs["ws"], kwargs["ns"])
            if "ns" in kwargs
            else session_feed(kwargs["session_id"])
        )
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in self.scope["headers"]
        }
        query = {
            name: values[-1]
            for name, values in parse_qs(
                self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            ).items()
        }

        async def load_user() -> Any:
            return self.scope.get("user")

        status, payload, extra = await answer_long_poll(
            method=self.scope["method"],
            headers={
                "x-api-key": headers.get("x-api-key", ""),
                "authorization": headers.get("authorization", ""),
            },
            query=query,
            load_user=load_user,
            feed_for=feed_for,
        )
        response_headers = [
            (b"Content-Type", b"application/json"),
            (b"X-Content-Type-Options", b"nosniff"),
            *((name.encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()),
        ]
        await self.send_response(status, json.dumps(payload).encode(), headers=response_headers)
