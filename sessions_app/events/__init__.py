"""The event log: the one place events are written (`log`), read (`feeds`) and waited for
(`waiting`); `long_poll` answers the HTTP long-polls over them. Both transports, the
long-poll consumer and the WebSocket consumer, depend on this package and on nothing of each
other's."""

from sessions_app.events.feeds import (
    EventFilter,
    EventPage,
    Feed,
    event_payload,
    events_head_async,
    events_read,
    events_read_async,
    release_connection,
)
from sessions_app.events.log import (
    CHANGE_TYPES,
    WAKEUP_TYPE,
    EventDraft,
    event_append,
    events_append_to_namespace,
    namespace_group,
    session_group,
)
from sessions_app.events.waiting import Waiter, events_wait

__all__ = [
    "CHANGE_TYPES",
    "WAKEUP_TYPE",
    "EventDraft",
    "EventFilter",
    "EventPage",
    "Feed",
    "Waiter",
    "event_append",
    "event_payload",
    "events_append_to_namespace",
    "events_head_async",
    "events_read",
    "events_read_async",
    "events_wait",
    "namespace_group",
    "release_connection",
    "session_group",
]
