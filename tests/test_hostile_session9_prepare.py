"""Hostile review of 25f9895/edece65: `raw_reads.cursor` bound on the server and, where Depot
pooled its own connections (DEPOT_DB_POOL), set psycopg's `prepare_threshold = 0` on the
connection, so the key read, the default-namespace read, `session_find`, the quota read, the
counters of sessions_app/locks.py, `blob_for_update` and the raw inserts were prepared on their
first run on each pooled connection.

Found here, on PostgreSQL: a column those statements read, widened by another process (a
migration's AlterField during a rolling deploy), made each prepared statement fail with "cached
plan must not change result type" (the key read, in autocommit, on that pooled connection for
as long as the pool kept it); and a DEALLOCATE ALL or DISCARD ALL run twice on a connection left
psycopg believing in statements the server no longer had. So nothing is prepared any more
(`raw_reads.cursor` only binds on the server), and these tests stay as the guard.

What must hold: a prepared statement gives the answer the unprepared one gave, and never an
error the unprepared one would not have given; psycopg's record of what is prepared on a
connection agrees with the server's (a name it believes prepared that the server does not have
is an error on every later run on that connection, which the pool keeps handing out; a name
the server holds that psycopg forgot is never deallocated); behind a pooler (DEPOT_DB_POOL=0)
nothing is prepared.

Most of this is PostgreSQL-only (`postgres` marker); the rest runs on both profiles."""

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from attachments import storage
from attachments.models import Attachment
from attachments.services import attachment_create
from config import loop_reads
from sessions_app import locks, raw_reads, raw_writes, selectors
from sessions_app import services as session_services
from sessions_app.events import log as event_log
from sessions_app.models import (
    ApiKey,
    Event,
    EventKind,
    Namespace,
    Organization,
    Session,
    Workspace,
)
from sessions_app.principals import (
    Principal,
    api_key_by_prefix,
    authenticate_raw_key,
    default_namespace_of,
    principal_for_key,
)
from tests.support import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


# --- helpers ---


def _pooled() -> bool:
    return bool(connection.settings_dict["OPTIONS"].get("pool"))


def _elsewhere() -> Any:
    """A connection of another process's (a migration, an admin's psql): autocommit, and it
    gives up on a lock after 5 s instead of hanging the run."""
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        autocommit=True,
        options="-c lock_timeout=5000",
    )


def _run_elsewhere(*statements: str) -> None:
    with _elsewhere() as other:
        for sql in statements:
            other.execute(sql)  # type: ignore[arg-type]


def _server_names(raw: Any) -> set[str]:
    """The statements the server holds prepared for this psycopg connection (read on it
    unprepared: psycopg's `prepare=False` neither prepares nor counts the statement)."""
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT name FROM pg_prepared_statements", prepare=False)
        return {row[0] for row in cursor.fetchall()}
    finally:
        cursor.close()


def _psycopg_names(raw: Any) -> set[str]:
    """The statements psycopg believes prepared on this connection (its own record)."""
    return {name.decode() for name in raw._prepared._names.values()}


def _consistent(raw: Any) -> tuple[set[str], set[str]]:
    """(names psycopg would run that the server does not have, names the server holds that
    psycopg forgot): both empty when the two agree."""
    server, believed = _server_names(raw), _psycopg_names(raw)
    return believed - server, server - believed


def _pool_disagreements() -> list[tuple[set[str], set[str]]]:
    """`_consistent` of every connection idle in Depot's pool (all taken at once, so each is
    seen once, then given back), those that disagree."""
    pool = connection.pool
    taken = []
    try:
        for _ in range(pool.get_stats().get("pool_available", 0)):
            taken.append(pool.getconn(timeout=5))
        found = [_consistent(raw) for raw in taken]
    finally:
        for raw in taken:
            pool.putconn(raw)
    return [pair for pair in found if pair != (set(), set())]


@pytest.fixture
def fresh_connections() -> Iterator[None]:
    """Whatever a test leaves prepared (or half-prepared) goes with its connections: the
    test's own, the pool's and the loop's are closed after it, so no later test takes a
    connection whose psycopg record is stale."""
    yield
    loop_reads.close_all()
    connection.close()
    if _pooled():
        connection.close_pool()


def _varchar(model: type[models.Model], field: str) -> tuple[str, str, int]:
    """(table, column, max_length) of a CharField, quoted for SQL."""
    found = model._meta.get_field(field)
    assert isinstance(found, models.CharField) and found.max_length is not None
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), quote(found.column), found.max_length


def _namespace(tenant: Tenant) -> Namespace:
    return Namespace.objects.get(workspace=tenant.workspace, slug="default")


def _principal(raw_key: str) -> Principal:
    key = authenticate_raw_key(raw_key)
    assert key is not None
    return principal_for_key(key)


def _upload_by_id(principal: Principal, session_id: str, name: str, **fields: Any) -> Attachment:
    return attachment_create(
        session_lookup=lambda: session_services.session_get_or_create_by_id(
            principal=principal, session_id=session_id
        ),
        staged=storage.write_stream(iter([f"{session_id}/{name}".encode()])),
        original_name=name,
        **fields,
    )


def _upload_into(session: Session, name: str, **fields: Any) -> Attachment:
    return attachment_create(
        session_lookup=lambda: session,
        staged=storage.write_stream(iter([f"{session.pk}/{name}".encode()])),
        original_name=name,
        **fields,
    )


def _session_log(session: Session) -> list[int | None]:
    return list(
        Event.objects.filter(session=session)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )


def _assert_counters(session: Session) -> None:
    row = Session.objects.get(pk=session.pk)
    sequences = _session_log(session)
    assert sequences == list(range(1, len(sequences) + 1))
    assert row.last_event_sequence == len(sequences)
    assert row.file_count == Attachment.objects.filter(session=session).count()


def _assert_feed(namespace: Namespace) -> None:
    numbers = list(
        Event.objects.filter(namespace=namespace)
        .order_by("namespace_sequence")
        .values_list("namespace_sequence", flat=True)
    )
    assert numbers == list(range(1, len(numbers) + 1))
    assert Namespace.objects.get(pk=namespace.pk).last_event_sequence == len(numbers)


def _reads(tenant: Tenant, session_id: str) -> tuple[Any, ...]:
    """What the prepared reads answer for the tenant's owner key and a session id: the key
    row, the default namespace (with its workspace and organization) and the session found
    (with its namespace and workspace), each as plain values."""
    key = api_key_by_prefix(tenant.owner_key.removeprefix("dpt_").partition("_")[0])
    assert key is not None
    namespace = default_namespace_of(tenant.workspace.pk)
    assert namespace is not None
    principal = principal_for_key(key)
    session = selectors.session_find(principal=principal, session_id=session_id)
    assert session is not None

    def values(instance: models.Model) -> tuple[Any, ...]:
        return tuple(getattr(instance, f.attname) for f in instance._meta.concrete_fields)

    return (
        values(key),
        values(namespace),
        values(namespace.workspace),
        values(namespace.workspace.organization),
        values(session),
        values(session.namespace),
        values(session.namespace.workspace),
    )


def _status(request: Callable[[], Any]) -> int | str:
    """The response's status, or the exception the ASGI app raised instead of answering (a
    server answers that with a 500 of its own)."""
    try:
        return int(request().status_code)
    except Exception as error:
        return f"raised {type(error).__name__}"


# --- a schema change made by another process while statements are prepared ---

# Widening a CharField (AlterField max_length) is the commonest migration there is; run by a
# deploy's `migrate` while the old processes still serve, it changes the type of a column the
# prepared statements return, which PostgreSQL refuses for a prepared statement ("cached plan
# must not change result type", 0A000) where the unprepared one is just planned again.
WIDENED = [
    pytest.param(ApiKey, "secret_hash", id="the-key-read-and-the-loop"),
    pytest.param(Session, "reference", id="the-session-lookup"),
    pytest.param(Organization, "name", id="the-default-namespace-read"),
]


def _burst(raw_key: str, session_ids: list[str], label: str) -> list[Any]:
    """An upload into each session of `session_ids`, each followed by its list, eight at a time
    on one event loop (as a server runs them): the kept threads take several pooled connections at
    once, so the burst reaches the connections a sequential run leaves idle (the pool hands
    out the one given back last). Returns each pair of statuses."""
    import asyncio

    import httpx

    from config.asgi import application
    from tests.support import multipart_body

    async def status(request: Any) -> int | str:
        try:
            return int((await request).status_code)
        except Exception as error:
            return f"raised {type(error).__name__}"

    async def run() -> list[Any]:
        transport = httpx.ASGITransport(app=application)
        headers = {"X-API-Key": raw_key}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            gate = asyncio.Semaphore(8)

            async def one(number: int, session_id: str) -> tuple[Any, Any]:
                body, content_type = multipart_body(
                    "file", "file.bin", f"{label} {number}".encode(), {}
                )
                async with gate:
                    upload = await status(
                        client.post(
                            f"/api/uploads/{session_id}",
                            content=body,
                            headers={**headers, "Content-Type": content_type},
                        )
                    )
                    listed = await status(client.get(f"/api/uploads/{session_id}", headers=headers))
                return upload, listed

            return list(await asyncio.gather(*(one(*job) for job in enumerate(session_ids))))

    return asyncio.run(run())


@pytest.mark.postgres
@pytest.mark.parametrize(("model", "field"), WIDENED)
def test_a_column_widened_by_another_process_is_no_500_through_the_api(
    tenant: Tenant, asgi_owner: AsgiClient, fresh_connections: None, model: Any, field: str
) -> None:
    """Uploads and lists through the real ASGI app (the kept threads' pooled connections, the
    loop's own connections), a column they read widened by another connection, then the same
    requests again, one after another and at once: the same answers, and no 500 (or an
    exception out of the app) on any of them. Unprepared, PostgreSQL plans the statement
    again; prepared, the key read (autocommit: nothing rolls back, so psycopg never forgets
    the statement) fails on that pooled connection for as long as the pool keeps it, and the
    session lookup (inside the upload's transaction) fails once per connection."""
    session_id = f"h9-widen-{uuid.uuid4().hex[:8]}"
    for number in range(3):
        response = asgi_owner.upload(f"/api/uploads/{session_id}", b"before %d" % number)
        assert response.status_code == 201, response.text
        assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    assert _burst(tenant.owner_key, [session_id] * 16, "warm") == [(201, 200)] * 16
    table, column, length = _varchar(model, field)
    _run_elsewhere(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length + 1})")
    try:
        statuses = []
        for number in range(4):
            upload = _status(
                lambda n=number: asgi_owner.upload(f"/api/uploads/{session_id}", b"after %d" % n)
            )
            listed = _status(lambda: asgi_owner.get(f"/api/uploads/{session_id}"))
            statuses.append((upload, listed))
        statuses += _burst(tenant.owner_key, [session_id] * 24, "burst")
        assert statuses == [(201, 200)] * 28, statuses
        listed = asgi_owner.get(f"/api/uploads/{session_id}?limit=100")
        assert listed.status_code == 200 and len(listed.json()["attachments"]) == 3 + 16 + 28
    finally:
        _run_elsewhere(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length})")


@pytest.mark.postgres
@pytest.mark.parametrize(("model", "field"), WIDENED)
def test_a_column_widened_by_another_process_changes_no_answer_of_the_reads(
    tenant: Tenant, fresh_connections: None, model: Any, field: str
) -> None:
    """The same through the services on one connection: the key read, the default namespace
    and the session lookup answer after the change what they answered before it."""
    principal = _principal(tenant.owner_key)
    _upload_by_id(principal, "h9-widen-reads", "one.txt")
    before = _reads(tenant, "h9-widen-reads")
    table, column, length = _varchar(model, field)
    _run_elsewhere(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length + 1})")
    try:
        assert _reads(tenant, "h9-widen-reads") == before
        assert _reads(tenant, "h9-widen-reads") == before  # the next request too
    finally:
        _run_elsewhere(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length})")


@pytest.mark.postgres
def test_ddl_that_keeps_the_result_type_changes_no_answer(
    tenant: Tenant, fresh_connections: None
) -> None:
    """A column added with a default (AddField), an index made and dropped, on the tables the
    prepared statements read and write, by another connection between uploads: PostgreSQL
    plans the prepared statements again, and every answer and counter is as before."""
    principal = _principal(tenant.owner_key)
    _upload_by_id(principal, "h9-ddl", "zero.txt")
    before = _reads(tenant, "h9-ddl")
    quote = connection.ops.quote_name
    tables = [quote(m._meta.db_table) for m in (ApiKey, Session, Namespace, Attachment, Event)]
    try:
        for number, table in enumerate(tables):
            _run_elsewhere(
                f"ALTER TABLE {table} ADD COLUMN h9_extra integer NOT NULL DEFAULT 7",
                f"CREATE INDEX h9_index_{number} ON {table} (id DESC)",
            )
            _upload_by_id(principal, "h9-ddl", f"added-{number}.txt")
            now = _reads(tenant, "h9-ddl")
            # The key's row, the workspace and the organization (the counters move on).
            assert (now[0][:2], now[2], now[3]) == (before[0][:2], before[2], before[3])
            _run_elsewhere(f"DROP INDEX h9_index_{number}")
            _upload_by_id(principal, "h9-ddl", f"dropped-{number}.txt")
    finally:
        _run_elsewhere(*[f"ALTER TABLE {table} DROP COLUMN IF EXISTS h9_extra" for table in tables])
    _upload_by_id(principal, "h9-ddl", "last.txt")
    session = Session.objects.get(session_id="h9-ddl")
    assert session.file_count == 2 + 2 * len(tables)
    _assert_counters(session)
    _assert_feed(_namespace(tenant))
    assert _consistent(connection.connection) == (set(), set())


# --- DEALLOCATE ALL / DISCARD ALL on a pooled connection ---


def _run_reset(reset: str, times: int) -> None:
    for _ in range(times):
        with connection.cursor() as cursor:
            cursor.execute(reset)


@pytest.mark.postgres
@pytest.mark.parametrize("reset", ["DEALLOCATE ALL", "DISCARD ALL"])
@pytest.mark.parametrize("first_resets", [1, 2], ids=["once", "twice"])
def test_a_reset_on_the_connection_then_the_hot_statements_is_no_500(
    tenant: Tenant, fresh_connections: None, reset: str, first_resets: int
) -> None:
    """Something else (a management command, an admin's raw SQL through Django's cursor) runs
    DEALLOCATE ALL or DISCARD ALL on a connection the upload's statements ran on, once, or twice
    in a row and once more later. With the statements prepared, the second case broke: the
    second run found nothing of ours prepared (the first had deallocated it), psycopg remembered
    the command's text from that run, did not look at its result again and kept believing the
    statements prepared since were there, so every later run of them on that connection failed
    with "prepared statement "_pg3_N" does not exist", for as long as the pool kept the
    connection (an hour by psycopg_pool's default max_lifetime). Every upload works."""
    principal = _principal(tenant.owner_key)
    session_id = f"h9-reset-{first_resets}"
    _upload_by_id(principal, session_id, "one.txt")
    _run_reset(reset, first_resets)
    _upload_by_id(principal, session_id, "two.txt")
    _run_reset(reset, 1)
    _upload_by_id(principal, session_id, "three.txt")
    _upload_by_id(principal, session_id, "four.txt")
    assert _reads(tenant, session_id)
    _assert_counters(Session.objects.get(session_id=session_id))
    assert _consistent(connection.connection) == (set(), set())


# --- failures inside a transaction, then the same statements again on that connection ---


def _hold_row(
    model: type[models.Model], pk: int, held: threading.Event, release: threading.Event
) -> None:
    """Another connection's transaction holding the row's lock until `release`."""
    table = connection.ops.quote_name(model._meta.db_table)
    with _elsewhere() as other, other.transaction():
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # type: ignore[arg-type]  # noqa: S608
        held.set()
        release.wait(10)


@pytest.mark.postgres
@pytest.mark.parametrize("already_prepared", [False, True], ids=["first-run", "prepared"])
def test_a_lock_timeout_on_the_counter_then_the_same_statement_again(
    tenant: Tenant, fresh_connections: None, already_prepared: bool
) -> None:
    """The session counter's UPDATE times out on a row another transaction holds, on its
    first run on the connection (failing between Parse and Execute) or on a later one; the
    transaction rolls back, and on the same connection the next upload counts and numbers
    as if the failed one never ran."""
    namespace = _namespace(tenant)
    session = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="h9-lock"
    )
    other = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="h9-lock-2"
    )
    if already_prepared:
        _upload_into(other, "warm.txt")
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_row, args=(Session, session.pk, held, release))
    holder.start()
    try:
        assert held.wait(10)
        with pytest.raises(DatabaseError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            locks.session_file_added(session.pk)
    finally:
        release.set()
        holder.join(10)
    _upload_into(session, "after.txt")
    _upload_into(other, "other.txt")
    _upload_into(session, "again.txt")
    assert _session_log(session) == [1, 2]
    _assert_counters(session)
    _assert_counters(other)
    _assert_feed(namespace)
    stale, forgotten = _consistent(connection.connection)
    assert stale == set()
    # The one statement that failed on its first run (after its Parse) is left prepared on the
    # server, unknown to psycopg, when nothing else of ours was prepared for the rollback to
    # deallocate; never more than that one, and none once the statement had run before.
    assert len(forgotten) <= (0 if already_prepared else 1)


@pytest.mark.postgres
def test_a_deadlock_between_two_counters_then_both_connections_again(
    tenant: Tenant, fresh_connections: None
) -> None:
    """Two writers take two sessions' sequences in opposite orders (prepared counter
    statements on two pooled connections): PostgreSQL kills one (40P01); each connection then
    takes both again, and the numbers are the ones the committed transactions took."""
    namespace = _namespace(tenant)
    first, second = (
        session_services.session_create(
            organization_id=tenant.organization.pk, namespace=namespace, session_id=f"h9-dl-{n}"
        )
        for n in range(2)
    )
    barrier = threading.Barrier(2, timeout=10)
    one_at_a_time = threading.Lock()
    outcomes: dict[str, str] = {}
    committed: list[str] = []

    def writer(label: str, order: tuple[Session, Session]) -> None:
        try:
            try:
                with transaction.atomic():
                    locks.session_sequence_next(order[0].pk)
                    barrier.wait()
                    locks.session_sequence_next(order[1].pk)
                outcomes[label] = "committed"
                committed.append(label)
            except DatabaseError as error:
                outcomes[label] = type(error.__cause__).__name__
            barrier.wait()  # both done with the first transaction
            with one_at_a_time:
                for _ in range(3):
                    with transaction.atomic():
                        locks.session_sequence_next(order[0].pk)
                        locks.session_sequence_next(order[1].pk)
            assert _consistent(connection.connection) == (set(), set())
            outcomes[label] += "+again"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, args=("a", (first, second))),
        threading.Thread(target=writer, args=("b", (second, first))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()) == ["DeadlockDetected+again", "committed+again"]
    for session in (first, second):
        row = Session.objects.get(pk=session.pk)
        assert row.last_event_sequence == len(committed) + 2 * 3


@pytest.mark.postgres
@pytest.mark.parametrize("already_prepared", [False, True], ids=["first-run", "prepared"])
def test_an_integrity_error_of_a_prepared_insert_in_a_savepoint(
    tenant: Tenant, fresh_connections: None, already_prepared: bool
) -> None:
    """The event's INSERT refused by its unique event_id inside a savepoint of a transaction
    that goes on and commits (first run on the connection, or a later one): the rows are the
    committed ones, and the connection's prepared record still agrees with the server's."""
    namespace = _namespace(tenant)
    session = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="h9-unique"
    )
    if already_prepared:
        _upload_into(session, "warm.txt")
    taken = Event.objects.filter(session=session).values_list("event_id", flat=True).first()
    for attempt in range(3):
        with transaction.atomic():
            kept = event_log.event_append(session=session, kind=EventKind.SESSION_COMPLETED)
            duplicate = Event(
                event_id=taken or kept.event_id,
                session_id=session.pk,
                session_public_id=session.session_id,
                namespace_id=namespace.pk,
                kind=EventKind.SESSION_COMPLETED,
                change_type=kept.change_type,
            )
            with pytest.raises(IntegrityError), transaction.atomic():
                raw_writes.insert_numbered(
                    duplicate,
                    "namespace_sequence",
                    Namespace,
                    namespace.pk,
                    "last_event_sequence",
                )
        del attempt
    _assert_feed(namespace)
    expected = (1 if already_prepared else 0) + 3
    assert Event.objects.filter(session=session).count() == expected
    assert _consistent(connection.connection) == (set(), set())


# --- many requests across the kept threads, refused ones among them ---


@pytest.mark.postgres
def test_refused_and_accepted_uploads_across_the_kept_threads(
    tenant: Tenant, settings: Any, fresh_connections: None
) -> None:
    """Forty uploads through the ASGI app, eight at a time, into four sessions with a
    file limit of five: every one a 201 or the limit's 409 (each 409 a rolled-back
    transaction, after which psycopg deallocates the connection's statements and the next
    request prepares them again), counters and feed gapless, and every pooled connection's
    prepared record agreeing with the server's afterwards."""
    settings.DEPOT_MAX_FILES_PER_SESSION = 5
    sessions = [f"h9-threads-{number % 4}" for number in range(40)]
    statuses = [status for pair in _burst(tenant.owner_key, sessions, "c") for status in pair]
    assert statuses.count(201) == 20 and statuses.count(409) == 20, statuses
    assert statuses.count(200) == 40, statuses
    for number in range(4):
        session = Session.objects.get(session_id=f"h9-threads-{number}")
        assert session.file_count == 5
        _assert_counters(session)
    _assert_feed(_namespace(tenant))
    assert _pool_disagreements() == []


# --- values of different types in one parameter slot ---


@pytest.mark.parametrize("pk", [2**15 - 1, 2**15, 2**31 - 1, 2**31, 2**53 + 1])
def test_session_ids_of_every_integer_size(tenant: Tenant, pk: int) -> None:
    """psycopg sends a Python int as int2, int4, int8 or numeric by its value, and keys each
    prepared variant by those types: sessions whose ids cross each size, written and read
    by id one after another on one connection (both profiles: SQLite's ids are 64-bit too)."""
    namespace = _namespace(tenant)
    principal = _principal(tenant.owner_key)
    # The big id first: SQLite gives the next row the largest id + 1, which may be `pk`.
    big = Session.objects.create(
        pk=pk, organization=tenant.organization, namespace=namespace, session_id="h9-int-big"
    )
    small = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="h9-int-small"
    )
    for number in range(2):
        for session in (small, big):
            _upload_into(session, f"n{number}.txt", node_id="node" if number else "")
            _upload_by_id(principal, session.session_id, f"by-id-{number}.txt")
    for session in (small, big):
        _assert_counters(session)
        assert Session.objects.get(pk=session.pk).file_count == 4
        found = selectors.session_find(principal=principal, session_id=session.session_id)
        assert found is not None and found.pk == session.pk
    with transaction.atomic():
        assert locks.session_sequence_next(big.pk)[0] == 5
        assert locks.namespace_sequences_take(namespace.pk, 2**40) == 8 + 2**40
    _assert_counters(small)
    if connection.vendor == "postgresql" and _pooled():
        assert _consistent(connection.connection) == (set(), set())


def test_none_and_text_and_non_ascii_in_one_slot(tenant: Tenant) -> None:
    """The event INSERT's node_id and path slots, NULL in one upload and long non-ASCII text
    in the next (and back), on one connection: each row reads back as written."""
    namespace = _namespace(tenant)
    session = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="h9-slots"
    )
    long_text = ("ünïcødé \u2028 " * 60)[:250]
    shapes = [
        {},
        {"node_id": long_text, "path": "a/" + long_text, "metadata": {"k": long_text}},
        {},
        {"node_id": "n", "path": "p", "description": long_text * 20},
    ]
    made = [_upload_into(session, f"s{n}.txt", **shape) for n, shape in enumerate(shapes)]
    for attachment, shape in zip(made, shapes, strict=True):
        row = Attachment.objects.get(pk=attachment.pk)
        assert row.node_id == shape.get("node_id", "")
        assert row.path == shape.get("path", "")
        assert row.metadata == shape.get("metadata", {})
        assert row.description == shape.get("description", "")
        event = Event.objects.get(attachment_id=attachment.attachment_id)
        assert event.node_id == (shape.get("node_id") or None)
        assert event.path == (shape.get("path") or None)
    _assert_counters(session)


# --- more distinct statements than psycopg keeps prepared ---


@pytest.mark.postgres
def test_more_distinct_statements_than_prepared_max(
    tenant: Tenant, fresh_connections: None
) -> None:
    """Past psycopg's prepared_max (100) distinct statements on one connection, the oldest
    are deallocated as new ones come; the hot reads still answer, and the server holds what
    psycopg believes it holds, no more than prepared_max."""
    principal = _principal(tenant.owner_key)
    _upload_by_id(principal, "h9-max", "one.txt")
    before = _reads(tenant, "h9-max")
    raw = connection.connection
    for number in range(raw.prepared_max + 50):
        with raw_reads.cursor(connection) as cursor:
            cursor.execute(f"SELECT %s::int + {number}", [number])
            assert cursor.fetchone() == (2 * number,)
    assert _reads(tenant, "h9-max") == before
    _upload_by_id(principal, "h9-max", "two.txt")
    assert _consistent(raw) == (set(), set())
    assert len(_server_names(raw)) <= raw.prepared_max


# --- behind a pooler (DEPOT_DB_POOL=0) ---


@pytest.mark.postgres
def test_behind_a_pooler_nothing_is_prepared_and_a_widened_column_is_no_500(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, fresh_connections: None
) -> None:
    """Without Depot's pool (DEPOT_DB_POOL=0: each connection Django opens is a direct one,
    as a pooler's would be) uploads and lists through the API prepare nothing, and a column
    widened under them changes no answer: the behaviour before 25f9895."""
    options = {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k != "pool"}
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", options)
    client = AsgiClient(tenant.owner_key)
    for number in range(3):
        assert client.upload("/api/uploads/h9-pooler", b"p%d" % number).status_code == 201
        assert client.get("/api/uploads/h9-pooler").status_code == 200
    principal = _principal(tenant.owner_key)
    _upload_by_id(principal, "h9-pooler", "direct.txt")
    assert connection.connection.prepare_threshold is None
    assert _server_names(connection.connection) == set()
    table, column, length = _varchar(ApiKey, "secret_hash")
    _run_elsewhere(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length + 1})")
    try:
        for number in range(3):
            assert client.upload("/api/uploads/h9-pooler", b"q%d" % number).status_code == 201
            assert client.get("/api/uploads/h9-pooler").status_code == 200
        _upload_by_id(principal, "h9-pooler", "direct-2.txt")
    finally:
        _run_elsewhere(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar({length})")
    assert _server_names(connection.connection) == set()
    _assert_counters(Session.objects.get(session_id="h9-pooler"))
    connection.close()


# --- the statements are still Django's: counted, and their errors Django's ---


def test_the_prepared_statements_are_counted_and_their_errors_are_djangos(
    tenant: Tenant,
) -> None:
    """Each run through `raw_reads.cursor` is one statement Django counts, prepared or not,
    first run or later; and a failing one raises Django's error class, on both profiles."""
    principal = _principal(tenant.owner_key)
    _upload_by_id(principal, "h9-counted", "one.txt")
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            _reads(tenant, "h9-counted")
        assert len(queries) == 3
    with pytest.raises(DatabaseError), transaction.atomic(), raw_reads.cursor(connection) as cursor:
        cursor.execute(
            f"SELECT 1 FROM {raw_reads.table(Workspace, connection)} WHERE no_such = %s",  # noqa: S608
            [1],
        )
    assert _reads(tenant, "h9-counted")
