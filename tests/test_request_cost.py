"""Per-request cost (issue 11): what a small request costs the server, pinned.

Requests go through the real ASGI application in process (the request gate, the upload
middleware, Django). Statements are counted on every thread's connection (the request's sync
work runs on the kept threads of config/threads.py, not on the test's), by recording each SQL
statement Django's cursor wrapper executes."""

import asyncio
import importlib
import threading
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps as django_apps
from django.db import connection
from django.db.backends import utils as backend_utils
from django.db.backends.signals import connection_created

from attachments.api.serializers import AttachmentListItem
from attachments.locks import INSERT_BLOB
from attachments.models import Attachment, Blob
from config import loop_reads
from config.sqlite.base import WriterQueue
from config.threads import SyncThreads
from sessions_app.models import Session
from tests.conftest import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


class Statements:
    """Every SQL statement executed while recording, on any thread: Django's in `sql`, those
    of the event loop's own reads (config/loop_reads.py) in `loop`; `on` counts both."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.loop: list[str] = []
        self.recording = False
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.sql.clear()
            self.loop.clear()

    def on(self, table: str) -> list[str]:
        return [sql for sql in [*self.sql, *self.loop] if table in sql]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statements]:
    recorded = Statements()
    execute = backend_utils.CursorWrapper._execute
    execute_many = backend_utils.CursorWrapper._executemany

    def recording_execute(self: Any, sql: str, params: Any, *ignored: Any) -> Any:
        with recorded._lock:
            recorded.sql.append(sql)
        return execute(self, sql, params, *ignored)

    def recording_execute_many(self: Any, sql: str, param_list: Any, *ignored: Any) -> Any:
        with recorded._lock:
            recorded.sql.append(sql)
        return execute_many(self, sql, param_list, *ignored)

    monkeypatch.setattr(backend_utils.CursorWrapper, "_execute", recording_execute)
    monkeypatch.setattr(backend_utils.CursorWrapper, "_executemany", recording_execute_many)
    monkeypatch.setattr(loop_reads, "observers", [*loop_reads.observers, recorded.loop.append])
    yield recorded


def _session_id() -> str:
    return f"cost-{uuid.uuid4().hex[:10]}"


# --- threads and connections ---


def test_sync_work_of_a_request_runs_on_a_kept_thread() -> None:
    """Every thread-sensitive call of one request runs on one thread, and requests reuse a
    fixed set of threads (asgiref's default is a new thread per request)."""
    threads = SyncThreads(2)

    async def one_request() -> set[int]:
        async with threads.bound_thread():
            first = await sync_to_async(threading.get_ident)()
            second = await sync_to_async(threading.get_ident)()
        return {first, second}

    async def many() -> list[set[int]]:
        return await asyncio.gather(*(one_request() for _ in range(20)))

    seen = asyncio.run(many())
    assert all(len(idents) == 1 for idents in seen)
    assert len(set().union(*seen)) <= 2
    assert threads.bound == [0, 0]


def test_requests_open_no_database_connection(
    tenant: Tenant, asgi_owner: AsgiClient, on_postgres: bool
) -> None:
    """After the kept threads have connected once, requests open no connection (SQLite). On
    PostgreSQL Django takes a connection from the pool per request, which is the pool's job."""
    if on_postgres:
        pytest.skip("PostgreSQL connections come from the pool (DEPOT_DB_POOL)")
    session_id = _session_id()
    assert asgi_owner.upload(f"/api/uploads/{session_id}", b"warm-up").status_code == 201
    for _ in range(8):  # every kept thread connects once
        assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    opened: list[Any] = []

    def on_created(sender: Any, connection: Any, **kwargs: Any) -> None:
        opened.append(connection)

    connection_created.connect(on_created)
    try:
        for number in range(10):
            uploaded = asgi_owner.upload(f"/api/uploads/{session_id}", b"%d" % number)
            assert uploaded.status_code == 201
            assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
            assert asgi_owner.get("/healthz").status_code == 200
    finally:
        connection_created.disconnect(on_created)
    assert opened == []


def test_healthz_makes_few_thread_hops(
    asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The middleware chain and the view run in one hop to the request's thread (Django's own
    handler made one per middleware method, 14 more)."""
    from asgiref import sync

    hops: list[Any] = []
    original = sync.SyncToAsync.__call__

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    # A query string takes /healthz past the gate's own answer, to Django's view.
    assert asgi_owner.get("/healthz?through=django").status_code == 200
    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    assert asgi_owner.get("/healthz?through=django").status_code == 200
    # request_started's receivers, the chain with the view, response.close (request_finished)
    assert len(hops) <= 3, hops
    hops.clear()
    assert asgi_owner.get("/healthz").status_code == 200
    assert hops == []


def test_the_gates_healthz_is_djangos(asgi_owner: AsgiClient) -> None:
    """The gate answers a plain `/healthz` itself with what Django's view and middleware
    answer (reached with a query string, through the same outer layers): status, body and
    every header."""
    fast = asgi_owner.get("/healthz")
    django_answer = asgi_owner.get("/healthz?through=django")
    assert fast.status_code == django_answer.status_code == 200
    assert fast.content == django_answer.content

    def comparable(response: Any) -> list[tuple[str, str]]:
        # A request id is each answer's own (config/observability.py, when present).
        return sorted((k.lower(), v) for k, v in response.headers.items() if k != "x-request-id")

    assert comparable(fast) == comparable(django_answer)
    # What only Django decides stays Django's: a host outside ALLOWED_HOSTS, another method.
    assert asgi_owner.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert asgi_owner.post("/healthz").status_code == 403


# --- the list ---


def test_list_answers_the_serializers_shape(
    tenant: Tenant, asgi_owner: AsgiClient, statements: Statements
) -> None:
    session_id = _session_id()
    for number in range(5):
        response = asgi_owner.upload(
            f"/api/uploads/{session_id}", b"item %d" % number, name=f"n{number}.txt"
        )
        assert response.status_code == 201
    statements.clear()
    first = asgi_owner.get(f"/api/uploads/{session_id}?limit=3").json()
    assert len(statements.on("attachments_attachment")) == 1
    second = asgi_owner.get(f"/api/uploads/{session_id}?limit=3&cursor={first['next_cursor']}")
    rows = list(Attachment.objects.filter(session__session_id=session_id).order_by("-id"))
    assert first["attachments"] == AttachmentListItem(rows[:3], many=True).data
    assert first["has_more"] is True
    page = second.json()
    assert page["attachments"] == AttachmentListItem(rows[3:], many=True).data
    assert page["has_more"] is False and page["next_cursor"] is None


def test_list_statements(tenant: Tenant, asgi_owner: AsgiClient, statements: Statements) -> None:
    session_id = _session_id()
    assert asgi_owner.upload(f"/api/uploads/{session_id}", b"x").status_code == 201
    statements.clear()
    assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    # The key (one read; its last-used stamp is written at most once a minute), the session,
    # the page: on the event loop's own connection (config/loop_reads.py), none on Django's.
    assert statements.loop and statements.sql == []
    assert len(statements.on("sessions_app_apikey")) == 1
    assert len(statements.on("attachments_attachment")) == 1
    assert not [sql for sql in statements.sql if "SAVEPOINT" in sql]


# --- uploads ---


def test_upload_statements(
    tenant: Tenant, asgi_owner: AsgiClient, statements: Statements, on_postgres: bool
) -> None:
    """A second upload into a session: one blob INSERT (ON CONFLICT), the counter's UPDATE
    instead of a COUNT(*), no extraction task for bytes nothing extracts."""
    url = f"/api/uploads/{_session_id()}"
    assert asgi_owner.upload(url, b"first").status_code == 201
    statements.clear()
    assert asgi_owner.upload(url, b"\x00\x01 binary, nothing extracts").status_code == 201
    # The key and the session it names are one statement on the event loop's own connection
    # (config/loop_keys.usable_key), before the body is read.
    on_loop = statements.loop
    assert len(on_loop) == 1 and "sessions_app_apikey" in on_loop[0], on_loop
    assert "sessions_app_session" in on_loop[0]
    statements.loop = []  # Django's connection's statements from here on
    assert not statements.on("sessions_app_apikey"), "the key was read on Django's connection"
    assert not [sql for sql in statements.sql if "COUNT(" in sql]
    blob = statements.on("attachments_blob")
    assert len(blob) == 1 and "ON CONFLICT" in blob[0]
    assert not statements.on("django_tasks")
    assert len(statements.on("attachments_attachment")) == 1
    counter = [sql for sql in statements.on("file_count") if sql.startswith("UPDATE")]
    assert len(counter) == 1
    # The two event sequences: one UPDATE ... RETURNING each, no locked read before them; the
    # session's is the counter's own statement, which also reads the organization's quota.
    # On PostgreSQL the namespace's is taken by the event's INSERT itself (raw_writes.
    # insert_numbered), one round trip fewer, and the attachment's INSERT is that statement's
    # first part, one fewer again.
    sequences = [
        sql
        for sql in statements.sql
        if sql.startswith(("UPDATE", "WITH")) and "last_event_sequence" in sql
    ]
    assert len(sequences) == 2 and all("RETURNING" in sql for sql in sequences), sequences
    events = statements.on('INSERT INTO "sessions_app_event"')
    assert len(events) == 1 and (("counter AS (UPDATE" in events[0]) == on_postgres)
    assert (statements.on("attachments_attachment") == events) == on_postgres
    assert ("along AS (INSERT INTO" in events[0]) == on_postgres
    assert "last_event_sequence + 1" in counter[0] and "storage_quota_bytes" in counter[0]
    assert not [
        sql for sql in statements.on('FROM "sessions_app_organization"') if sql.startswith("SELECT")
    ]
    assert not [sql for sql in statements.on("sessions_app_namespace") if "FOR UPDATE" in sql]
    # The session is locked once, by its counter's UPDATE ... RETURNING of the row the gate
    # read with the key, and not read in the write at all.
    assert not [sql for sql in statements.on("sessions_app_session") if "FOR UPDATE" in sql]
    assert not [sql for sql in statements.on("sessions_app_session") if sql.startswith("SELECT")]
    # Into an existing session, the key's default namespace is not read at all.
    assert not statements.on('FROM "sessions_app_namespace"'), statements.sql
    # The write on Django's connection, COMMIT not counted: the blob; the session's counter,
    # lock, event number and the quota; the attachment; the namespace's sequence and the
    # event (the last three one statement on PostgreSQL). SQLite's writers also send BEGIN
    # IMMEDIATE. (The key and the session's lookup, 2 more here until the loop read them.)
    assert len(statements.sql) == (3 if on_postgres else 6), statements.sql


def test_same_bytes_again_take_the_stored_blob(
    tenant: Tenant, asgi_owner: AsgiClient, statements: Statements
) -> None:
    url = f"/api/uploads/{_session_id()}"
    assert asgi_owner.upload(url, b"same bytes").status_code == 201
    statements.clear()
    assert asgi_owner.upload(url, b"same bytes").status_code == 201
    blob = statements.on("attachments_blob")
    # The insert meets the stored row and does nothing; then the row is read (and locked).
    assert len(blob) == 2 and "ON CONFLICT" in blob[0]
    assert Blob.objects.count() == 1
    assert Attachment.objects.filter(blob__isnull=False).count() == 2


def test_file_counter_follows_uploads_and_deletes(
    tenant: Tenant, asgi_owner: AsgiClient, settings: Any
) -> None:
    session_id = _session_id()
    url = f"/api/uploads/{session_id}"
    ids = [asgi_owner.upload(url, b"file %d" % n).json()["attachment_id"] for n in range(3)]
    assert asgi_owner.delete(f"{url}/{ids[0]}").status_code == 204
    session = Session.objects.get(session_id=session_id)
    assert session.file_count == 2 == Attachment.objects.filter(session=session).count()
    settings.DEPOT_MAX_FILES_PER_SESSION = 3
    assert asgi_owner.upload(url, b"third").status_code == 201
    refused = asgi_owner.upload(url, b"fourth")
    assert refused.status_code == 409
    session.refresh_from_db()
    assert session.file_count == 3 == Attachment.objects.filter(session=session).count()


def test_the_migration_counts_existing_files(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    url = f"/api/uploads/{_session_id()}"
    for number in range(2):
        assert asgi_owner.upload(url, b"file %d" % number).status_code == 201
    Session.objects.update(file_count=0)
    migration = importlib.import_module("attachments.migrations.0003_count_session_files")
    migration.count_files(django_apps, SimpleNamespace(connection=connection))
    assert [s.file_count for s in Session.objects.all()] == [2]


def test_insert_blob_names_the_models_table_and_columns() -> None:
    assert Blob._meta.db_table in INSERT_BLOB
    for column in ("sha256", "size", "created_at"):
        assert Blob._meta.get_field(column).column in INSERT_BLOB


# --- SQLite's writer queue ---


def test_writer_queue_serves_in_arrival_order_and_hands_over_at_once() -> None:
    queue = WriterQueue()
    assert queue.acquire(timeout=1)
    served: list[int] = []
    waited: list[float] = []

    def writer(number: int) -> None:
        asked = time.monotonic()
        assert queue.acquire(timeout=10)
        waited.append(time.monotonic() - asked)
        served.append(number)
        queue.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        time.sleep(0.02)  # each waits before the next arrives
    handed_at = time.monotonic()
    queue.release()
    for thread in threads:
        thread.join(10)
    assert served == [0, 1, 2, 3, 4]
    # Woken by the release, not by a sleeping retry: all five within moments of it.
    assert time.monotonic() - handed_at < 0.5
    # A writer that cannot get a turn in time fails as SQLite's own lock would.
    assert queue.acquire(timeout=1)
    assert not queue.acquire(timeout=0.05)
    queue.release()
    assert queue.acquire(timeout=0.05)
    queue.release()


def test_sqlite_writers_queue_in_process(tenant: Tenant, on_postgres: bool) -> None:
    """Eight threads writing at once on the embedded default: every write commits, and each
    writer starts within moments of the previous commit (SQLite's busy handler slept up to
    100 ms between looks)."""
    if on_postgres:
        pytest.skip("PostgreSQL has row locks and no writer queue")
    from django.db import close_old_connections, connection, connections, transaction

    from sessions_app.models import Organization

    assert type(connections["default"]).__module__ == "config.sqlite.base"
    gaps: list[float] = []
    ended = [time.monotonic()]
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        try:
            for step in range(5):
                with transaction.atomic():
                    began = time.monotonic()
                    with lock:
                        gaps.append(began - ended[0])
                    Organization.objects.filter(pk=tenant.organization.pk).update(
                        name=f"writer {number} step {step}"
                    )
                    time.sleep(0.005)
                with lock:
                    ended[0] = time.monotonic()
        except BaseException as error:
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(gaps) == 40
    assert sorted(gaps)[-2] < 0.05, sorted(gaps)[-5:]


def test_a_session_deleted_after_its_lookup_is_a_404(tenant: Tenant) -> None:
    """The upload's one session lock is its counter's UPDATE: a session gone between the
    lookup and that statement is a 404 (as the locked read made it), and nothing is kept."""
    from django.db import transaction

    from attachments.models import Attachment, Blob
    from attachments.services import attachment_create
    from attachments.storage import write_stream
    from sessions_app.errors import NotFound
    from sessions_app.models import DEFAULT_NAMESPACE, Event, Namespace
    from sessions_app.services import session_create

    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    session = session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id=_session_id()
    )

    def lookup() -> Session:
        found = Session.objects.get(pk=session.pk)
        Session.objects.filter(pk=session.pk).delete()
        return found

    staged = write_stream(iter([b"gone before the lock"]))
    events_before = Event.objects.count()
    with pytest.raises(NotFound):
        attachment_create(session_lookup=lookup, staged=staged, original_name="a.bin")
    assert not transaction.get_connection().in_atomic_block
    assert Session.objects.filter(pk=session.pk).exists()  # the delete rolled back with it
    assert not Attachment.objects.filter(session_id=session.pk).exists()
    assert Event.objects.count() == events_before
    assert not Blob.objects.filter(sha256=staged.sha256).exists()
