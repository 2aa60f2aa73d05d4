"""Waiting for a feed to move: channel-layer wake-ups with a timer behind them (a wake-up is
only a hint; the database is the truth)."""

import asyncio
import logging
import random
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from sessions_app.events.feeds import (
    EventFilter,
    EventPage,
    Feed,
    events_read_async,
)

logger = logging.getLogger(__name__)


class Waiter:
    """Waits for wake-ups of one feed on the channel layer, holding no thread meanwhile.

    Use as `async with Waiter(group) as waiter: await waiter.wait(timeout)`."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.receiving: asyncio.Future[Any] | None = None

    @property
    def subscribed(self) -> bool:
        return self.channel is not None

    async def __aenter__(self) -> "Waiter":
        if self.layer is not None:
            try:
                self.channel = await self.layer.new_channel()
                await self.layer.group_add(self.group, self.channel)
            except Exception as error:
                # Without the layer we still answer: by polling the log on the timer. One line,
                # not a traceback: with Redis down every waiting reader gets here.
                logger.warning(
                    "could not subscribe to %s: %s: %s", self.group, type(error).__name__, error
                )
                self.channel = None
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.receiving is not None:
            self.receiving.cancel()
            await asyncio.wait({self.receiving})
        if self.layer is not None and self.channel is not None:
            try:
                await self.layer.group_discard(self.group, self.channel)
            except Exception:
                logger.debug("group_discard failed for %s", self.group, exc_info=True)

    async def wait(self, timeout: float) -> bool:
        """True when woken, False when `timeout` passed (or there is no layer)."""
        if timeout <= 0:
            return False
        if self.layer is None or self.channel is None:
            await asyncio.sleep(timeout)
            return False
        # One receive waits across the timer's re-checks: channels-redis unsubscribes a channel
        # whose receive is cancelled (and the next receive subscribes it again), two Redis calls
        # per re-check, and with Redis down a logged traceback each.
        if self.receiving is None:
            self.receiving = asyncio.ensure_future(self.layer.receive(self.channel))
        done, _ = await asyncio.wait({self.receiving}, timeout=timeout)
        if not done:
            return False
        received, self.receiving = self.receiving, None
        received.result()  # a failed receive raises here, as it always did
        return True


async def events_wait(
    *, feed: Feed, after: int, limit: int, filters: EventFilter, wait_seconds: float
) -> tuple[EventPage, bool]:
    """Return at once when matching events exist after `after`; otherwise wait for one until
    `wait_seconds` pass. Returns (page, timed_out)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    # The re-read only matters when a wake-up was lost; jitter keeps a thousand waiting polls
    # from re-reading in step.
    poll = settings.DEPOT_LONGPOLL_RECHECK_SECONDS * random.uniform(0.8, 1.2)
    cursor = after
    async with Waiter(feed.group) as waiter:
        while True:
            page = await events_read_async(feed=feed, after=cursor, limit=limit, filters=filters)
            if page.events:
                return page, False
            # Events that did not pass the filters are behind us now.
            cursor = page.next_cursor
            remaining = deadline - loop.time()
            if remaining <= 0:
                return page, True
            await waiter.wait(min(remaining, poll))
