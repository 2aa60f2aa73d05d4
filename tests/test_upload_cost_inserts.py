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
from sessions_app import raw_reads, raw_writes, services
from sessions_app.models import ApiKey, ChangeType, Event, EventKind, Namespace, Session
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

    with raw_reads.cursor(connection) as cursor:
        assert type(cursor.cursor) is psycopg.Cursor


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _an_upload(tenant: Tenant, session_id: str) -> None:
    from attachments import storage
    from attachments.services import attachment_create
    from sessions_app.principals import authenticate_raw_key, principal_for_key

    key = authenticate_raw_key(tenant.owner_key)
    assert key is not None
    principal = principal_for_key(key)
    attachment_create(
        session_lookup=lambda: services.session_get_or_create_by_id(
            principal=principal, session_id=session_id
        ),
        staged=storage.write_stream(iter([session_id.encode()])),
        original_name="a.bin",
    )


def test_postgres_prepares_none_of_an_uploads_statements(tenant: Tenant) -> None:
    """Bound on the server but never prepared, with Depot's pool or without: a prepared
    statement outlives a migration that changes a column it reads, and PostgreSQL then refuses
    it on that connection until the connection closes (tests/test_hostile_session9_prepare.py).
    The key read and every statement of an upload run, and none is in pg_prepared_statements."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite plans each statement in-process")
    with CaptureQueriesContext(connection) as queries:
        _an_upload(tenant, "prep-1")  # makes the session
        _an_upload(tenant, "prep-1")
    ran = [query["sql"] for query in queries.captured_queries]
    wanted = {
        "the key": "FROM " + raw_reads.table(ApiKey, connection),
        "the session lookup": "INNER JOIN " + raw_reads.table(Namespace, connection),
        "the blob": "INSERT INTO attachments_blob",
        "the session's counter": "SET file_count = file_count + 1",
        "the attachment": "INSERT INTO " + raw_reads.table(Attachment, connection),
        "the event": "counter AS (UPDATE",
    }
    assert [name for name, text in wanted.items() if not any(text in sql for sql in ran)] == []
    assert _prepared() == []
    assert connection.connection.prepare_threshold is None
