"""Row locks, and the one order every writer takes them in:

    artifact root → latest version → blob → session → namespace

A write transaction locks only the rows it needs, in this order, and never goes back to an
earlier one. Then no two writers can wait on each other in a cycle, which PostgreSQL would
break by aborting one of them (the client would get a 500). The rule holds for each writer:

- artifact writes (`artifacts/services.py`): the root, then its latest version (version
  numbers), then the blob of the new bytes, then the session and the namespace (the event);
- uploads (`attachment_create`): the blob first, then the session (the per-session file limit and
  the event), then the namespace. Uploads used to lock the session before the blob, the reverse
  of artifact writes, so the same bytes entering the same session as an attachment and as an
  artifact at the same moment deadlocked. Putting the session first in artifact writes instead
  would make a new cycle with `session_delete`, whose `SET_NULL` update touches the session's
  artifact rows before the session row goes;
- deletes take the rows they delete in the same order, then append their event. The one step
  back: `session_delete` unlinks the session's artifacts before the session's lock and, under
  it, once more for those linked in between; that pass takes them NOWAIT (it never waits, so
  never in a cycle), and a held row makes the delete roll back and start again.

The namespace row is locked by `event_append`, and only there, as the last statement of every
write: it serialises all writers of a namespace (its feed numbers events in commit order), so it
is held only from the append to the commit. Tasks are enqueued before the append, and deletes
(with their cascades) run before it.

Storage I/O: none while a row lock is held, with one exception. `blob_acquire` checks that a
blob's bytes are in place while it holds that blob's row (and, in artifact writes, the root and
latest rows that come before it in the order). The blob row is the lock that guards the bytes:
`blob_collect` deletes a blob's bytes under it, so a check made outside it could commit a row
whose bytes a release has just deleted. No session or namespace row is held during that check.

Each helper locks one row of its own table, asserts it runs inside a transaction (a lock outside
one is released at once and protects nothing), and names at the call site what is locked
(saleor's `lock_objects.py`).
"""

from dataclasses import dataclass

from django.db import connection, transaction

from sessions_app.errors import NotFound
from sessions_app.models import Namespace, Organization, Session


def require_atomic(what: str) -> None:
    """Refuse to lock outside a transaction: the lock would end with the statement."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{what} must run inside the writer's transaction")


def session_for_update(pk: int, *only: str) -> Session:
    """The locked session row (`only` some columns, when the caller needs no more). A session
    deleted while we waited for its lock is a 404, as it would have been a moment later."""
    require_atomic("session_for_update")
    locked = Session.objects.select_for_update()
    try:
        return (locked.only(*only) if only else locked).get(pk=pk)
    except Session.DoesNotExist as error:
        raise NotFound("The session was deleted.") from error


def namespace_for_update(pk: int) -> Namespace:
    require_atomic("namespace_for_update")
    return Namespace.objects.select_for_update().only("id", "last_event_sequence").get(pk=pk)


# Sequence counters: one `UPDATE ... RETURNING` each, which locks the row as `FOR UPDATE` would
# (PostgreSQL; SQLite 3.35+ holds the database's write lock) and hands out the numbers in the
# same statement, instead of a locked read and then an update.


def session_sequence_next(pk: int) -> tuple[int, int, str, int]:
    """Lock the session row and take its next event sequence: (sequence, workspace_id,
    session_id, namespace_id). A session deleted while we waited is a 404."""
    require_atomic("session_sequence_next")
    table = connection.ops.quote_name(Session._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # The model's own table name, quoted; the values are parameters.
            f"UPDATE {table} SET last_event_sequence = last_event_sequence + 1 WHERE id = %s "  # noqa: S608
            "RETURNING last_event_sequence, workspace_id, session_id, namespace_id",
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("The session was deleted.")
    return row[0], row[1], row[2], row[3]


def namespace_sequences_take(pk: int, count: int) -> int:
    """Lock the namespace row and take `count` event sequences; returns the last."""
    require_atomic("namespace_sequences_take")
    table = connection.ops.quote_name(Namespace._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_event_sequence = last_event_sequence + %s WHERE id = %s "  # noqa: S608
            "RETURNING last_event_sequence",
            [count, pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise Namespace.DoesNotExist(f"namespace {pk}")
    return int(row[0])


@dataclass(frozen=True)
class FileAdded:
    """What `session_file_added` took and read, in its one statement."""

    count: int  # the session's files, this one included
    # `session_sequence_next`'s answer, for the upload's event (`event_append(numbered=...)`)
    numbered: tuple[int, int, str, int]
    own_quota: int | None  # the organization's own `storage_quota_bytes`
    organization_id: int

    def as_session(self, pk: int) -> Session:
        """Session `pk` as this statement left it: the columns it returned, the rest deferred
        (read from the database if asked for, as with `only()`)."""
        sequence, workspace_id, session_id, namespace_id = self.numbered
        known = {
            "id": pk,
            "organization_id": self.organization_id,
            "workspace_id": workspace_id,
            "namespace_id": namespace_id,
            "session_id": session_id,
            "last_event_sequence": sequence,
            "file_count": self.count,
        }
        names = [f.attname for f in Session._meta.concrete_fields if f.attname in known]
        return Session.from_db(connection.alias, names, [known[name] for name in names])


def session_file_added(pk: int) -> FileAdded:
    """Lock the session row, count one more file in it, number the upload's event and read
    its organization's own quota; the caller refuses past its limits, and its rollback undoes
    the count and the number. A session deleted since its lookup is a 404. One UPDATE ...
    RETURNING is the session's lock, its counter, the event's sequence and the quota read: on
    PostgreSQL each statement is a round trip, and these were three (issue 11)."""
    require_atomic("session_file_added")
    quote = connection.ops.quote_name
    table = quote(Session._meta.db_table)
    organizations = quote(Organization._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # The models' own table names, quoted; the values are parameters.
            f"UPDATE {table} SET file_count = file_count + 1,"  # noqa: S608
            " last_event_sequence = last_event_sequence + 1 WHERE id = %s"
            " RETURNING file_count, last_event_sequence, workspace_id, session_id, namespace_id,"
            f" (SELECT o.storage_quota_bytes FROM {organizations} o"
            f" WHERE o.id = {table}.organization_id), organization_id",
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("The session was deleted.")
    return FileAdded(
        count=int(row[0]),
        numbered=(row[1], row[2], row[3], row[4]),
        own_quota=None if row[5] is None else int(row[5]),
        organization_id=int(row[6]),
    )
