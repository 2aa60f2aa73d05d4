"""Hostile review of dab4622: an upload's attachment row written by its event's own statement on
PostgreSQL (`event_append(along=row)` -> `raw_writes.insert_numbered(..., along=row)`:
`WITH along AS (INSERT ...), counter AS (UPDATE namespace ...) INSERT INTO event ...`), just
before the event on SQLite. As dab4622 left it, the extraction task was queued after the
event; the review's first test failed on that, and now an upload of a type with an extractor
inserts its row on its own, queues its task, then appends its event (the combined statement
is for the uploads without a task, most of them).

What must hold: the two rows as the ORM writes them (every field kind, parameters in the right
order); a refused row leaves no row, no number, no event, no task, no bytes; the save signals
as save() sends them (the upload metric counted once, on commit); the task queued once, with the
attachment's id, only on commit; no deadlock and gapless numbers under concurrent uploads; and
the lock order of sessions_app/locks.py ("Tasks are enqueued before the append": the namespace
row, locked by the event append, is the last statement of every write)."""

import functools
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from agents_mcp import operations as mcp_operations
from attachments import storage
from attachments.models import Attachment, Blob, IndexStatus, blob_key, parse_attachment_id
from attachments.services import attachment_create
from sessions_app.events import event_append
from sessions_app.models import Event, EventKind, Namespace, Session
from sessions_app.principals import authenticate_raw_key, principal_for_key
from tests.support import Tenant
from tests.support.signals import save_signals
from tests.support.threads import run_jobs

pytestmark = pytest.mark.django_db(transaction=True)


def _upload(session: Session, name: str, content: bytes, **fields: Any) -> Attachment:
    return attachment_create(
        session_lookup=lambda: session,
        staged=storage.write_stream(iter([content])),
        original_name=name,
        **fields,
    )


def _tasks() -> list[Any]:
    return [row.args_kwargs["args"] for row in DBTaskResult.objects.order_by("enqueued_at")]


def _stored(model: type[Any], pk: int, skip: set[str]) -> dict[str, Any]:
    row = model.objects.get(pk=pk)
    return {
        f.attname: getattr(row, f.attname)
        for f in model._meta.concrete_fields
        if f.attname not in skip
    }


def _state(namespace: Namespace, session: Session) -> tuple[Any, ...]:
    fresh = Session.objects.get(pk=session.pk)
    return (
        Attachment.objects.count(),
        Event.objects.count(),
        Blob.objects.count(),
        DBTaskResult.objects.count(),
        Namespace.objects.get(pk=namespace.pk).last_event_sequence,
        fresh.last_event_sequence,
        fresh.file_count,
    )


@pytest.fixture
def signal_log() -> Iterator[list[tuple[str, str]]]:
    with save_signals(Attachment, Event) as log:
        yield log


# --- the lock order: the namespace row last (failed on dab4622) ---


def test_an_extractable_upload_locks_the_namespace_in_its_last_statement(tenant: Tenant) -> None:
    """sessions_app/locks.py: "The namespace row is locked by `event_append`, and only there, as
    the last statement of every write ... Tasks are enqueued before the append." (README: "the
    event append, the last statement of every write"). dab4622 moved the extraction task's
    INSERT (an ORM-compiled `DBTaskResult.objects.create`) after the event, so for every upload
    of a type with an extractor (text/plain, ...) the namespace row, which serialises all
    writers of the namespace, is held across one more statement and its ORM compile. Before
    dab4622 the task was queued before `event_append` (dab4622^:attachments/services.py)."""
    session = tenant.session("h10-order")
    _upload(session, "first.txt", b"first\n")
    with CaptureQueriesContext(connection) as queries:
        attachment = _upload(session, "notes.txt", b"plain text to extract\n")
    assert attachment.mime_type.startswith("text/plain")
    assert _tasks()[-1] == [attachment.pk]  # an extractable type: a task was queued
    ran = [
        q["sql"]
        for q in queries.captured_queries
        if "SAVEPOINT" not in q["sql"] and q["sql"] != "COMMIT"
    ]
    event_at = max(i for i, sql in enumerate(ran) if 'INSERT INTO "sessions_app_event"' in sql)
    assert ran[event_at + 1 :] == [], "statements after the namespace's lock"


# --- the two rows, every field kind, parameters in order (pins) ---


def test_odd_values_of_every_field_through_the_combined_statement(tenant: Tenant) -> None:
    """Pin: every attachment column and every event payload column written by the combined
    statement (PostgreSQL) or the two inserts (SQLite) read back as the ORM's own create writes
    them: placeholders-looking text, quotes, unicode outside the BMP, the replacement
    character, maximum lengths, large integers, nested JSON. A parameter shifted by one between
    the row's values, the counter's id and the event's values would land in the wrong column
    or type."""
    session = tenant.session("h10-odd")
    staged = storage.write_stream(iter([b"odd\n"]))
    blob = Blob.objects.create(sha256=staged.sha256, size=staged.size)
    odd = "ü%s%(x)s'\"; --$1\\\t😀\ufffd"
    fields: dict[str, Any] = {
        "session": session,
        "blob": blob,
        "name": (odd * 30)[:255],
        "original_name": odd * 500,
        "mime_type": ("text/x-" + odd * 30)[:255],
        "size": 2**53 + 1,
        "sha256": "f" * 64,
        "source": "api",
        "workspace_path": ("w/" + odd * 100)[:1024],
        "description": odd * 2000 + "\n\r\n",
        "metadata": {
            "%s": "%(x)s",
            odd: [1, 2.5, None, True, False, -(2**62), {"deep": {"er": [odd]}}],
            "empty": {},
            "list": [],
            "$1": "$2",
        },
        "node_id": ("n" + odd * 30)[:255],
        "path": ("p/" + odd * 100)[:1024],
        "user_reference": ("u" + odd * 30)[:255],
        "index_status": IndexStatus.FAILED,
        "index_error": odd * 10,
    }
    payload: dict[str, Any] = {
        "attachment_id": "att_" + "a" * 32,
        "node_id": fields["node_id"],
        "path": fields["path"],
        "name": fields["name"],
        "size": 2**62,
        "mime": fields["mime_type"],
        "hash": "sha256:" + "f" * 64,
    }
    namespace = tenant.default_namespace()
    number = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    with transaction.atomic():
        reference = Attachment.objects.create(**fields)
        along = Attachment(**fields)
        event = event_append(
            session=session, kind=EventKind.ATTACHMENT_CREATED, along=along, **payload
        )
    skip = {"id", "uid", "created_at"}
    assert _stored(Attachment, along.pk, skip) == _stored(Attachment, reference.pk, skip)
    assert Attachment.objects.get(pk=along.pk).uid == along.uid
    stored = Event.objects.get(pk=event.pk)
    assert {name: getattr(stored, name) for name in payload} == payload
    assert (stored.session_id, stored.namespace_id, stored.session_public_id) == (
        session.pk,
        namespace.pk,
        "h10-odd",
    )
    assert stored.namespace_sequence == number + 1 == event.namespace_sequence
    assert stored.sequence == Session.objects.get(pk=session.pk).last_event_sequence


def test_the_statement_cache_keeps_with_and_without_along_apart(tenant: Tenant) -> None:
    """Pin: an event without a row, then one with, then one without again: each its own
    statement (the cache key has the row's model), each numbered in turn."""
    session = tenant.session("h10-cache")
    staged = storage.write_stream(iter([b"cache\n"]))
    blob = Blob.objects.create(sha256=staged.sha256, size=staged.size)
    seen: list[int] = []
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        for number in range(3):
            along = None
            if number == 1:
                along = Attachment(
                    session=session, blob=blob, name="c", mime_type="x/y", size=1, sha256="c" * 64
                )
            event = event_append(
                session=session, kind=EventKind.ATTACHMENT_CREATED, along=along, name=str(number)
            )
            seen.append(event.namespace_sequence)
            if along is not None:
                assert Attachment.objects.get(pk=along.pk).name == "c"
    assert seen == [seen[0], seen[0] + 1, seen[0] + 2]
    events = [q["sql"] for q in queries.captured_queries if "sessions_app_event" in q["sql"]]
    events = [sql for sql in events if sql.startswith(("INSERT", "WITH"))]
    assert len(events) == 3
    if connection.vendor == "postgresql":
        assert [("along AS" in sql) for sql in events] == [False, True, False]
        assert events[0] == events[2]
    else:
        assert not [sql for sql in events if "along AS" in sql]


# --- refused rows: nothing written, nothing kept (pins) ---


@pytest.mark.postgres
def test_a_refused_attachment_row_leaves_no_row_number_task_or_bytes(tenant: Tenant) -> None:
    """Pin (PostgreSQL, where varchar lengths are enforced): a value only the attachment row
    has (`user_reference`, 255) too long for its column makes the combined statement fail: the
    same DatabaseError the row's own INSERT raised before dab4622, and nothing is left: no
    attachment, no event, no number taken (session or namespace), no file counted, no task
    even for an extractable type, no blob row and no bytes."""
    namespace = tenant.default_namespace()
    session = tenant.session("h10-refused")
    before = _state(namespace, session)
    content = b"refused text, would be extracted\n"
    key = blob_key(storage.write_stream(iter([content])).sha256)
    storage.delete(key)
    with pytest.raises(DatabaseError, match="too long"):
        _upload(session, "refused.txt", content, user_reference="u" * 256)
    assert _state(namespace, session) == before
    assert not storage.exists(key)
    # The next upload takes the next numbers, without a gap.
    _upload(session, "after.txt", b"after\n")
    after = _state(namespace, session)
    assert (after[4], after[5], after[6]) == (before[4] + 1, before[5] + 1, before[6] + 1)


def test_an_event_pre_save_that_raises_after_the_rows_pre_save(
    tenant: Tenant, signal_log: list[tuple[str, str]]
) -> None:
    """Pin: a pre_save receiver of Event that raises, once the attachment's pre_save ran: the
    upload fails with that error, nothing is written or queued, no bytes kept, no post_save of
    the attachment (on PostgreSQL; on SQLite its post_save ran, as before dab4622) and the
    upload metric does not move (its on_commit is discarded with the rollback)."""
    from ops.metrics import UPLOAD_FILES

    namespace = tenant.default_namespace()
    session = tenant.session("h10-pre")
    before = _state(namespace, session)
    counted = UPLOAD_FILES.labels("attachment")._value.get()

    def refuse(sender: Any, instance: Any, **kwargs: Any) -> None:
        if instance.kind == EventKind.ATTACHMENT_CREATED:
            raise RuntimeError("event refused")

    pre_save.connect(refuse, sender=Event, weak=False, dispatch_uid="h10-refuse")
    signal_log.clear()
    try:
        with pytest.raises(RuntimeError, match="event refused"):
            _upload(session, "pre.txt", b"pre save refused text\n")
    finally:
        pre_save.disconnect(sender=Event, dispatch_uid="h10-refuse")
    assert _state(namespace, session) == before
    assert UPLOAD_FILES.labels("attachment")._value.get() == counted
    # A type with an extractor: its row is inserted on its own, before its task and its event,
    # on both databases (the namespace's lock stays last), so its post_save ran.
    assert signal_log == [
        ("pre_save", "Attachment"),
        ("post_save", "Attachment"),
        ("pre_save", "Event"),
    ]


def test_an_attachment_post_save_that_raises_leaves_no_task(tenant: Tenant) -> None:
    """Pin: the attachment's post_save raising (after the combined statement on PostgreSQL):
    the rows, the numbers and the task are all rolled back; the task is never queued."""
    namespace = tenant.default_namespace()
    session = tenant.session("h10-post")
    before = _state(namespace, session)

    def refuse(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        raise RuntimeError("post_save refused")

    post_save.connect(refuse, sender=Attachment, weak=False, dispatch_uid="h10-post-refuse")
    try:
        with pytest.raises(RuntimeError, match="post_save refused"):
            _upload(session, "post.txt", b"post save refused text\n")
    finally:
        post_save.disconnect(sender=Attachment, dispatch_uid="h10-post-refuse")
    assert _state(namespace, session) == before


# --- signals, the metric and the task on success (pins) ---


def test_an_upload_is_counted_once_and_queues_one_task_with_its_id(
    tenant: Tenant, signal_log: list[tuple[str, str]]
) -> None:
    """Pin: one extractable upload: the save signals once each in save()'s order per database,
    the upload metric moved by one only after the commit, one task whose argument is the
    attachment's id (not the event's)."""
    from ops.metrics import UPLOAD_FILES

    session = tenant.session("h10-count")
    counted = UPLOAD_FILES.labels("attachment")._value.get()
    in_transaction: list[float] = []
    signal_log.clear()
    with transaction.atomic():
        attachment = _upload(session, "count.txt", b"count me once\n")
        in_transaction.append(UPLOAD_FILES.labels("attachment")._value.get())
    assert in_transaction == [counted]
    assert UPLOAD_FILES.labels("attachment")._value.get() == counted + 1
    assert _tasks() == [[attachment.pk]]
    stored = Attachment.objects.get(pk=attachment.pk)
    assert (stored.uid, stored.name) == (attachment.uid, "count.txt")
    assert Event.objects.filter(attachment_id=attachment.attachment_id).count() == 1
    # The row on its own (its task needs its id and comes before the event), on both databases.
    assert signal_log == [
        ("pre_save", "Attachment"),
        ("post_save", "Attachment"),
        ("pre_save", "Event"),
        ("post_save", "Event"),
    ]


def test_the_mcp_upload_creates_its_session_row_event_and_task(tenant: Tenant) -> None:
    """Pin: the MCP `upload_attachment` into a session it creates: the session's event then
    the attachment's, numbered in turn in the session and the namespace, one task with the
    attachment's id."""
    namespace = tenant.default_namespace()
    number = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    principal = principal_for_key(authenticate_raw_key(tenant.owner_key))  # type: ignore[arg-type]
    answer = mcp_operations.upload_attachment(
        principal, {"session_id": "h10-mcp", "name": "mcp.txt", "content": "from mcp ü\n"}
    )
    attachment = Attachment.objects.get(
        uid=parse_attachment_id(answer["attachment"]["attachment_id"])
    )
    session = attachment.session
    log = list(
        Event.objects.filter(session=session)
        .order_by("sequence")
        .values_list("sequence", "namespace_sequence", "kind", "attachment_id")
    )
    assert [row[0] for row in log] == list(range(1, len(log) + 1))
    assert [row[1] for row in log] == list(range(number + 1, number + len(log) + 1))
    assert log[-1][2:] == (EventKind.ATTACHMENT_CREATED, attachment.attachment_id)
    assert _tasks() == [[attachment.pk]]
    assert Session.objects.get(pk=session.pk).file_count == 1


# --- concurrency (PostgreSQL) ---


@pytest.mark.postgres
def test_concurrent_extractable_uploads_into_one_session_and_two_of_a_namespace(
    tenant: Tenant,
) -> None:
    """Pin (PostgreSQL): four writers, 60 text uploads (each with its task after the event)
    into one session and two sessions of one namespace at once: no deadlock or other error,
    session logs and the namespace feed numbered 1..n without gaps, each attachment its one
    event and its one task, file counts right."""
    namespace = tenant.default_namespace()
    sessions = [tenant.session(f"h10-race-{n}") for n in range(3)]
    first = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    jobs = [
        functools.partial(
            _upload, sessions[n % 3] if n % 2 else sessions[0], f"r{n}.txt", f"race {n}\n".encode()
        )
        for n in range(60)
    ]
    errors = run_jobs(jobs, workers=4)
    assert errors == []
    feed = list(
        Event.objects.filter(namespace=namespace)
        .order_by("namespace_sequence")
        .values_list("namespace_sequence", flat=True)
    )
    assert feed == list(range(1, len(feed) + 1))
    assert feed[-1] == first + 60 == Namespace.objects.get(pk=namespace.pk).last_event_sequence
    for session in sessions:
        log = list(
            Event.objects.filter(session=session)
            .order_by("sequence")
            .values_list("sequence", flat=True)
        )
        assert log == list(range(1, len(log) + 1))
        row = Session.objects.get(pk=session.pk)
        assert row.last_event_sequence == len(log)
        assert row.file_count == Attachment.objects.filter(session=session).count()
    created = Attachment.objects.filter(session__in=sessions)
    assert created.count() == 60
    ids = set(created.values_list("pk", flat=True))
    assert sorted(args[0] for args in _tasks()) == sorted(ids)
    public = set(
        Event.objects.filter(kind=EventKind.ATTACHMENT_CREATED).values_list(
            "attachment_id", flat=True
        )
    )
    assert public == {a.attachment_id for a in created}


def test_a_long_unicode_name_with_nul(tenant: Tenant) -> None:
    """Pin: a 600-character name of two-byte characters with NULs: the stored name fits its
    column, the original keeps U+FFFD where the NULs were, and the event carries the same
    name as the row."""
    session = tenant.session("h10-long")
    original = ("ü\x00" * 300) + ".txt"
    attachment = _upload(session, original, b"long name text\n")
    stored = Attachment.objects.get(pk=attachment.pk)
    assert len(stored.name) <= 255 and "\x00" not in stored.name
    assert stored.original_name == original.replace("\x00", "\ufffd")
    event = Event.objects.get(attachment_id=attachment.attachment_id)
    assert event.name == stored.name


def test_the_tus_attachment_target_writes_its_row_event_and_task(
    tenant: Tenant, owner: Any
) -> None:
    """Pin: a tus creation-with-upload into a session (artifacts/tus/targets.py): its answer
    names the attachment, which has its one event (numbered next in the namespace) and one
    task with its id."""
    import base64

    def meta(**values: str) -> str:
        return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())

    namespace = tenant.default_namespace()
    number = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    tenant.session("h10-tus")
    answer = owner.generic(
        "POST",
        "/api/tus/",
        data=b"tus text ",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_LENGTH="9",
        HTTP_UPLOAD_METADATA=meta(session_id="h10-tus", filename="tus.txt", description="d ü"),
        HTTP_TUS_RESUMABLE="1.0.0",
    )
    assert answer.status_code == 201, answer.content
    attachment = Attachment.objects.get(uid=parse_attachment_id(answer["Depot-Result-Id"]))
    assert (attachment.name, attachment.description) == ("tus.txt", "d ü")
    event = Event.objects.get(attachment_id=attachment.attachment_id)
    assert event.namespace_sequence == number + 1
    assert _tasks() == [[attachment.pk]]
