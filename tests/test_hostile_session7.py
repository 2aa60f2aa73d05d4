"""Hostile review of session 7's list on the event loop (config/loop_reads.py) and the list's
JSON (attachments/listing.render): the loop's answer must be Django's, or the thread path's.

Requests go through the real ASGI application in process; Django's answer for the same
request is had by switching the gate's shortcut off (tests/test_gate_reads.py)."""

import asyncio
import threading
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from config import gate_reads, loop_reads
from sessions_app import services as session_services
from sessions_app.models import Session
from tests.conftest import AsgiClient, Tenant
from tests.test_gate_reads import _answer, _session_with, _through_django
from tests.test_loop_reads import LoopReads, loop_reads_seen  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _in_a_thread(work: Any) -> None:
    """Django work from a callback on the loop (the ORM refuses async contexts)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:
            failure.append(error)
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's two statements")
def test_a_session_deleted_between_the_key_and_the_page_is_not_an_empty_page(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    monkeypatch: pytest.MonkeyPatch,
    loop_reads_seen: LoopReads,  # noqa: F811
) -> None:
    """On SQLite the loop reads the key's row (with the session's id) and then the page, each
    in its own autocommit read. A session deleted in between (with its attachments, in one
    transaction) came back as a 200 with no attachments: a state that never existed (before
    the delete the page has items, after it Django answers 404)."""
    session_id = _session_with(asgi_owner, 2)
    path = f"/api/uploads/{session_id}"
    before = asgi_owner.get(path)
    assert before.status_code == 200 and len(before.json()["attachments"]) == 2
    page_sql = {loop_reads._Current.reader.page[False], loop_reads._Current.reader.page[True]}

    def delete_before_the_page(sql: str) -> None:
        if sql in page_sql:
            _in_a_thread(
                lambda: session_services.session_delete(
                    session=Session.objects.get(session_id=session_id)
                )
            )

    monkeypatch.setattr(loop_reads, "observers", [delete_before_the_page])
    during = asgi_owner.get(path)
    monkeypatch.setattr(loop_reads, "observers", [])
    after = _through_django(monkeypatch, asgi_owner, path)
    assert after.status_code == 404
    assert _answer(during) in (_answer(before), _answer(after)), during.content


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL reader")
def test_a_burst_of_lists_opens_at_most_the_loops_connections(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of many lists arriving together, before the loop's connections were open (a
    server's start, after PostgreSQL restarted), opened a connection of its own: a slot's
    connection was looked for, found missing, and connected again by every request that came
    before the first connect finished. 64 requests: 64 connections, against the budget of
    LOOP_CONNECTIONS the pool's size counts (README)."""
    import psycopg

    session_id = _session_with(asgi_owner, 1)
    loop_reads.close_all()
    connect = psycopg.AsyncConnection.connect
    opened = 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal opened
        opened += 1
        return await connect(*args, **kwargs)

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", counted)

    async def burst() -> list[bytes | None]:
        return await asyncio.gather(
            *(loop_reads.list_page(tenant.owner_key, (session_id, 50, None)) for _ in range(64))
        )

    pages = asyncio.run(burst())
    loop_reads.close_all()
    assert all(pages), "every list answered on the loop"
    assert opened <= loop_reads.LOOP_CONNECTIONS, opened


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL reader")
def test_a_failed_read_closes_only_its_own_connection(
    tenant: Tenant, asgi_owner: AsgiClient
) -> None:
    """A read that fails closes its connection so the next one opens a fresh one. It closed
    whatever connection its slot held by then: after the loop's backends were terminated,
    the requests queued on a dead connection each closed the slot's new one, under the
    request using it."""
    import psycopg

    session_id = _session_with(asgi_owner, 1)
    wanted = (session_id, 50, None)

    async def scenario() -> bool:
        assert await loop_reads.list_page(tenant.owner_key, wanted)
        reader = loop_reads._Current.reader
        slot = (reader.turn + 1) % len(reader.connections)
        if reader.connections[slot] is None:
            reader.connections[slot] = await psycopg.AsyncConnection.connect(
                autocommit=True, **reader.params
            )
        old = reader.connections[slot]
        locker = await psycopg.AsyncConnection.connect(**reader.params)
        await locker.execute("LOCK TABLE attachments_attachment IN ACCESS EXCLUSIVE MODE")
        # A read on the slot's connection, waiting on the lock.
        reading = asyncio.ensure_future(loop_reads.list_page(tenant.owner_key, wanted))
        await asyncio.sleep(0.2)
        # Meanwhile the slot holds another request's new connection; then the old one's
        # backend is terminated and the waiting read fails.
        fresh = await psycopg.AsyncConnection.connect(autocommit=True, **reader.params)
        reader.connections[slot] = fresh
        await locker.execute("SELECT pg_terminate_backend(%s)", [old.pgconn.backend_pid])
        assert await reading is None  # the thread path answers it
        await locker.rollback()
        await locker.close()
        still_open = not fresh.closed
        loop_reads.close_all()
        return still_open

    assert asyncio.run(scenario()), "another request's connection was closed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL reader")
def test_a_failed_connect_is_not_tried_again_by_every_list(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PostgreSQL refusing connections (down, restarting, out of slots), every list tried
    a connection of its own before the thread path answered: load on a server already in
    trouble. A failed open now rests its slot RETRY_SECONDS."""
    import psycopg

    session_id = _session_with(asgi_owner, 1)
    expected = asgi_owner.get(f"/api/uploads/{session_id}")
    loop_reads.close_all()
    tried = 0

    async def refused(*args: Any, **kwargs: Any) -> Any:
        nonlocal tried
        tried += 1
        raise psycopg.OperationalError("connection refused")

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", refused)

    async def lists(count: int) -> list[bytes | None]:
        wanted = (session_id, 50, None)
        return [await loop_reads.list_page(tenant.owner_key, wanted) for _ in range(count)]

    async def scenario() -> None:
        assert await lists(20) == [None] * 20
        assert tried == loop_reads.LOOP_CONNECTIONS
        monkeypatch.setattr(loop_reads, "RETRY_SECONDS", 0.0)
        for slot in range(loop_reads.LOOP_CONNECTIONS):
            loop_reads._Current.reader.retry_at[slot] = 0.0
        monkeypatch.undo()  # connections open again
        assert all(await lists(2 * loop_reads.LOOP_CONNECTIONS))

    asyncio.run(scenario())
    loop_reads.close_all()
    # And through the application, the thread path's answer meanwhile.
    assert _answer(asgi_owner.get(f"/api/uploads/{session_id}")) == _answer(expected)


# --- the loop's answer against Django's, request by request ---


def _variants(key: str) -> list[tuple[str, dict[str, str]]]:
    return [
        ("", {"Authorization": f"Bearer {key}"}),
        ("", {"Authorization": f"bearer  {key} "}),
        ("", {"X-API-Key": f" {key}\t"}),
        ("", {"Accept": "*/*"}),
        ("", {"Accept": "application/json"}),
        ("", {"Origin": "https://ui.example"}),
        ("", {"Origin": "https://evil.example"}),
        ("?limit=1", {}),
        ("?limit=200", {}),
        ("?limit=050", {}),
        ("?limit=%35", {}),
        ("?cursor=aWQ6MQ", {}),  # id:1, past the end
        ("?cursor=aWQ6MA", {}),  # id:0
        ("?cursor=aWQ6OTIyMzM3MjAzNjg1NDc3NTgwNw", {}),  # id:2**63-1
        ("?cursor=aWQ6MQ==", {}),
        ("?cursor=aWQ6MQ!!", {}),
        ("?cursor=aWQ6MQ%20", {}),
        ("?limit=2&cursor=", {}),
        ("?&limit=2&", {}),
    ]


@pytest.mark.parametrize("number", range(19))
@override_settings(CORS_ALLOWED_ORIGINS=["https://ui.example"], DEPOT_RATE_LIMIT_WRITES=None)
def test_the_loops_answer_is_djangos_for_odd_requests(
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    loop_reads_seen: LoopReads,  # noqa: F811
    number: int,
) -> None:
    suffix, headers = _variants(tenant.owner_key)[number]
    plain = AsgiClient(tenant.owner_key)
    session_id = _session_with(plain, 3, **{"1": "\x1f\x7f\u00e9\u2028\U0001f600.txt"})
    client = AsgiClient(None if _keyed(headers) else tenant.owner_key, headers=headers)
    path = f"/api/uploads/{session_id}{suffix}"
    expected = _through_django(monkeypatch, client, path)
    loop_reads_seen.statements.clear()
    loop_reads_seen.thread_trips = 0
    answer = client.get(path)
    assert _answer(answer) == _answer(expected), (answer.content, expected.content)
    if headers.get("Origin") == "https://ui.example":
        assert answer.headers["access-control-allow-origin"] == "https://ui.example"


def _keyed(headers: dict[str, str]) -> bool:
    return any(name in headers for name in ("Authorization", "X-API-Key"))


@pytest.mark.parametrize("zone", ["America/St_Johns", "Asia/Kathmandu"])
def test_the_loops_times_are_djangos_in_another_time_zone(
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    loop_reads_seen: LoopReads,  # noqa: F811
    zone: str,
) -> None:
    client = AsgiClient(tenant.owner_key)
    session_id = _session_with(client, 2)
    path = f"/api/uploads/{session_id}"
    with override_settings(TIME_ZONE=zone):
        expected = _through_django(monkeypatch, client, path)
        loop_reads_seen.statements.clear()
        answer = client.get(path)
    assert loop_reads_seen.statements and loop_reads_seen.thread_trips == 0
    assert _answer(answer) == _answer(expected)
    assert not answer.json()["attachments"][0]["created_at"].endswith("Z")


@pytest.mark.usefixtures("rate_window")
def test_with_reads_rate_limited_the_loop_does_not_answer_and_the_rate_is_counted(
    tenant: Tenant,
    monkeypatch: pytest.MonkeyPatch,
    loop_reads_seen: LoopReads,  # noqa: F811
) -> None:
    from django.core.cache import cache

    from config.rate_limits import Rate

    client = AsgiClient(tenant.owner_key)
    session_id = _session_with(client, 1)
    path = f"/api/uploads/{session_id}"
    cache.clear()
    with override_settings(DEPOT_RATE_LIMIT_READS=Rate(3, 60)):
        expected = _through_django(monkeypatch, client, path)
        loop_reads_seen.statements.clear()
        answers = [client.get(path) for _ in range(3)]
    cache.clear()
    # The gate's key check is read on the loop (config/loop_keys.usable_key); the page is not.
    pages = [sql for sql in loop_reads_seen.statements if "attachments_attachment" in sql]
    assert pages == [], "the loop answered a rate-limited read"
    assert len(loop_reads_seen.statements) == 3, "one key read on the loop per request"
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["ratelimit-remaining"] == "1"
    assert answers[0].content == expected.content


@pytest.mark.parametrize(
    "session_id",
    ["a" * 64, "a" * 65, "a" * 5000, "caf\u00e9", "\u0661\u0662", "a%00b", "A-B_c.d"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_odd_ids_and_head_are_answered_as_django_answers(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, session_id: str, method: str
) -> None:
    client = AsgiClient(tenant.owner_key)
    path = f"/api/uploads/{session_id}"
    with monkeypatch.context() as patched:
        patched.setattr(gate_reads, "list_request", lambda scope, headers: None)
        expected = client.request(method, path)
    answer = client.request(method, path)
    assert answer.status_code < 500
    assert _answer(answer) == _answer(expected)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's one statement")
def test_a_wrong_secret_reads_no_page(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the key's row and the page are one statement, and the secret is compared
    after it: a caller with a known key prefix and any secret has the session's page read (up
    to 201 rows) before its 401, so the 401's time says whether that session id exists in the
    key's organization and how full it is."""
    session_id = _session_with(asgi_owner, 3)
    prefix = tenant.owner_key.removeprefix("dpt_").partition("_")[0]
    forged = f"dpt_{prefix}_{'A' * 43}"
    read_rows: list[int] = []
    read = loop_reads._PostgresReader.read

    async def seen(self: Any, *args: Any) -> Any:
        key, rows = await read(self, *args)
        read_rows.append(len(rows))
        return key, rows

    monkeypatch.setattr(loop_reads._PostgresReader, "read", seen)
    assert AsgiClient(forged).get(f"/api/uploads/{session_id}").status_code == 401
    assert read_rows == [0], read_rows
