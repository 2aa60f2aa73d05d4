"""`resources/subscribe`: updates read from the durable event log, as the WebSocket reads it.

A subscription to a session watches that session's log; one to an artifact watches its
namespace's feed for events of that artifact's versions. Each watch is one task of the
connection that waits on the log's channel-layer wake-ups with a timer behind them
(sessions_app.events.events_wait): the database is the truth, so a lost wake-up costs
latency, never an update. An event after the subscription sends
`notifications/resources/updated` for the URI; a session that gains a file also sends
`notifications/resources/list_changed`. The watches end with the connection.

Clients of the 2026-07-28 protocol ask with `subscriptions/listen` instead: its URIs are
checked the same way, and each listen stream gets its own watches and its own bus (the SDK's
`ListenHandler` over an `InMemorySubscriptionBus`), so no stream hears another tenant's
list changes."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from channels.db import database_sync_to_async
from django.conf import settings
from mcp.server.context import ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    ResourcesListChanged,
    ResourceUpdated,
)
from mcp.shared.exceptions import MCPError

from agents_mcp import files
from agents_mcp.access import principal_of
from agents_mcp.resources import mcp_error
from artifacts.models import Artifact
from sessions_app import selectors as session_selectors
from sessions_app.errors import DepotError, NotFound
from sessions_app.events import EventFilter, Feed, events_head_async, events_wait
from sessions_app.models import EventKind
from sessions_app.principals import Principal

logger = logging.getLogger(__name__)
GAINS_A_FILE = {EventKind.ATTACHMENT_CREATED, EventKind.ARTIFACT_CREATED}
STATE_KEY = "depot.watches"
# Watches each API key holds in this process, over all its connections and listen streams:
# DEPOT_MCP_MAX_SUBSCRIPTIONS bounds one connection or one listen request, but a key may hold
# many of both (30 listen streams of 100 URIs took 60% of a core here with no event at all).
KEY_WATCHES: dict[int | None, int] = {}
TOO_MANY_FOR_KEY = (
    "This API key would hold more than {} subscriptions (DEPOT_MCP_MAX_WATCHES_PER_KEY)."
)


def _feed_for(principal: Principal, uri: str) -> tuple[Feed, str | None]:
    """The feed a URI's updates come from, and (for an artifact) its root id; NotFound for
    what the caller cannot see, exactly as reading it would be."""
    if match := files.SESSION_URI.match(uri) or files.SESSION_FILE_URI.match(uri):
        session = session_selectors.session_get(principal=principal, session_id=match["session_id"])
        feed = Feed(workspace_id=session.workspace_id, session_id=session.session_id)
        return feed, None
    if match := files.ARTIFACT_URI.match(uri):
        artifact = files.artifact_version(principal, match["artifact_id"], None)
        feed = Feed(namespace_id=artifact.namespace_id)
        return feed, artifact.root_artifact_id
    raise NotFound(f"No resource '{uri}'.")


@database_sync_to_async
def _versions_of(root_artifact_id: str) -> set[str]:
    ids = Artifact.objects.filter(root__artifact_id=root_artifact_id).values_list(
        "artifact_id", flat=True
    )
    return {root_artifact_id, *ids}


Notify = Callable[[str, bool], Awaitable[None]]  # (uri, the session gained a file)


async def _watch(notify: Notify, uri: str, feed: Feed, root: str | None, cursor: int) -> None:
    versions = await _versions_of(root) if root else set()
    wait = settings.DEPOT_MCP_WATCH_SECONDS
    while True:
        page, _ = await events_wait(
            feed=feed, after=cursor, limit=100, filters=EventFilter(), wait_seconds=wait
        )
        cursor = page.next_cursor
        if root is not None:
            mine = [event for event in page.events if event["artifact_id"] in versions]
            unknown = [event for event in page.events if event["artifact_id"] not in versions]
            if any(event["artifact_id"] for event in unknown):
                versions = await _versions_of(root)  # a new version's id
                mine += [event for event in unknown if event["artifact_id"] in versions]
            events = mine
        else:
            events = page.events
        if not events:
            continue
        await notify(uri, root is None and any(event["kind"] in GAINS_A_FILE for event in events))


def _to_connection(session: ServerSession) -> Notify:
    async def notify(uri: str, gained_file: bool) -> None:
        await session.send_resource_updated(uri)
        if gained_file:
            await session.send_resource_list_changed()

    return notify


def _to_bus(bus: InMemorySubscriptionBus) -> Notify:
    async def notify(uri: str, gained_file: bool) -> None:
        await bus.publish(ResourceUpdated(uri=uri))
        if gained_file:
            await bus.publish(ResourcesListChanged())

    return notify


def _key_room(principal: Principal, wanted: int) -> None:
    cap = int(settings.DEPOT_MCP_MAX_WATCHES_PER_KEY)
    if KEY_WATCHES.get(principal.api_key_id, 0) + wanted > cap:
        raise MCPError(types.INVALID_REQUEST, TOO_MANY_FOR_KEY.format(cap))


def _released(key: int | None) -> Callable[[asyncio.Task[None]], None]:
    def release(task: asyncio.Task[None]) -> None:
        KEY_WATCHES[key] -= 1
        if not KEY_WATCHES[key]:
            del KEY_WATCHES[key]

    return release


async def _start(principal: Principal, uri: str, notify: Notify) -> asyncio.Task[None]:
    """A watch of `uri` from the log's head now (what commits after the answer is what the
    client is told); NotFound as an MCP error for what the caller cannot see."""
    try:
        feed, root = await database_sync_to_async(_feed_for)(principal, uri)
    except DepotError as error:
        raise mcp_error(error) from None
    cursor = await events_head_async(feed=feed)
    _key_room(principal, 1)  # checked after the awaits, counted at once (one event loop)
    task = asyncio.create_task(_watch(notify, uri, feed, root, cursor))
    KEY_WATCHES[principal.api_key_id] = KEY_WATCHES.get(principal.api_key_id, 0) + 1
    task.add_done_callback(_released(principal.api_key_id))
    task.add_done_callback(_log_failure)
    return task


def _watches(ctx: ServerRequestContext[Any, Any]) -> dict[str, asyncio.Task[None]]:
    connection = ctx.session._connection  # the SDK's request context names no connection
    watches: dict[str, asyncio.Task[None]] | None = connection.state.get(STATE_KEY)
    if watches is None:
        watches = connection.state[STATE_KEY] = {}

        async def stop_all() -> None:
            for task in watches.values():
                task.cancel()
            watches.clear()

        connection.exit_stack.push_async_callback(stop_all)
    return watches


async def subscribe(
    ctx: ServerRequestContext[Any, Any], params: types.SubscribeRequestParams
) -> types.EmptyResult:
    uri = str(params.uri)
    watches = _watches(ctx)
    if uri not in watches:
        if len(watches) >= settings.DEPOT_MCP_MAX_SUBSCRIPTIONS:
            raise MCPError(types.INVALID_REQUEST, "Too many subscriptions on this connection.")
        watches[uri] = await _start(principal_of(ctx), uri, _to_connection(ctx.session))
    return types.EmptyResult()


async def unsubscribe(
    ctx: ServerRequestContext[Any, Any], params: types.UnsubscribeRequestParams
) -> types.EmptyResult:
    task = _watches(ctx).pop(str(params.uri), None)
    if task is not None:
        task.cancel()
    return types.EmptyResult()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("an MCP subscription ended: %r", task.exception())


async def listen(
    ctx: ServerRequestContext[Any, Any], params: types.SubscriptionsListenRequestParams
) -> types.SubscriptionsListenResult:
    uris = list(dict.fromkeys(params.notifications.resource_subscriptions or []))
    if len(uris) > settings.DEPOT_MCP_MAX_SUBSCRIPTIONS:
        raise MCPError(types.INVALID_REQUEST, "Too many resources in one listen request.")
    principal = principal_of(ctx)
    _key_room(principal, len(uris))
    bus = InMemorySubscriptionBus()
    tasks: list[asyncio.Task[None]] = []
    try:
        for uri in uris:
            tasks.append(await _start(principal, uri, _to_bus(bus)))
        return await ListenHandler(bus, max_subscriptions=1)(ctx, params)
    finally:
        for task in tasks:
            task.cancel()
