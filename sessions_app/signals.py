"""Signals that let the apps above this one (attachments) react to a session's life without
this app importing them. Receivers connect in their AppConfig.ready() and run inside the
sending service's transaction, before its event is appended (the append is the last statement
of the write: sessions_app/locks.py)."""

from django.dispatch import Signal

# Sent by `session_complete` after the session row is marked finished; kwargs: `session`.
session_completed = Signal()
# Sent by `session_delete` under the session's lock, before the row goes; kwargs: `session`.
# A receiver that deletes rows with the session returns their deletion events (a list of
# `events.EventDraft`), which `session_delete` appends last, to the namespace feed.
session_deleting = Signal()
# Sent by `organization_usage`; kwargs: `organization_id`, `workspace_id` (None: all of the
# organization). Each app that stores bytes answers {"<kind>": {"count": n, "bytes": b}}.
storage_usage = Signal()
