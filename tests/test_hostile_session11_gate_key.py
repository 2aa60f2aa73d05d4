"""Hostile review of 8949348: the request gate reads every keyed request's key on the event
loop (config/loop_keys.usable_key), and for `POST /api/uploads/{sid}` the same statement names
the session row the upload's write starts from (`depot.session_pk`, a hint the write takes by
id: sessions_app/services.session_file_add).

What must hold: the loop only ever says yes sooner; the hint is the row `session_find` would
choose for that key and the upload lands where the lookup at the write sends it; odd ids never
reach the statement; broken prepared statements are answered by the thread and recovered.

Note: `AsgiClient` runs each request on a loop of its own, and `loop_reads.current_reader()` makes a
new reader (new connections) for each new loop, so prepared statements never outlive a
request there. The PostgreSQL tests below drive many requests on one loop instead."""

import asyncio
import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext, override_settings

from attachments import storage
from attachments.models import Attachment, Blob
from attachments.services import attachment_create
from config import loop_keys, loop_reads, request_gate
from sessions_app import selectors
from sessions_app import services as session_services
from sessions_app.models import (
    DEFAULT_NAMESPACE,
    ApiKey,
    Event,
    EventKind,
    Namespace,
    Session,
)
from sessions_app.principals import authenticate_raw_key, principal_for_key
from tests.support import AsgiClient, Tenant
from tests.support.multipart import multipart_body
from tests.support.storage import stored_keys
from tests.support.tenants import Stranger
from tests.support.threads import run_jobs
from tests.test_hostile_session9_prepare import _elsewhere

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def thread_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The keys the thread path read (what the loop did not answer)."""
    seen: list[str] = []
    on_thread = request_gate._authenticate_key_on_thread

    async def counted(raw_key: str) -> Any:
        seen.append(raw_key)
        return await on_thread(raw_key)

    monkeypatch.setattr(request_gate, "_authenticate_key_on_thread", counted)
    yield seen


def _sid() -> str:
    return f"h11-{uuid.uuid4().hex[:10]}"


def _hint(raw_key: str, session_id: str) -> int | None:
    """The session the gate's statement names for `raw_key` (the key stamped fresh first)."""
    assert authenticate_raw_key(raw_key) is not None
    read = asyncio.run(loop_keys.usable_key(raw_key, session_id))
    loop_reads.close_all()
    assert read is not None, "a fresh usable key is the loop's to answer"
    return read.session_pk


def _key(raw_key: str) -> ApiKey:
    return ApiKey.objects.get(prefix=raw_key.removeprefix("dpt_").partition("_")[0])


def _found(raw_key: str, session_id: str) -> int | None:
    found = selectors.session_find(
        principal=principal_for_key(_key(raw_key)), session_id=session_id
    )
    return None if found is None else found.pk


def _landed(answer: Any) -> Session:
    assert answer.status_code == 201, answer.text
    uid = uuid.UUID(answer.json()["attachment_id"].removeprefix("att_"))
    return Attachment.objects.get(uid=uid).session


def _other_namespace(tenant: Tenant) -> Namespace:
    return Namespace.objects.get(workspace=tenant.other_workspace, slug=DEFAULT_NAMESPACE)


# --- tenancy: the hint is what session_find chooses, for every kind of key ---


def test_the_hint_is_session_finds_choice_or_none_for_every_key_and_placement(
    tenant: Tenant, stranger: Stranger
) -> None:
    """Org-wide keys of either default workspace, the limited key, another organization's key;
    the id nowhere, in either workspace, in both (either order), and in the other org."""
    _, other_default = session_services.api_key_create(
        organization=tenant.organization, default_workspace=tenant.other_workspace
    )
    keys = [tenant.owner_key, other_default, tenant.limited_key, stranger.key]
    stranger_ns = Namespace.objects.get(workspace=stranger.workspace, slug=DEFAULT_NAMESPACE)
    placements: list[list[Namespace]] = [
        [],
        [tenant.default_namespace()],
        [_other_namespace(tenant)],
        [tenant.default_namespace(), _other_namespace(tenant)],
        [_other_namespace(tenant), tenant.default_namespace()],
        [stranger_ns, _other_namespace(tenant)],
    ]
    for placement in placements:
        session_id = _sid()
        for namespace in placement:
            session_services.session_create(
                organization_id=namespace.workspace.organization_id,
                namespace=namespace,
                session_id=session_id,
            )
        for key in keys:
            # Only an org-wide key's default-workspace row stands in for the lookup (the
            # review's second test: one elsewhere can be outranked while the body streams).
            found, row = _found(key, session_id), _key(key)
            in_default = (
                found is not None
                and Session.objects.get(pk=found).workspace_id == row.default_workspace_id
            )
            expected = found if row.workspace_id is None and in_default else None
            assert _hint(key, session_id) == expected, (placement, key)


def test_another_tenants_session_of_the_same_id_gets_no_file(
    tenant: Tenant, stranger: Stranger
) -> None:
    session_id = _sid()
    mine = tenant.session(session_id)
    assert _hint(stranger.key, session_id) is None
    theirs = _landed(AsgiClient(stranger.key).upload(f"/api/uploads/{session_id}", b"\x00 b"))
    assert theirs.organization_id == stranger.organization.pk and theirs.pk != mine.pk
    assert Session.objects.get(pk=mine.pk).file_count == 0
    assert not Event.objects.filter(session_id=mine.pk).exists()
    # And the limited key, with the id only in the workspace it cannot see: a session of its own.
    limited = _landed(AsgiClient(tenant.limited_key).upload(f"/api/uploads/{session_id}", b"x"))
    assert limited.workspace_id == tenant.other_workspace.pk and limited.pk != mine.pk
    assert Session.objects.get(pk=mine.pk).file_count == 0


@pytest.mark.parametrize("hinted", [True, False])
def test_a_session_made_in_the_default_workspace_during_the_upload_gets_the_file(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, hinted: bool
) -> None:
    """Found: the id only in the other workspace at the gate (the hint names that row), then
    made in the default workspace while the body streams. The lookup at the write, the key's
    reads and its watchers take the new one; the hint sent the file to the old one.
    (`hinted=False`, the same without the hint, is the control.)"""
    session_id = _sid()
    tenant.session(session_id, _other_namespace(tenant))
    # Fixed after this review: no hint names a row outside the key's default workspace.
    assert _hint(tenant.owner_key, session_id) is None
    read = loop_keys.usable_key

    async def then_made_in_default(raw_key: str, wanted: str | None = None) -> Any:
        found = await read(raw_key, wanted)
        await sync_to_async(tenant.session)(session_id)
        assert found is not None
        return found if hinted else loop_keys.KeyRead(found.api_key)  # the control: no hint

    monkeypatch.setattr(loop_keys, "usable_key", then_made_in_default)
    landed = _landed(AsgiClient(tenant.owner_key).upload(f"/api/uploads/{session_id}", b"x"))
    watched = selectors.session_watch_workspace(
        principal=principal_for_key(_key(tenant.owner_key)),
        session_id=session_id,
    )
    assert landed.pk == _found(tenant.owner_key, session_id), "not where the lookup sends it"
    assert landed.workspace_id == watched


# --- what the gate refuses or does not read ---


@pytest.mark.parametrize(
    "path",
    [
        "/api/uploads/" + "a" * 129,
        "/api/uploads/caf%C3%A9",
        "/api/uploads/a.b",
        "/api/uploads/a%00",
    ],
)
def test_odd_session_ids_never_reach_the_session_statement(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The key alone is read (nothing, for the NUL); the answer is the thread path's."""
    seen: list[str] = []
    monkeypatch.setattr(loop_reads, "observers", [seen.append])
    client = AsgiClient(tenant.owner_key)
    body, content_type = multipart_body("file", "f.bin", b"x", {})
    headers = {"Content-Type": content_type}
    assert client.post("/api/uploads/warm", content=body, headers=headers).status_code == 201
    seen.clear()
    answer = client.post(path, content=body, headers=headers)
    assert not [sql for sql in seen if "sessions_app_session" in sql], seen

    async def no_loop(raw_key: str, wanted: str | None = None) -> None:
        return None

    monkeypatch.setattr(loop_keys, "usable_key", no_loop)
    expected = client.post(path, content=body, headers=headers)
    assert (answer.status_code, answer.content) == (expected.status_code, expected.content)
    assert answer.status_code in (404, 422), answer.text
    assert Session.objects.count() == 1


def test_a_read_only_key_with_a_hint_writes_nothing(tenant: Tenant) -> None:
    session_id = _sid()
    session = tenant.session(session_id)
    assert _hint(tenant.read_only_key, session_id) == session.pk
    refused = AsgiClient(tenant.read_only_key).upload(f"/api/uploads/{session_id}", b"x")
    assert refused.status_code == 403, refused.text
    row = Session.objects.get(pk=session.pk)
    assert (row.file_count, row.last_event_sequence, Attachment.objects.count()) == (0, 0, 0)


def test_the_file_limit_through_the_hint_leaves_no_bytes_blob_or_number(tenant: Tenant) -> None:
    session_id = _sid()
    client = AsgiClient(tenant.owner_key)
    assert client.upload(f"/api/uploads/{session_id}", b"first").status_code == 201
    namespace = tenant.default_namespace()
    before = (stored_keys(), Blob.objects.count(), Event.objects.count())
    sequence = Namespace.objects.get(pk=namespace.pk).last_event_sequence
    with override_settings(DEPOT_MAX_FILES_PER_SESSION=1):
        refused = client.upload(f"/api/uploads/{session_id}", uuid.uuid4().bytes)
    assert refused.status_code == 409, refused.text
    assert session_id in refused.json()["detail"]
    assert (stored_keys(), Blob.objects.count(), Event.objects.count()) == before
    assert Namespace.objects.get(pk=namespace.pk).last_event_sequence == sequence
    row = Session.objects.get(session_id=session_id)
    assert (row.file_count, row.last_event_sequence) == (1, 1)


# --- the partial Session the hint passes on ---


def test_the_hinted_session_passed_on_is_the_row_and_costs_no_read(tenant: Tenant) -> None:
    session = tenant.session(_sid())
    read_in_receiver: list[tuple[Any, ...]] = []

    def receiver(sender: Any, instance: Attachment, created: bool, **kwargs: Any) -> None:
        with CaptureQueriesContext(connection) as queries:
            got = instance.session
            read_in_receiver.append(
                (got.session_id, got.namespace_id, got.organization_id, len(queries))
            )

    def lookup() -> Session:
        raise AssertionError("the hint's row is there: no lookup")

    post_save.connect(receiver, sender=Attachment, weak=False, dispatch_uid="h11")
    try:
        with CaptureQueriesContext(connection) as queries:
            attachment = attachment_create(
                session_lookup=lookup,
                session_pk=session.pk,
                staged=storage.write_stream(iter([b"\x00 partial"])),
                original_name="p.bin",
            )
    finally:
        post_save.disconnect(dispatch_uid="h11", sender=Attachment)
    assert not [
        q for q in queries if q["sql"].startswith("SELECT") and "sessions_app_session" in q["sql"]
    ]
    row = Session.objects.get(pk=session.pk)
    assert read_in_receiver == [(row.session_id, row.namespace_id, row.organization_id, 0)]
    passed = attachment.session
    for name in ("workspace_id", "file_count", "last_event_sequence"):
        assert getattr(passed, name) == getattr(row, name), name
    assert passed.status == row.status  # a deferred column, read from the row


# --- SQLite: the key read holds no snapshot ---


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite reader")
def test_the_sqlite_key_read_leaves_no_read_transaction(tenant: Tenant) -> None:
    import sqlite3

    session = tenant.session(_sid())
    assert authenticate_raw_key(tenant.owner_key) is not None

    async def read() -> bool:
        found = await loop_keys.usable_key(tenant.owner_key, session.session_id)
        alone = await loop_keys.usable_key(tenant.owner_key)
        assert found is not None and found.session_pk == session.pk and alone is not None
        return bool(loop_reads._Current.reader.connection.in_transaction)

    try:
        assert asyncio.run(read()) is False
        other = sqlite3.connect(str(connection.settings_dict["NAME"]))
        busy = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        other.close()
    finally:
        loop_reads.close_all()
    assert busy == 0, "a reader's snapshot kept the WAL from being checkpointed"


# --- PostgreSQL: the loop's prepared statements broken under it, on one loop ---


async def _deallocate_twice(reader: Any) -> None:
    for pg in reader.connections:
        if pg is not None:
            await pg.execute("DEALLOCATE ALL")
            await pg.execute("DEALLOCATE ALL")


async def _terminate(reader: Any) -> None:
    pids = [pg.pgconn.backend_pid for pg in reader.connections if pg is not None]
    with _elsewhere() as other:
        for pid in pids:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])


async def _alter(reader: Any) -> None:
    with _elsewhere() as other:
        other.execute('ALTER TABLE "sessions_app_apikey" ALTER COLUMN "name" TYPE varchar(300)')


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL reader")
@pytest.mark.parametrize("breaking", [_alter, _deallocate_twice, _terminate])
def test_broken_loop_statements_are_answered_then_recovered_on_one_loop(
    tenant: Tenant,
    thread_reads: list[str],
    breaking: Callable[[Any], Awaitable[None]],
) -> None:
    session_id = _sid()
    rounds, path = 2 * loop_reads.LOOP_CONNECTIONS, f"/api/uploads/{session_id}"
    headers = {"X-API-Key": tenant.owner_key}

    async def up(client: httpx.AsyncClient) -> int:
        body, content_type = multipart_body("file", "f.bin", uuid.uuid4().bytes, {})
        sent = {**headers, "Content-Type": content_type}
        return (await client.post(path, content=body, headers=sent)).status_code

    async def round_of(client: httpx.AsyncClient, size: int) -> list[int]:
        statuses = []
        for _ in range(size):
            statuses.append(await up(client))
            got = await client.get(f"/api/sessions/{session_id}", headers=headers)
            statuses.append(got.status_code)
        return statuses

    async def scenario(client: httpx.AsyncClient) -> None:
        assert await round_of(client, rounds) == [201, 200] * rounds
        reader = loop_reads._Current.reader
        assert reader.prepare, "the production profile pools, so the loop prepares"
        warm = len(thread_reads)
        await breaking(reader)
        assert await round_of(client, rounds) == [201, 200] * rounds
        assert loop_reads._Current.reader is reader, "not one loop's reader any more"
        broken = len(thread_reads)
        # Each connection failed once (psycopg prepares again after DEALLOCATE on its own).
        assert broken - warm == (0 if breaking is _deallocate_twice else len(reader.connections))
        assert await round_of(client, rounds) == [201, 200] * rounds
        assert len(thread_reads) == broken, "the loop did not recover"
        assert warm <= 1
        # Revoked on this loop, with its prepared statements: refused at once, everywhere.
        revoke = session_services.api_key_revoke
        await sync_to_async(lambda: revoke(api_key=_key(tenant.owner_key)))()
        got = await client.get(f"/api/sessions/{session_id}", headers=headers)
        artifact = {"workflow_id": "w", "artifact_type": "r", "title": "t", "content": "x"}
        art = await client.post("/api/artifacts", headers=headers, json=artifact)
        assert [await up(client), got.status_code, art.status_code] == [401, 401, 401]

    async def run() -> None:
        from config.asgi import application

        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            await scenario(client)

    try:
        asyncio.run(run())
    finally:
        loop_reads.close_all()
        if breaking is _alter:
            with _elsewhere() as other:
                other.execute(
                    'ALTER TABLE "sessions_app_apikey" ALTER COLUMN "name" TYPE varchar(200)'
                )
    row = Session.objects.get(session_id=session_id)
    assert row.file_count == 3 * rounds == Attachment.objects.filter(session=row).count()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL reader")
def test_an_upload_read_waiting_on_a_session_table_lock_holds_up_no_other_key_read(
    tenant: Tenant,
) -> None:
    """Found: under an ACCESS EXCLUSIVE lock on the session table (a migration), an upload's
    `key_and_session` waits on its loop connection up to STATEMENT_TIMEOUT_MS; the key-only
    read of any request that takes that connection next waits with it, then fails with it."""
    import psycopg

    session = tenant.session(_sid())
    assert authenticate_raw_key(tenant.owner_key) is not None

    async def scenario() -> tuple[list[bool], bool]:
        for _ in range(loop_reads.LOOP_CONNECTIONS):
            assert await loop_keys.usable_key(tenant.owner_key) is not None
        reader = loop_reads._Current.reader
        locker = await psycopg.AsyncConnection.connect(**reader.params)
        await locker.execute("LOCK TABLE sessions_app_session IN ACCESS EXCLUSIVE MODE")
        try:
            upload = asyncio.ensure_future(
                loop_keys.usable_key(tenant.owner_key, session.session_id)
            )
            waiting = 0
            while not waiting:  # the upload's statement is on the server, waiting on the lock
                await asyncio.sleep(0.01)
                cursor = await locker.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                waiting = (await cursor.fetchone())[0]  # type: ignore[index]
            started = time.monotonic()
            others = [loop_keys.usable_key(tenant.owner_key) for _ in reader.connections]
            answered = await asyncio.gather(*others)
            # Each answered on the loop; the upload's read gave up at the lock timeout (the
            # thread path answers it), not the statement timeout, and kept its connection.
            waited = time.monotonic() - started
            assert await upload is None
            assert all(c is not None and not c.closed for c in reader.connections)
            return [read is not None for read in answered], waited < 1.0
        finally:
            await locker.rollback()
            await locker.close()
            await asyncio.gather(upload, return_exceptions=True)

    try:
        answered, upload_done = asyncio.run(scenario())
        # Found: the fourth read waited the upload's 2 s statement timeout on the same
        # connection, and then failed there too ("the connection is closed"). Fixed by the
        # loop connections' lock_timeout, and a timeout no longer closes the connection.
        assert (answered, upload_done) == ([True] * loop_reads.LOOP_CONNECTIONS, True)
    finally:
        loop_reads.close_all()


# --- concurrency: hinted writers while the session is deleted ---


@pytest.mark.postgres
def test_hinted_uploads_race_a_session_delete_without_deadlock_or_gaps(tenant: Tenant) -> None:
    """4 writers, 48 hinted uploads (half of one content) into 3 sessions of one namespace, one
    job deleting the first: no error, gapless numbers, counts right, the deleted id made again."""
    namespace = tenant.default_namespace()
    sessions = [tenant.session(f"h11-race-{n}") for n in range(3)]
    principal = principal_for_key(_key(tenant.owner_key))

    def upload(session: Session, content: bytes) -> None:
        attachment_create(
            session_lookup=lambda: session_services.session_get_or_create_by_id(
                principal=principal, session_id=session.session_id
            ),
            session_pk=session.pk,
            staged=storage.write_stream(iter([content])),
            original_name="r.bin",
        )

    def delete() -> None:
        session_services.session_delete(session=Session.objects.get(pk=sessions[0].pk))

    jobs: list[Callable[[], Any]] = [
        functools.partial(upload, sessions[n % 3], b"same" if n % 2 else f"race {n}".encode())
        for n in range(48)
    ]
    jobs.insert(24, delete)
    assert run_jobs(jobs, workers=4) == []
    feed = list(
        Event.objects.filter(namespace=namespace)
        .order_by("namespace_sequence")
        .values_list("namespace_sequence", flat=True)
    )
    assert feed == list(range(1, len(feed) + 1))
    assert not Session.objects.filter(pk=sessions[0].pk).exists()
    assert Session.objects.filter(session_id=sessions[0].session_id).exists()  # made again
    live = list(Session.objects.filter(namespace=namespace))
    for row in live:
        log = list(row.events.order_by("sequence").values_list("sequence", flat=True))
        assert log == list(range(1, len(log) + 1)) and row.last_event_sequence == len(log)
        assert row.file_count == Attachment.objects.filter(session=row).count()
    kinds = Event.objects.filter(namespace=namespace)
    assert kinds.filter(kind=EventKind.ATTACHMENT_CREATED).count() == 48
    gone = kinds.filter(kind=EventKind.ATTACHMENT_DELETED).count()
    assert Attachment.objects.count() + gone == 48
