"""`/ws/sessions/{session_id}`: a session's events, pushed.

The database log is the truth. The consumer keeps its own cursor and reads the log from it
whenever a channel-layer wake-up arrives and on a timer, so a dropped wake-up (channels-redis
drops group messages over capacity by design) costs latency, never an event.

Refusals (product.md §6) are accepted and then closed, because a refused handshake reaches a
browser only as 1006 with no reason: 4401 no or bad credentials, 4403 foreign origin (see
`ws_auth`), 4404 unknown path (see `routing`), 4422 a malformed session id or `after` (`after`
is a plain ASCII decimal integer of at most 18 digits; empty, signed, exponent or non-ASCII
digits are malformed).

What a client may send, and what it gets back:
- a text frame holding a JSON object `{"type": "ping"}` → `{"type": "pong", "cursor": N}`;
- any other text frame (not JSON, JSON that is not an object, an unknown or missing `type`) →
  `{"type": "error", "detail": "..."}`; the socket stays open and its events keep coming, so a
  client's mistake never costs it its stream;
- a binary frame → close 1003 (RFC 6455: data of a type the endpoint cannot accept);
- a text frame over `MAX_CLIENT_MESSAGE_CHARS` → close 1009 (message too big), before parsing;
- a text frame that is not valid UTF-8 never reaches Depot: uvicorn closes it with 1007 itself
  (its default websockets-sansio protocol also logs that with a traceback, out of Depot's
  reach). Frames over uvicorn's `--ws-max-size` (16 MiB) likewise close with 1009 there.
Nothing a client sends makes the consumer raise, so a socket always ends with a close frame.
"""

import asyncio
import contextlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from sessions_app.events import Feed, Waiter, events_head_async, events_read_async
from sessions_app.events.long_poll import answer_long_poll, namespace_feed, session_feed
from sessions_app.models import EventKind
from sessions_app.principals import SCOPE_API_KEY
from sessions_app.selectors import is_session_id
from sessions_app.ws_auth import CLOSE_INVALID, CLOSE_UNAUTHENTICATED

# RFC 6455 §7.4.1 codes for frames we cannot take.
CLOSE_UNSUPPORTED_DATA = 1003
CLOSE_MESSAGE_TOO_BIG = 1009
PAGE = 200
# The only message a client sends is a ping of a few bytes; 64 Ki characters leaves room for
# any future one and keeps a hostile client from making us parse megabytes.
MAX_CLIENT_MESSAGE_CHARS = 64 * 1024
# A cursor is a sequence number: ASCII digits only (`str.isdigit` accepts "²", which `int`
# refuses), and 18 of them fit a signed 64-bit column, so `int` never meets a huge string.
AFTER_RE = re.compile(r"[0-9]{1,18}")
# A consumer given this alias gets no channel of its own (channels' get_channel_layer returns None
# for an alias that is not configured). Channels would otherwise subscribe one before the
# consumer runs, and with Redis down that subscription fails the request with a 500 before Depot
# sees it. Both consumers wait for wake-ups through a `Waiter`, which falls back to its timer.
NO_CHANNEL_LAYER = "depot.none"
# A socket that could not subscribe (Redis down) tries again this often. Not at every poll: each
# failed try leaves a small queue behind in channels-redis.
RESUBSCRIBE_SECONDS = 30.0


# WebSocket message types (product.md §6): seed-000 clients expect `artifact_created` for
# anything that makes new content visible.
MESSAGE_TYPES = {
    EventKind.ATTACHMENT_CREATED: "artifact_created",
    EventKind.ARTIFACT_CREATED: "artifact_created",
    EventKind.ARTIFACT_VERSION_CREATED: "artifact_created",
    EventKind.ARTIFACT_UPDATED: "artifact_updated",
    EventKind.ATTACHMENT_DELETED: "artifact_deleted",
    EventKind.ARTIFACT_DELETED: "artifact_deleted",
    EventKind.SESSION_COMPLETED: "session_completed",
}


def message_batches(events: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Consecutive events of the same WebSocket message type travel together, in order."""
    batches: list[tuple[str, list[dict[str, Any]]]] = []
    for event in events:
        message_type = MESSAGE_TYPES[EventKind(event["kind"])]
        if batches and batches[-1][0] == message_type:
            batches[-1][1].append(event)
        else:
            batches.append((message_type, [event]))
    return batches


class SessionEventsConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = NO_CHANNEL_LAYER
    feed: Feed
    cursor: int
    # Set once we send a close: the server refuses any frame after it, so the poller, a
    # wake-up or a late client frame must not try.
    closing = False
    poller: "asyncio.Task[None] | None" = None

    async def connect(self) -> None:
        principal = self.scope.get("principal")
        if principal is None:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        query = parse_qs(
            self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
        )
        after_values = query.get("after")
        if not is_session_id(session_id) or (
            # `after=` (empty) and a repeated `after` are malformed too, not "no cursor".
            after_values is not None
            and (len(after_values) != 1 or not AFTER_RE.fullmatch(after_values[0]))
        ):
            await self.refuse(CLOSE_INVALID)
            return
        # The session of that id in the watcher's workspace (one that may not exist yet).
        self.feed = await session_feed(session_id)(principal)
        self.flush_lock = asyncio.Lock()
        if after_values:
            self.cursor = int(after_values[0])
        else:
            # Only what happens from now on: start at the end of the log as it stands.
            self.cursor = await events_head_async(feed=self.feed)
        await self.accept()
        await self.flush()
        self.poller = asyncio.create_task(self.poll())

    async def refuse(self, code: int) -> None:
        """Accept, then close with `code`, so the client can read why (see the docstring)."""
        await self.accept()
        await self.close(code=code)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if self.closing:
            return
        self.closing = True
        await super().close(code=code, reason=reason)

    async def disconnect(self, code: int) -> None:
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller

    async def poll(self) -> None:
        """Flush on every wake-up and at least every DEPOT_EVENTS_POLL_SECONDS. Without a
        subscription (the channel layer is down) the timer alone carries the events."""
        loop = asyncio.get_running_loop()
        while True:
            async with Waiter(self.feed.group) as waiter:
                # Whatever committed before the subscription took is read now.
                await self.flush()
                retry_at = loop.time() + RESUBSCRIBE_SECONDS
                while waiter.subscribed or loop.time() < retry_at:
                    await waiter.wait(settings.DEPOT_EVENTS_POLL_SECONDS)
                    await self.flush()

    async def flush(self) -> None:
        """Send everything after our cursor, in order, exactly once."""
        async with self.flush_lock:
            while not self.closing:
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

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        if self.closing:
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Every client frame ends here; see the module docstring for what each one gets."""
        if self.closing:
            return
        if text_data is None:
            await self.close(code=CLOSE_UNSUPPORTED_DATA)
            return
        if len(text_data) > MAX_CLIENT_MESSAGE_CHARS:
            await self.close(code=CLOSE_MESSAGE_TOO_BIG)
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested thousands deep
            await self.send_error("a message must be a JSON object")
            return
        if not isinstance(content, dict):
            await self.send_error("a message must be a JSON object")
            return
        if content.get("type") == "ping":
            await self.send_json({"type": "pong", "cursor": self.cursor})
            return
        # The client's own text is not echoed back: it may be 64 Ki characters of anything.
        await self.send_error('unknown message type; a client sends only {"type": "ping"}')

    async def send_error(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})


class LongPollConsumer(AsyncHttpConsumer):
    """The long-polls (`…/artifact-events`, `…/events`), answered before Django.

    Django's handler parks a worker thread for every request it serves, including one that only
    awaits; this consumer waits on the event loop alone, so 1,000 waiting polls cost 1,000
    coroutines, not 1,000 threads. The answer is the same code the Django views use."""

    channel_layer_alias = NO_CHANNEL_LAYER
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
            session=self.scope.get("session"),
            # The key the request gate checked for this request: not looked up again.
            checked_key=self.scope.get(SCOPE_API_KEY),
        )
        response_headers = [
            (b"Content-Type", b"application/json"),
            (b"X-Content-Type-Options", b"nosniff"),
            *((name.encode("latin-1"), value.encode("latin-1")) for name, value in extra.items()),
        ]
        await self.send_response(status, json.dumps(payload).encode(), headers=response_headers)
