"""The per-session event log: the one place events are written.

Sequences are handed out under the session row's lock, so sequence order is commit order and a
reader following `after=` never skips an event. Channel-layer messages sent on commit are only
wake-ups; readers always go back to the database.
"""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from sessions_app.models import ChangeType, Event, EventKind, Session

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


def session_group_name(session_pk: int) -> str:
    return f"depot.session.{session_pk}"


def _wake_up(session_pk: int, sequence: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            session_group_name(session_pk), {"type": "events.wakeup", "sequence": sequence}
        )
    except Exception:
        # A lost wake-up only costs latency: consumers also poll the log on a timer.
        logger.warning("event wake-up for session %s failed", session_pk, exc_info=True)


@transaction.atomic
def event_append(*, session: Session, kind: EventKind, **payload: Any) -> Event:
    """Append one event to `session`'s log inside the caller's transaction."""
    locked = (
        Session.objects.select_for_update().only("id", "last_event_sequence").get(pk=session.pk)
    )
    sequence = locked.last_event_sequence + 1
    Session.objects.filter(pk=session.pk).update(last_event_sequence=sequence)
    session.last_event_sequence = sequence
    event = Event.objects.create(
        event_id=Event.mint_id(),
        session_id=session.pk,
        sequence=sequence,
        kind=kind,
        change_type=CHANGE_TYPES[kind],
        **payload,
    )
    transaction.on_commit(lambda: _wake_up(session.pk, sequence))
    return event
