"""The seed-000 list read on the event loop (config/loop_reads.py, issue 11): one statement on
the loop's own connection, no trip to a thread, and the thread path for every case it does not
answer (a key to refresh, revoked or expired keys, a wrong secret, other callers' sessions, a
failing database). Requests go through the real ASGI application, on both profiles."""

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from config import loop_reads, loop_statements, request_gate
from sessions_app import services as session_services
from sessions_app.models import ApiKey
from tests.conftest import AsgiClient, DjangoRequests, Tenant
from tests.test_gate_reads import _answer, _session_with, _through_django
from tests.test_request_cost import Statements, statements  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


class LoopReads:
    """The statements the loop's readers ran, and the thread path's key-and-page trips."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.thread_trips = 0


@pytest.fixture
def loop_reads_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopReads]:
    seen = LoopReads()
    monkeypatch.setattr(loop_reads, "observers", [seen.statements.append])
    trip = request_gate._authenticate_key_and_page

    async def counted(*args: Any) -> Any:
        seen.thread_trips += 1
        return await trip(*args)

    monkeypatch.setattr(request_gate, "_authenticate_key_and_page", counted)
    yield seen


def _prefix(raw_key: str) -> str:
    return raw_key.removeprefix("dpt_").partition("_")[0]


def _key(raw_key: str) -> ApiKey:
    return ApiKey.objects.get(prefix=_prefix(raw_key))


def test_the_list_is_read_on_the_loop_and_not_on_djangos_connection(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    statements: Statements,  # noqa: F811
    django_requests: DjangoRequests,
    loop_reads_seen: LoopReads,
) -> None:
    session_id = _session_with(asgi_owner, 3)
    statements.clear()
    loop_reads_seen.statements.clear()  # the uploads' key reads
    before = django_requests.count
    response = asgi_owner.get(f"/api/uploads/{session_id}")
    assert response.status_code == 200 and len(response.json()["attachments"]) == 3
    assert django_requests.count == before
    assert statements.sql == [], "Django's connection was used"
    assert loop_reads_seen.thread_trips == 0, "the list went to a thread"
    # PostgreSQL: one statement (each is a round trip); SQLite: the key's row, then the page.
    read = loop_reads_seen.statements
    assert len(read) == (1 if connection.vendor == "postgresql" else 2), read
    for table in ("sessions_app_apikey", "sessions_app_session", "attachments_attachment"):
        assert table in " ".join(read)


@pytest.mark.parametrize("query", ["", "?limit=1", "?limit=2&cursor=NEXT", "?limit=200"])
def test_the_loops_answer_is_djangos(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    monkeypatch: pytest.MonkeyPatch,
    loop_reads_seen: LoopReads,
    query: str,
) -> None:
    session_id = _session_with(asgi_owner, 5, **{"2": "caf\u00e9 \u2028.txt", "3": 'q"\\.txt'})
    if "NEXT" in query:
        first = asgi_owner.get(f"/api/uploads/{session_id}?limit=2").json()
        query = query.replace("NEXT", first["next_cursor"])
    path = f"/api/uploads/{session_id}{query}"
    expected = _through_django(monkeypatch, asgi_owner, path)
    loop_reads_seen.statements.clear()
    answer = asgi_owner.get(path)
    assert loop_reads_seen.statements and loop_reads_seen.thread_trips == 0
    assert _answer(answer) == _answer(expected)


def test_a_key_due_a_last_used_stamp_goes_by_the_thread_and_is_stamped(
    tenant: Tenant, asgi_owner: AsgiClient, loop_reads_seen: LoopReads
) -> None:
    session_id = _session_with(asgi_owner, 1)
    stale = timezone.now() - dt.timedelta(minutes=5)
    ApiKey.objects.filter(pk=_key(tenant.owner_key).pk).update(last_used_at=stale)
    assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    assert loop_reads_seen.thread_trips == 1
    assert _key(tenant.owner_key).last_used_at > stale
    # Fresh again: the next one stays on the loop.
    assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    assert loop_reads_seen.thread_trips == 1


@pytest.mark.parametrize("change", ["revoked", "expired"])
def test_revoked_and_expired_keys_are_refused_at_once(
    tenant: Tenant, asgi_owner: AsgiClient, loop_reads_seen: LoopReads, change: str
) -> None:
    session_id = _session_with(asgi_owner, 1)
    assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    now = timezone.now()
    if change == "revoked":
        session_services.api_key_revoke(api_key=_key(tenant.owner_key))
    else:
        ApiKey.objects.filter(pk=_key(tenant.owner_key).pk).update(
            expires_at=now - dt.timedelta(seconds=1)
        )
    refused = asgi_owner.get(f"/api/uploads/{session_id}")
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Invalid, revoked or expired API key."}


def test_a_known_prefix_with_a_wrong_secret_is_refused(
    tenant: Tenant, asgi_owner: AsgiClient, loop_reads_seen: LoopReads
) -> None:
    session_id = _session_with(asgi_owner, 1)
    forged = f"dpt_{_prefix(tenant.owner_key)}_{'A' * 43}"
    loop_reads_seen.statements.clear()
    refused = AsgiClient(forged).get(f"/api/uploads/{session_id}")
    assert refused.status_code == 401
    # The key's row read, the page not (on SQLite, where they are two), then the thread path.
    assert len(loop_reads_seen.statements) == 1
    assert loop_reads_seen.thread_trips == 1
    for bad in ("dpt_\x7f", "nope", "dpt_" + "a" * 300):
        assert AsgiClient(bad).get(f"/api/uploads/{session_id}").status_code == 401
    assert len(loop_reads_seen.statements) == 1  # implausible keys never reach the database


def test_other_callers_sessions_and_missing_ones_are_djangos_404s(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    stranger: Any,
    django_requests: DjangoRequests,
    loop_reads_seen: LoopReads,
) -> None:
    session_id = _session_with(asgi_owner, 1)
    limited = AsgiClient(tenant.limited_key)
    assert limited.upload(f"/api/uploads/reads-{uuid.uuid4().hex[:6]}", b"x").status_code == 201
    before = django_requests.count
    # The limited key's workspace has no such session; the stranger's organization neither.
    for client in (limited, AsgiClient(stranger.key)):
        assert client.upload(f"/api/uploads/mine-{uuid.uuid4().hex[:6]}", b"x").status_code == 201
        answer = client.get(f"/api/uploads/{session_id}")
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"].startswith("Session ")
    missing = asgi_owner.get(f"/api/uploads/reads-{uuid.uuid4().hex[:10]}")
    assert missing.status_code == 404
    # Three 404s from Django (the uploads are the upload middleware's, config/upload_answers.py).
    assert django_requests.count == before + 3


def test_a_failing_loop_read_is_answered_by_the_thread_path(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    session_id = _session_with(asgi_owner, 2)
    expected = asgi_owner.get(f"/api/uploads/{session_id}")

    async def broken(self: Any, *args: Any) -> Any:
        raise loop_reads.sqlite3.OperationalError("database is locked")

    for reader in (loop_reads._SqliteReader, loop_reads._PostgresReader):
        monkeypatch.setattr(reader, "read", broken)
    answer = asgi_owner.get(f"/api/uploads/{session_id}")
    assert _answer(answer) == _answer(expected)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite reader")
def test_the_sqlite_reader_cannot_write(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    session_id = _session_with(asgi_owner, 1)
    assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    reader = loop_reads._Current.reader
    assert isinstance(reader, loop_reads._SqliteReader)
    with pytest.raises(loop_reads.sqlite3.OperationalError, match="readonly"):
        reader.connection.execute("DELETE FROM sessions_app_apikey")
    assert ApiKey.objects.count() >= 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan")
def test_the_page_is_one_index_range_without_a_sort(tenant: Tenant) -> None:
    """Over a session of many attachments the page reads `limit + 1` rows in index order:
    the statement must not let PostgreSQL sort the whole session (or hash the session table)."""
    from django.db import connections

    django_connection = connections["default"]
    sql = loop_statements.statements(django_connection).both[True]
    now = timezone.now()
    with django_connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # the plan a large table gets
        cursor.execute(
            "EXPLAIN " + sql,
            [now, now, "0" * 64, "s", "s", _prefix(tenant.owner_key), 10**9, 51],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "Sort" not in plan and "Hash" not in plan, plan
    assert "attachment_session_idx" in plan, plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_the_statement_is_prepared_on_each_loop_connection(
    tenant: Tenant, asgi_owner: AsgiClient
) -> None:
    """Planning the statement cost PostgreSQL more than running it (0.7 ms against 0.1 ms)."""
    import asyncio

    session_id = _session_with(asgi_owner, 2)

    async def lists_then_prepared() -> list[bool]:
        for _ in range(2 * loop_reads.LOOP_CONNECTIONS):
            assert await loop_reads.list_page(tenant.owner_key, (session_id, 50, None))
        reader = loop_reads._Current.reader
        counts = []
        for pg_connection in reader.connections:
            cursor = await pg_connection.execute("SELECT statement FROM pg_prepared_statements")
            prepared = [row[0] for row in await cursor.fetchall()]
            counts.append(any("attachments_attachment" in sql for sql in prepared))
        return counts

    assert asyncio.run(lists_then_prepared()) == [True] * loop_reads.LOOP_CONNECTIONS
