"""The event log's read side: feeds (a session's log, a namespace's), filters, pages and the
payload every reader sends. Reads run briefly in pool threads that hand their connection back,
so a waiting reader holds none."""

import logging
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models import Max, Q, QuerySet

from sessions_app.events.log import namespace_group, session_group
from sessions_app.models import Event, version_file_id

logger = logging.getLogger(__name__)


# --- reading ---


def event_payload(event: Event, *, session_id: str | None = None) -> dict[str, Any]:
    """Every key of seed 000's document (null where it does not apply), the keys its real
    server sends and its clients read (`file_name`, `relative_path`, `mime_type`, bare-hex
    `sha256`, `data_uri`, `extra`), plus Depot's own.

    An artifact event's `attachment_id` is its version's file id (`ver_…`, see
    `version_file_id`), which `GET /api/sessions/{sid}/artifacts/{id}` (meta and stream)
    serves as exactly that version: in that system every
    file an agent makes is an attachment, and its UI opens an event's file by that id. Worked
    out here rather than stored, so events written before this answer the same way.
    `data_uri` is always null on an event: the bytes are the meta route's, which inlines them
    up to DEPOT_DATA_URI_MAX_BYTES (the real server's registered files carry none either)."""
    created_at = event.created_at.isoformat().replace("+00:00", "Z")
    return {
        "event_id": event.event_id,
        "sequence": event.sequence,
        "namespace_sequence": event.namespace_sequence,
        "kind": event.kind,
        "change_type": event.change_type,
        "session_id": session_id,
        "artifact_id": event.artifact_id,
        "attachment_id": event.attachment_id or version_file_id(event.artifact_id),
        "node_id": event.node_id,
        "path": event.path,
        "name": event.name,
        "size": event.size,
        "mime": event.mime,
        "hash": event.hash,
        "timestamp": int(event.created_at.timestamp()),
        "created_at": created_at,
        # The seed-000 server's own names for the same facts.
        "file_name": event.name,
        "relative_path": event.path,
        "mime_type": event.mime,
        "sha256": event.hash.removeprefix("sha256:") if event.hash else None,
        "data_uri": None,
        "extra": {},
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
    """One stream to read: a session's log, by workspace and public id (session ids are unique
    per workspace; keyed by id, not row, so a watcher can wait for a session that does not
    exist yet), or a namespace's feed. `Feed(workspace_id=…, session_id=…)` or
    `Feed(namespace_id=…)`; sessions_app.selectors.session_watch_workspace picks a watcher's
    workspace."""

    workspace_id: int | None = None
    session_id: str | None = None
    namespace_id: int | None = None

    def __post_init__(self) -> None:
        if (self.session_id is None) == (self.namespace_id is None) or (
            self.session_id is not None and self.workspace_id is None
        ):
            raise ValueError("a feed is a workspace's session id or a namespace")

    @property
    def group(self) -> str:
        if self.session_id is not None:
            assert self.workspace_id is not None
            return session_group(self.workspace_id, self.session_id)
        assert self.namespace_id is not None
        return namespace_group(self.namespace_id)

    def events(self) -> QuerySet[Event]:
        if self.session_id is not None:
            assert self.workspace_id is not None
            return Event.objects.filter(
                session__workspace_id=self.workspace_id, session__session_id=self.session_id
            )
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
