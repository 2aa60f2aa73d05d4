"""Per-request cost (issue 11): what a small request costs the server, pinned.

Requests go through the real ASGI application in process (the request gate, the upload
middleware, Django). Statements are counted on every thread's connection (the request's sync
work runs on the kept threads of config/threads.py, not on the test's), by recording each SQL
statement Django's cursor wrapper executes."""

import asyncio
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db.backends import utils as backend_utils
from django.db.backends.signals import connection_created

from attachments.api.serializers import AttachmentListItem
from attachments.models import Attachment
from config.threads import SyncThreads
from tests.conftest import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


class Statements:
    """Every SQL statement executed while recording, on any thread."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.recording = False
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self.sql.clear()

    def on(self, table: str) -> list[str]:
        return [sql for sql in self.sql if f'"{table}"' in sql]


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
    # the page.
    assert len(statements.on("sessions_app_apikey")) == 1
    assert len(statements.on("attachments_attachment")) == 1
    assert not [sql for sql in statements.sql if "SAVEPOINT" in sql]
