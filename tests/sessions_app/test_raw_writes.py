"""`sessions_app.raw_writes.insert` writes the row `Model.objects.create` writes (an upload's
attachment row goes through it): the same stored values, defaults and `auto_now_add` applied,
the instance marked saved, and the save signals sent (the upload metrics count on them)."""

from typing import Any

import pytest
from django.db import transaction
from django.db.models.signals import post_save, pre_save

from attachments import storage
from attachments.models import Attachment, Blob, IndexStatus
from sessions_app import raw_writes, services
from sessions_app.models import DEFAULT_NAMESPACE, Namespace
from tests.support import Tenant
from tests.support.signals import save_signals

pytestmark = pytest.mark.django_db


def _stored(pk: int) -> dict[str, Any]:
    row = Attachment.objects.get(pk=pk)
    skip = {"id", "uid", "created_at"}
    return {
        f.attname: getattr(row, f.attname)
        for f in Attachment._meta.concrete_fields
        if f.attname not in skip
    }


def test_the_same_row_as_create(tenant: Tenant) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    session = services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="raw-insert"
    )
    staged = storage.write_stream(iter([b"raw insert\n"]))
    blob = Blob.objects.create(sha256=staged.sha256, size=staged.size)
    fields: dict[str, Any] = {
        "session": session,
        "blob": blob,
        "name": "ü notes.txt",
        "original_name": "dir/ü notes.txt",
        "mime_type": "text/plain",
        "size": staged.size,
        "sha256": staged.sha256,
        "metadata": {"nested": {"list": [1, "two", None]}, "ü": 1.5},
        "node_id": "runner",
        "path": "out/notes.txt",
        "index_status": IndexStatus.FAILED,
        "index_error": "no text extractor for x",
    }
    signals: list[tuple[str, bool | None]] = []

    def before(sender: Any, instance: Any, **kwargs: Any) -> None:
        signals.append(("pre_save", None))

    def after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        signals.append(("post_save", created))
        assert instance.pk is not None and kwargs["using"] == "default"

    pre_save.connect(before, sender=Attachment, dispatch_uid="test-raw-before")
    post_save.connect(after, sender=Attachment, dispatch_uid="test-raw-after")
    try:
        with transaction.atomic():
            created = Attachment.objects.create(**fields)
            inserted = raw_writes.insert(Attachment(**fields))
    finally:
        pre_save.disconnect(dispatch_uid="test-raw-before", sender=Attachment)
        post_save.disconnect(dispatch_uid="test-raw-after", sender=Attachment)
    assert signals == [("pre_save", None), ("post_save", True)] * 2
    assert inserted.pk is not None and inserted.pk != created.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    assert _stored(inserted.pk) == _stored(created.pk)
    again = Attachment.objects.get(pk=inserted.pk)
    assert again.uid == inserted.uid and again.created_at == inserted.created_at
    assert again.created_at.tzinfo is not None
    # Defaults the caller did not pass, as create leaves them.
    assert (again.purged, again.content_text, again.description, again.source) == (
        False,
        "",
        "",
        created.source,
    )


def test_a_saved_upload_is_counted_once_committed(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    from ops.metrics import UPLOAD_FILES

    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    session = services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="raw-count"
    )
    before = UPLOAD_FILES.labels("attachment")._value.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        raw_writes.insert(
            Attachment(session=session, name="a", mime_type="text/plain", size=1, sha256="0" * 64)
        )
    assert len(callbacks) == 1
    assert UPLOAD_FILES.labels("attachment")._value.get() == before + 1


def _attachment_of(session: Any, name: str) -> Attachment:
    return Attachment(
        session=session, name=name, mime_type="text/plain", size=1, sha256="1" * 64, path="p"
    )


def test_an_event_and_the_row_it_is_about_in_one_statement(tenant: Tenant) -> None:
    """`event_append(along=row)`: on PostgreSQL the row's INSERT is part of the event's own
    statement (one round trip: the row, the namespace's number, the event); on SQLite it is
    inserted just before. Either way both rows are written with their ids and defaults, and
    each sends its save signals."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions_app.events import event_append
    from sessions_app.models import Event, EventKind

    namespace = tenant.default_namespace()
    session = tenant.session("raw-along", namespace)
    on_postgres = connection.vendor == "postgresql"
    first_number = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    with (
        save_signals(Attachment, Event) as log,
        transaction.atomic(),
        CaptureQueriesContext(connection) as queries,
    ):
        along = _attachment_of(session, "along")
        event = event_append(
            session=session, kind=EventKind.ATTACHMENT_CREATED, along=along, name="along"
        )
    assert along.pk is not None and event.pk is not None
    assert not along._state.adding and along._state.db == "default"
    stored_row = Attachment.objects.get(pk=along.pk)
    assert (stored_row.uid, stored_row.name, stored_row.path) == (along.uid, "along", "p")
    assert stored_row.created_at == along.created_at is not None
    stored = Event.objects.get(pk=event.pk)
    assert stored.namespace_sequence == first_number + 1 == event.namespace_sequence
    assert stored.session_id == session.pk and stored.kind == EventKind.ATTACHMENT_CREATED
    inserts = [q["sql"] for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    if on_postgres:
        assert len(inserts) == 1 and "along AS (INSERT INTO" in inserts[0], inserts
        assert log == [
            ("pre_save", "Attachment"),
            ("pre_save", "Event"),
            ("post_save", "Attachment"),
            ("post_save", "Event"),
        ]
    else:
        assert len(inserts) == 2, inserts
        assert log == [
            ("pre_save", "Attachment"),
            ("post_save", "Attachment"),
            ("pre_save", "Event"),
            ("post_save", "Event"),
        ]


def test_a_row_that_fails_takes_its_event_with_it(tenant: Tenant) -> None:
    """The row refused by the database (here a second row with the same public id): neither
    row is written, the namespace's number does not move, and no `post_save` is sent."""
    from django.db import IntegrityError

    from sessions_app.events import event_append
    from sessions_app.models import Event, EventKind

    namespace = tenant.default_namespace()
    session = tenant.session("raw-along-bad", namespace)
    taken = raw_writes.insert(_attachment_of(session, "first"))
    number = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    events = Event.objects.count()
    attachments = Attachment.objects.count()
    with (
        save_signals(Attachment, Event) as log,
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        duplicate = _attachment_of(session, "duplicate")
        duplicate.uid = taken.uid
        event_append(session=session, kind=EventKind.ATTACHMENT_CREATED, along=duplicate, name="x")
    assert not [entry for entry in log if entry[0] == "post_save"], log
    assert Event.objects.count() == events and Attachment.objects.count() == attachments
    assert Namespace.objects.get(pk=namespace.pk).last_event_sequence == number
