"""The event log's write side: the one place events are appended.

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
import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models import Model

from sessions_app import raw_writes
from sessions_app.locks import namespace_sequences_take, require_atomic, session_sequence_next
from sessions_app.models import ChangeType, Event, EventKind, Namespace, Session

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
WAKEUP_TYPE = "events.wakeup"
# --- wake-up groups ---


def session_group(workspace_id: int, session_id: str) -> str:
    """Keyed by the workspace and the public id (ids are unique per workspace), not the row,
    so a watcher can wait for a session that does not exist yet, and two sessions of one id in
    two workspaces never wake each other's watchers; hashed because group names are limited
    to 100 safe characters."""
    digest = hashlib.sha256(f"ws:{workspace_id}:{session_id}".encode()).hexdigest()[:40]
    return f"depot.session.{digest}"


def namespace_group(namespace_id: int) -> str:
    return f"depot.namespace.{namespace_id}"


def _wake_failed(groups: list[str], error: BaseException) -> None:
    # One line, not a traceback: with Redis down this happens on every write, and the readers'
    # timers still deliver the event.
    logger.warning("event wake-up failed for %s: %s: %s", groups, type(error).__name__, error)


# A wake-up is a hint: a reader's own timer delivers the event anyway. So a channel layer that
# hangs (Redis that accepts and never answers) may delay a request's end by at most this, and
# may hold at most MAX_WAKE_UPS_IN_FLIGHT tasks: past that, a write's wake-up is dropped (and
# logged) instead of piling up without limit.
WAKE_UP_SECONDS = 5.0
MAX_WAKE_UPS_IN_FLIGHT = 1000


async def _send_wake_ups(layer: Any, groups: list[str]) -> None:
    async with asyncio.timeout(WAKE_UP_SECONDS):
        for group in groups:
            await layer.group_send(group, {"type": WAKEUP_TYPE})


# Wake-ups sent from the event loop, held until done (the loop keeps only weak references).
_in_flight: set[asyncio.Task[None]] = set()


class _RequestWakeUps:
    """The wake-up tasks a request's writes started, for `WakeUpsSent` to wait on. Closed when
    the request ends: a task that outlives it (an MCP session's) adds nothing after that."""

    __slots__ = ("open", "tasks")

    def __init__(self) -> None:
        self.open = True
        self.tasks: set[asyncio.Task[None]] = set()  # those not done yet


# Shared with the request's threads: asgiref runs sync code in a copy of the caller's context.
_request_wake_ups: ContextVar[_RequestWakeUps | None] = ContextVar(
    "depot_request_wake_ups", default=None
)


def _wake_done(
    task: asyncio.Task[None], groups: list[str], request: _RequestWakeUps | None
) -> None:
    _in_flight.discard(task)
    if request is not None:
        request.tasks.discard(task)
    error = None if task.cancelled() else task.exception()
    if error is not None:
        _wake_failed(groups, error)


def _start_wake(layer: Any, groups: list[str], request: _RequestWakeUps | None) -> None:
    """On the event loop: send the wake-ups as a task of their own."""
    if len(_in_flight) >= MAX_WAKE_UPS_IN_FLIGHT:
        _wake_failed(groups, RuntimeError(f"{len(_in_flight)} wake-ups in flight already"))
        return
    task = asyncio.get_running_loop().create_task(_send_wake_ups(layer, groups))
    _in_flight.add(task)
    if request is not None and request.open:
        request.tasks.add(task)
    else:
        request = None
    task.add_done_callback(lambda done: _wake_done(done, groups, request))


class WakeUpsSent:
    """ASGI middleware: a request ends once the wake-ups its writes started are sent, after
    its answer (nobody waits on them before it). Under uvicorn the loop outlives every request
    anyway; a loop that ends with the request (`asyncio.run` per request, as test clients
    do) would otherwise cancel them, and a watcher would learn of the write only from its
    timer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = _RequestWakeUps()
        token = _request_wake_ups.set(request)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_wake_ups.reset(token)
            request.open = False
            if request.tasks:
                # asyncio.wait, not gather: a cancelled request does not cancel its wake-ups.
                await asyncio.wait(set(request.tasks))


def _serving_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop this thread's sync work was handed from (asgiref records it for
    every `sync_to_async` call, which is how `async_to_sync` finds it too), else None."""
    threadlocal = SyncToAsync.threadlocal
    if getattr(threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    loop = getattr(threadlocal, "main_event_loop", None)
    return loop if loop is not None and loop.is_running() and not loop.is_closed() else None


def _wake(groups: list[str]) -> None:
    """Wake the watchers of `groups`, after the commit. From a request's thread the wake-ups
    are handed to the event loop and not waited for: waiting held the request's thread for
    about a fifth of an upload's time in the view (issue 11), and a wake-up carries nothing
    (readers go back to the database), so there is no answer to wait for. Wake-ups are
    scheduled in commit order, each write's before its response is sent, and the request
    ends once they are sent (`WakeUpsSent`). Without a serving loop (management commands,
    the task worker, WSGI) they are sent and waited for here."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    request = _request_wake_ups.get()
    if running is not None:  # sync code called on the loop itself
        _start_wake(layer, groups, request)
        return
    loop = _serving_loop()
    if loop is not None:
        try:
            loop.call_soon_threadsafe(_start_wake, layer, groups, request)
            return
        except RuntimeError:  # the loop closed since we looked
            pass
    try:
        async_to_sync(_send_wake_ups)(layer, groups)
    except Exception as error:
        _wake_failed(groups, error)


# --- writing ---


def event_append(
    *,
    kind: EventKind,
    session: Session | None = None,
    namespace_id: int | None = None,
    numbered: tuple[int, int, str, int] | None = None,
    along: Model | None = None,
    **payload: Any,
) -> Event:
    """Append one event inside the caller's transaction, as its last statement: this locks the
    namespace row, the last lock of the order (sessions_app/locks.py).
    `numbered`: the session's sequence for this event, taken already by the caller's own
    update of the locked session row (`session_file_added`), as `session_sequence_next` gives it.
    `along`: the new row the event is about (an upload's attachment), written with it, by the
    event's own INSERT on PostgreSQL (`raw_writes.insert_numbered`: one round trip fewer),
    just before it on SQLite; either way it has its id when this returns.

    Session events go to the session's log and to its namespace's feed; an artifact without a
    session passes its `namespace_id` and lands in the namespace feed only."""
    require_atomic("event_append")
    sequence = None
    session_public_id = ""
    groups = []
    if session is not None:
        # One UPDATE ... RETURNING locks the session row and numbers the event.
        sequence, workspace_id, session_public_id, session_namespace_id = (
            numbered or session_sequence_next(session.pk)
        )
        session.last_event_sequence = sequence
        namespace_id = namespace_id or session_namespace_id
        groups.append(session_group(workspace_id, session_public_id))
    if namespace_id is None:
        raise ValueError("an event needs a session or a namespace")
    groups.append(namespace_group(namespace_id))
    event = Event(
        event_id=Event.mint_id(),
        session_id=session.pk if session is not None else None,
        session_public_id=session_public_id,
        sequence=sequence,
        namespace_id=namespace_id,
        kind=kind,
        change_type=CHANGE_TYPES[kind],
        **payload,
    )
    # One prepared INSERT instead of the ORM's compiled one (sessions_app/raw_writes.py): the
    # compiler was about 0.07 ms of every write's CPU (issue 11). On PostgreSQL the namespace's
    # lock and number are taken by the INSERT's own statement, one round trip fewer.
    if transaction.get_connection().vendor == "postgresql":
        raw_writes.insert_numbered(
            event,
            "namespace_sequence",
            Namespace,
            namespace_id,
            "last_event_sequence",
            along=along,
        )
    else:
        if along is not None:
            raw_writes.insert(along)
        event.namespace_sequence = _namespace_sequences(namespace_id, 1)
        raw_writes.insert(event)
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
    return namespace_sequences_take(namespace_id, count)
