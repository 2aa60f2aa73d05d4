"""The upload path's prepared inserts (sessions_app/raw_writes.py) write the rows the ORM
wrote, on both profiles: on PostgreSQL their values are bound on the server (issue 11), so JSON,
UUIDs, big integers, aware datetimes, booleans, NULLs and non-ASCII text must all arrive as
they were given, and each insert is still one counted statement."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attachments.models import Attachment, Blob
from sessions_app import raw_writes, services
from sessions_app.models import ChangeType, Event, EventKind, Session
from tests.support import Tenant

pytestmark = pytest.mark.django_db

METADATA = {
    "nested": {"list": [1, 2.5, None, True, "ü"], "empty": {}},
    "emoji": "\U0001f600",
    "quote": 'it\'s "quoted" \\ back',
    "big": 2**62,
}


def _session(tenant: Tenant) -> Session:
    namespace = tenant.workspace.namespaces.first()
    return services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="ins-1"
    )


def test_an_attachment_row_reads_back_as_written(tenant: Tenant) -> None:
    session = _session(tenant)
    blob = Blob.objects.create(sha256="a" * 64, size=2**40)
    uid = uuid.uuid4()
    made = Attachment(
        uid=uid,
        session=session,
        blob=blob,
        name="résumé – final.txt",
        original_name="dir\\résumé – final.txt",
        mime_type="text/plain; charset=utf-8",
        size=2**40,
        sha256="a" * 64,
        description="line one\nline two ' ; -- not SQL",
        metadata=METADATA,
        node_id="n-1",
        path="a/b/c.txt",
    )
    with CaptureQueriesContext(connection) as queries:
        raw_writes.insert(made)
    assert len(queries) == 1
    assert made.pk is not None and made._state.adding is False
    row = Attachment.objects.get(pk=made.pk)
    assert row.uid == uid
    assert (row.session_id, row.blob_id, row.size) == (session.pk, blob.pk, 2**40)
    assert row.name == "résumé – final.txt"
    assert row.original_name == "dir\\résumé – final.txt"
    assert row.description == "line one\nline two ' ; -- not SQL"
    assert row.metadata == METADATA
    assert (row.purged, row.index_status, row.content_text) == (False, "pending", "")
    assert row.created_at == made.created_at
    assert row.created_at.tzinfo is not None


def test_an_event_row_reads_back_as_written(tenant: Tenant) -> None:
    session = _session(tenant)
    when = dt.datetime(2026, 12, 1, 23, 59, 59, 123456, tzinfo=dt.UTC)
    made = Event(
        event_id=Event.mint_id(),
        session_id=session.pk,
        session_public_id=session.session_id,
        sequence=None,
        namespace_id=session.namespace_id,
        namespace_sequence=2**53,
        kind=EventKind.ATTACHMENT_CREATED,
        change_type=ChangeType.CREATED,
        attachment_id="f-x",
        node_id=None,
        path=None,
        name="ü",
        size=0,
        mime="application/octet-stream",
        hash="sha256:" + "0" * 64,
        created_at=when,
    )
    with CaptureQueriesContext(connection) as queries:
        raw_writes.insert(made)
    assert len(queries) == 1
    row = Event.objects.get(pk=made.pk)
    assert (row.sequence, row.node_id, row.path, row.size) == (None, None, None, 0)
    assert (row.namespace_sequence, row.name, row.created_at) == (2**53, "ü", when)
    assert (row.kind, row.change_type) == (EventKind.ATTACHMENT_CREATED, ChangeType.CREATED)


def test_postgres_binds_on_the_server() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no client-side binding to avoid")
    import psycopg

    with raw_writes._cursor(connection) as cursor:
        assert type(cursor.cursor) is psycopg.Cursor
