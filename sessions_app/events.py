"""The event log: the one place events are written, read and waited for.

Numbering (engineering.md, "Event cursors"): a session's events are numbered under the session
row's lock, and every event also gets a namespace number under the namespace row's lock, so in
both feeds sequence order is commit order and a reader following `after=` never skips one.
The session and the namespace are the last two rows of the one lock order (sessions_app/locks.py),
and the append is the last statement of every write, so the namespace lock serialises the
writers of one namespace only for the instant between the append and the commit.

The log is append-only: deleting a session keeps its events (they lose the link to the session
row, not its public id) and appends one deletion event per file that went with it.

Channel-layer messages sent on commit are wake-ups only: readers always go back to the database,
and also look on a timer, so a dropped wake-up costs latency, never an event.
"""

import asyncio
import hashlib
import logging
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet

from sessions_app.locks import namespace_for_update, require_atomic, session_for_update
from sessions_app.models import SESSION_ID_PATTERN, ChangeType, Event, EventKind, Namespace, Session

SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)

logger = logging.getLogger(__name__)

CHANGE_TYPES = {
    EventKind.ATTACHMENT_CREATED: ChangeType.CREATED,
    EventKind.ATTACHMENT_DELETED: ChangeType.DELETED,
    EventKind.ARTIFACT_CREATED: ChangeType.CREATED,
    EventKind.ARTIFACT_VERSION_CREATED: ChangeType.CREATED,
    EventKind.ARTIFACT_UPDATED: ChangeType.UPDATED,
    EventKind.ARTIFACT_DELETED: ChangeType.DELETED,
    EventKind.SESSION_COMPLETED: ChangeType.UPDATED,
}
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
WAKEUP_TYPE = "events.wakeup"


# --- wake-up groups ---


def session_group(organization_id: int, session_id: str) -> str:
    """Keyed by the public id, not the row, so a watcher can wait for a session that does not
    exist yet; hashed because group names are limited to 100 safe characters."""
    digest = hashlib.sha256(f"{organization_id}:{session_id}".encode()).hexdigest()[:40]
    return f"depot.session.{digest}"


def namespace_group(namespace_id: int) -> str:
    return f"depot.namespace.{namespace_id}"


def _wake(groups: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all() -> None:
        for group in groups:
            await layer.group_send(group, {"type": WAKEUP_TYPE})

    try:
        async_to_sync(send_all)()
    except Exception as error:
        # One line, not a traceback: with Redis down this happens on every write, and the
        # readers' timers still deliver the event.
        logger.warning("event wake-up failed for %s: %s: %s", groups, type(error).__name__, error)


# --- writing ---


def event_append(
    *,
    kind: EventKind,
    session: Session | None = None,
    namespace_id: int | None = None,
    **payload: Any,
) -> Event:
    """Append one event inside the caller's transaction, as its last statement: this locks the
    namespace row, the last lock of the order (sessions_app/locks.py).

    Session events go to the session's log and to its namespace's feed; an artifact without a
    session passes its `namespace_id` and lands in the namespace feed only."""
    require_atomic("event_append")
    sequence = None
    session_public_id = ""
    groups = []
    if session is not None:
        locked = session_for_update(
            session.pk, "id", "organization_id", "session_id", "namespace_id", "last_event_sequence"
        )
        sequence = locked.last_event_sequence + 1
        Session.objects.filter(pk=locked.pk).update(last_event_sequence=sequence)
        session.last_event_sequence = sequence
        session_public_id = locked.session_id
        namespace_id = namespace_id or locked.namespace_id
        groups.append(session_group(locked.organization_id, locked.session_id))
    if namespace_id is None:
        raise ValueError("an event needs a session or a namespace")
    namespace_sequence = _namespace_sequences(namespace_id, 1)
    groups.append(namespace_group(namespace_id))
    event = Event.objects.create(
        event_id=Event.mint_id(),
        session_id=session.pk if session is not None else None,
        session_public_id=session_public_id,
        sequence=sequence,
        namespace_id=namespace_id,
        namespace_sequence=namespace_sequence,
        kind=kind,
        change_type=CHANGE_TYPES[kind],
        **payload,
    )
    transaction.on_commit(lambda: _wake(groups))
    return event


@dataclass(frozen=True)
class EventDraft:
    """An event a write owes the log, appended by the service that owns the transaction once
    its other statements ran (a signal receiver returns these instead of appending itself)."""

    kind: EventKind
    payload: dict[str, Any]


def events_append_to_namespace(
    *, namespace_id: int, drafts: list[EventDraft], session_public_id: str = ""
) -> list[Event]:
    """Append `drafts` to the namespace feed alone, in one lock and one insert, as the last
    statement of the write. For events of a session that is gone (its log went with it):
    `session_public_id` still says which session they were about."""
    require_atomic("events_append_to_namespace")
    if not drafts:
        return []
    last = _namespace_sequences(namespace_id, len(drafts))
    events = Event.objects.bulk_create(
        Event(
            event_id=Event.mint_id(),
            session_public_id=session_public_id,
            namespace_id=namespace_id,
            namespace_sequence=last - len(drafts) + number,
            kind=draft.kind,
            change_type=CHANGE_TYPES[draft.kind],
            **draft.payload,
        )
        for number, draft in enumerate(drafts, start=1)
    )
    groups = [namespace_group(namespace_id)]
    transaction.on_commit(lambda: _wake(groups))
    return events


def _namespace_sequences(namespace_id: int, count: int) -> int:
    """Hand out `count` namespace sequences under the namespace row's lock; returns the last."""
    namespace = namespace_for_update(namespace_id)
    last = namespace.last_event_sequence + count
    Namespace.objects.filter(pk=namespace_id).update(last_event_sequence=last)
    return last


# --- reading ---


def event_payload(event: Event, *, session_id: str | None = None) -> dict[str, Any]:
    """Every seed-000 key (null where it does not apply) plus Depot's own."""
    return {
        "event_id": event.event_id,
        "sequence": event.sequence,
        "namespace_sequence": event.namespace_sequence,
        "kind": event.kind,
        "change_type": event.change_type,
        "session_id": session_id,
        "artifact_id": event.artifact_id,
        "attachment_id": event.attachment_id,
        "node_id": event.node_id,
        "path": event.path,
        "name": event.name,
        "size": event.size,
        "mime": event.mime,
        "hash": event.hash,
        "timestamp": int(event.created_at.timestamp()),
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
    }


@dataclass(frozen=True)
class EventFilter:
    """Seed-000 filters: MIME prefixes, extensions (no dot) and a size ceiling."""

    mime_prefixes: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    max_size: int | None = None

    def q(self) -> Q:
        query = Q()
        if self.mime_prefixes:
            mime = Q()
            for prefix in self.mime_prefixes:
                mime |= Q(mime__istartswith=prefix)
            query &= mime
        if self.extensions:
            extension = Q()
            for ext in self.extensions:
                extension |= Q(name__iendswith=f".{ext}") | Q(path__iendswith=f".{ext}")
            query &= extension
        if self.max_size is not None:
            query &= Q(size__lte=self.max_size)
        return query


@dataclass(frozen=True)
class Feed:
    """One stream to read: a session's log (by organization and public id) or a namespace."""

    organization_id: int
    session_id: str | None = None
    namespace_id: int | None = None
    workspace_limit_id: int | None = None

    @property
    def group(self) -> str:
        if self.session_id is not None:
            return session_group(self.organization_id, self.session_id)
        assert self.namespace_id is not None
        return namespace_group(self.namespace_id)

    def events(self) -> QuerySet[Event]:
        if self.session_id is not None:
            queryset = Event.objects.filter(
                session__organization_id=self.organization_id,
                session__session_id=self.session_id,
            )
            if self.workspace_limit_id is not None:
                queryset = queryset.filter(session__namespace__workspace_id=self.workspace_limit_id)
            return queryset
        assert self.namespace_id is not None
        return Event.objects.filter(namespace_id=self.namespace_id)

    @property
    def sequence_field(self) -> str:
        return "sequence" if self.session_id is not None else "namespace_sequence"


@dataclass
class EventPage:
    events: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: int = 0
    has_more: bool = False


def events_read(
    *, feed: Feed, after: int, limit: int, filters: EventFilter = EventFilter()
) -> EventPage:
    """Events after `after`, filters applied before `limit`.

    `next_cursor` is the sequence of the last event examined: past filtered-out events too,
    so a filtered reader does not see them again. The upper bound is read first; since a
    sequence is handed out under a lock held to commit, every lower sequence is visible too."""
    sequence = feed.sequence_field
    events = feed.events()
    upper = events.aggregate(top=Max(sequence))["top"] or 0
    if upper <= after:
        return EventPage(next_cursor=after)
    window = events.filter(**{f"{sequence}__gt": after, f"{sequence}__lte": upper})
    matching = window.filter(filters.q()).order_by(sequence)
    rows = list(matching[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = getattr(rows[-1], sequence) if has_more else upper
    return EventPage(
        events=[
            event_payload(
                row,
                # Kept on the event, so it outlives a deleted session.
                session_id=feed.session_id or row.session_public_id or None,
            )
            for row in rows
        ],
        next_cursor=next_cursor,
        has_more=has_more,
    )


def release_connection() -> None:
    """Reads run in a few pool threads; give the connection back before the caller waits, so a
    waiting request holds none. A SQLite connection is only a file handle of this process, not
    a server session: the thread keeps it (a reconnect made a read 1.9 ms instead of 0.8 ms)."""
    if connection.vendor != "sqlite":
        connection.close()


def _read_and_release(**kwargs: Any) -> EventPage:
    try:
        return events_read(**kwargs)
    finally:
        release_connection()


async def events_read_async(**kwargs: Any) -> EventPage:
    return await sync_to_async(_read_and_release, thread_sensitive=False)(**kwargs)


def _head_and_release(feed: Feed) -> int:
    try:
        return feed.events().aggregate(top=Max(feed.sequence_field))["top"] or 0
    finally:
        release_connection()


async def events_head_async(*, feed: Feed) -> int:
    """The sequence of the newest event in `feed` (0 when there is none)."""
    return await sync_to_async(_head_and_release, thread_sensitive=False)(feed)


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
