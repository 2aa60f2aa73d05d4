"""Database statements per request: every read endpoint pinned to today's count, and ceilings
for the main writes (issue 10), so a regression (an N+1, a lookup done twice) fails here.

The counts are what the requests made when this was written, measured on both profiles; where
SQLite and PostgreSQL differ, both are written down. To see the counts of a changed tree, run
with DEPOT_QUERY_COUNTS=report: the test then prints each request's count and statements
instead of asserting (healthchecks and netbox pin counts the same way).

Every request runs with the tenant's rows already made, over the sync test client (one
thread, so CaptureQueriesContext sees every statement). A statement here includes the
SAVEPOINTs of nested atomic blocks: they are round trips too.
"""

import asyncio
import os
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from artifacts import semantic
from artifacts import services as artifact_services
from artifacts.indexing import artifact_index
from artifacts.models import Artifact
from artifacts.search import postgres as search_postgres
from attachments import storage
from attachments.services import attachment_create
from config.asgi import application
from sessions_app import services as session_services
from sessions_app.models import DEFAULT_NAMESPACE, Event, Namespace, Session
from sessions_app.signals import storage_usage
from tests.support import Tenant

pytestmark = pytest.mark.django_db

REPORT = os.environ.get("DEPOT_QUERY_COUNTS") == "report"
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


@pytest.fixture(autouse=True)
def fresh_search_statistics(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL's search reads the planner statistics at most every STATS_SECONDS per
    process: the count would depend on what ran before. Each test starts without them."""
    monkeypatch.setitem(search_postgres._stats, "at", -search_postgres.STATS_SECONDS)


@dataclass
class World:
    session: Session
    attachment_id: str
    text_artifact: Artifact  # inline text, two versions, linked to the session
    file_artifact: Artifact  # a stored file
    signed_token: str


@pytest.fixture
def world(tenant: Tenant) -> World:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    session = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="counted"
    )
    attachment = attachment_create(
        session_lookup=lambda: session,
        staged=storage.write_stream(iter([b"attached bytes\n"])),
        original_name="notes.txt",
    )
    fields = {"name": "Plan", "artifact_type": "plan", "workflow_id": "wf"}
    text = artifact_services.artifact_create(
        namespace=namespace,
        content=artifact_services.NewContent(text="alpha beta gamma"),
        session_lookup=lambda: session,
        thread_id="t-1",
        fields=fields,
    )
    text, _ = artifact_services.artifact_version_create(
        artifact=text, content=artifact_services.NewContent(text="alpha beta delta")
    )
    file = artifact_services.artifact_create(
        namespace=namespace,
        content=artifact_services.NewContent(
            staged=storage.write_stream(iter([b"\x00\x01binary"])), file_name="data.bin"
        ),
        fields={**fields, "name": "Data"},
    )
    artifact_index(artifact_pk=text.pk)
    token = storage.sign_download({"a": file.pk, "x": 2**31 - 1})
    return World(session, attachment.attachment_id, text, file, token)


@dataclass
class Call:
    method: str
    path: Callable[[World], str]
    body: dict[str, Any] | None = None
    status: int = 200


# GET requests, and the one POST that only reads (the search).
READS: dict[str, Call] = {
    "sessions_list": Call("get", lambda w: "/api/sessions"),
    "sessions_retrieve": Call("get", lambda w: "/api/sessions/counted"),
    "session_item_meta_attachment": Call(
        "get", lambda w: f"/api/sessions/counted/artifacts/{w.attachment_id}"
    ),
    "session_item_meta_artifact": Call(
        "get", lambda w: f"/api/sessions/counted/artifacts/{w.text_artifact.root_artifact_id}"
    ),
    "session_item_stream_attachment": Call(
        "get", lambda w: f"/api/sessions/counted/artifacts/{w.attachment_id}?mode=stream"
    ),
    "session_item_stream_artifact": Call(
        "get",
        lambda w: f"/api/sessions/counted/artifacts/{w.text_artifact.artifact_id}?mode=stream",
    ),
    "session_download_zip": Call("get", lambda w: "/api/sessions/counted/download"),
    "uploads_list": Call("get", lambda w: "/api/uploads/counted"),
    "usage_retrieve": Call("get", lambda w: "/api/usage"),
    "flat_artifacts_list": Call("get", lambda w: "/api/artifacts"),
    "flat_artifacts_retrieve": Call(
        "get", lambda w: f"/api/artifacts/{w.text_artifact.root_artifact_id}"
    ),
    # A file version's content is rendered from storage, not the database.
    "flat_artifacts_retrieve_file": Call(
        "get", lambda w: f"/api/artifacts/{w.file_artifact.artifact_id}"
    ),
    # The 12 characters seed 001's CLI prints: the exact lookup misses, the prefix one finds.
    "flat_artifacts_retrieve_prefix": Call(
        "get", lambda w: f"/api/artifacts/{w.text_artifact.root_artifact_id[:12]}"
    ),
    "flat_artifacts_content_text": Call(
        "get", lambda w: f"/api/artifacts/{w.text_artifact.root_artifact_id}/content"
    ),
    "flat_artifacts_content_file": Call(
        "get", lambda w: f"/api/artifacts/{w.file_artifact.artifact_id}/content"
    ),
    "flat_artifacts_file": Call(
        "get", lambda w: f"/api/artifacts/{w.file_artifact.artifact_id}/file"
    ),
    "artifacts_list": Call("get", lambda w: f"{NS}/artifacts"),
    "artifacts_retrieve": Call(
        "get", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}"
    ),
    "artifacts_retrieve_lineage": Call(
        "get", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}?include=lineage"
    ),
    "artifacts_versions": Call(
        "get", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}/versions"
    ),
    "artifacts_download_url": Call(
        "get", lambda w: f"{NS}/artifacts/{w.file_artifact.artifact_id}/download"
    ),
    "thread_artifacts_list": Call("get", lambda w: f"{NS}/threads/t-1/artifacts"),
    "signed_download": Call("get", lambda w: f"/api/signed/{w.signed_token}"),
    "artifacts_query": Call("post", lambda w: f"{NS}/artifacts/query", {"query": "alpha"}),
}

# The two long-poll reads, counted apart below (LONG_POLLS): they authenticate and read in
# worker threads, which CaptureQueriesContext does not see.
NOT_COUNTED = {"session_artifact_events", "namespace_events"}

# Writes, each from the same starting rows.
WRITES: dict[str, Call] = {
    "sessions_create": Call("post", lambda w: "/api/sessions", {"session_id": "new"}, 201),
    "sessions_update": Call("patch", lambda w: "/api/sessions/counted", {"metadata": {"k": "v"}}),
    "sessions_complete": Call("post", lambda w: "/api/sessions/counted/complete", {}),
    "flat_artifacts_create": Call(
        "post",
        lambda w: "/api/artifacts",
        {"workflow_id": "wf", "artifact_type": "note", "title": "N", "content": "x"},
        201,
    ),
    "artifacts_create": Call(
        "post",
        lambda w: f"{NS}/artifacts",
        {"name": "N", "content": "x", "session_id": "counted", "thread_id": "t-1"},
        201,
    ),
    "artifacts_update_new_version": Call(
        "put", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}", {"content": "new"}
    ),
    "artifacts_update_in_place": Call(
        "put", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}", {"name": "Renamed"}
    ),
    "artifacts_promote": Call(
        "post", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}/promote", {}
    ),
    "artifacts_destroy": Call(
        "delete", lambda w: f"{NS}/artifacts/{w.text_artifact.root_artifact_id}", None, 204
    ),
    "uploads_destroy": Call(
        "delete", lambda w: f"/api/uploads/counted/{w.attachment_id}", None, 204
    ),
    "sessions_destroy": Call("delete", lambda w: "/api/sessions/counted", None, 204),
}


def _usage_statements() -> int:
    # The key, its last_used_at, the organization's quota, the workspace, one aggregate per
    # app that reports usage (a `storage_usage` receiver), and the API key count.
    return 4 + len(storage_usage.receivers)


Expected = int | dict[str, int] | Callable[[], int]

# Statements per read, as measured on both profiles. Every authenticated request starts with
# two: the API key (with its organization and workspace) and its last_used_at (written at most
# once a minute; the fixture's key is fresh). Then, for example, artifacts_retrieve reads the
# namespace, the id's root (`artifact_get`'s narrow lookup), and the version with its related
# rows (one join); the lineage adds one walk per direction.
READ_COUNTS: dict[str, Expected] = {
    "sessions_list": 3,
    "sessions_retrieve": 3,
    "session_item_meta_attachment": 5,
    "session_item_meta_artifact": 5,
    "session_item_stream_attachment": 5,
    "session_item_stream_artifact": 5,
    "session_download_zip": 5,
    # The session and its page are one statement (attachments/listing.py).
    "uploads_list": 3,
    "usage_retrieve": _usage_statements,
    "flat_artifacts_list": 4,
    # + the version's derived_from (FlatArtifactResponse lists the parents' ids)
    "flat_artifacts_retrieve": 5,
    "flat_artifacts_retrieve_file": 5,
    "flat_artifacts_retrieve_prefix": 6,
    "flat_artifacts_content_text": 4,
    "flat_artifacts_content_file": 4,
    "flat_artifacts_file": 4,
    # The key (2), the namespace, the page with its total (the namespace's counter).
    "artifacts_list": 4,
    "artifacts_retrieve": 5,
    "artifacts_retrieve_lineage": 7,
    "artifacts_versions": 6,
    "artifacts_download_url": 5,
    "thread_artifacts_list": 5,
    # No key: the signed token is the check, then the version with its blob.
    "signed_download": 1,
    # PostgreSQL's backend also reads the planner statistics (once per STATS_SECONDS per
    # process; the fixture above makes it this request) and words that FTS5 does not need.
    # With the semantic extra installed (CI's production profile), one more: the vector query.
    "artifacts_query": lambda: (
        {"sqlite": 7, "postgresql": 11}[connection.vendor] + (1 if semantic.available() else 0)
    ),
}
# Ceilings per write: today's counts (the same on both profiles but for the session's delete),
# SAVEPOINTs included. A PUT that makes a version (issue 11): key (2), one read of the namespace,
# the artifact's latest version and what the answer names, then in one atomic block (the SAVEPOINT
# pair) the root's lock, the replaced version's flip (its lock, the next number, the fields it
# hands on and whether it has chunks or parents, in one UPDATE ... RETURNING), its chunks (it was
# indexed), the insert, the index task and the event (the session and namespace sequences and the
# insert: 3); the answer is built from what was written. It was 25: the namespace, the root lookup,
# the locked re-reads, the quota's two reads, MAX(version), the lineage copy's two reads, a
# savepoint pair and the answer's two re-reads went. The in-place PUT reads the namespace and the
# artifact in that one statement too (16 before).
WRITE_CEILINGS: dict[str, Expected] = {
    "sessions_create": 8,
    "sessions_update": 6,
    "sessions_complete": 12,
    # Creates and deletes also move the namespace's artifact_count (the seed-002 list's total),
    # one UPDATE after the event append, which already holds the namespace row.
    "flat_artifacts_create": 12,
    "artifacts_create": 18,
    "artifacts_update_new_version": 13,
    "artifacts_update_in_place": 15,
    "artifacts_promote": 12,
    "artifacts_destroy": 27,
    # With the session's file_count decrement; the event's two sequences by UPDATE ... RETURNING.
    "uploads_destroy": 13,
    # On PostgreSQL, one more: the second unlink of the session's artifacts, under its lock
    # (FOR UPDATE NOWAIT; SQLite's writer holds the database's write lock, no second pass).
    "sessions_destroy": {"sqlite": 17, "postgresql": 18},
}


# The same PUT as a running server makes it (issue 11's figure, at most 10): in its own
# transaction, whose BEGIN and COMMIT are no statements here (the test transaction's SAVEPOINT
# pair above stands for them), with a key whose last_used_at was written less than a minute
# ago. The replaced version has chunks; one that was never indexed makes it one fewer. On
# PostgreSQL the event's namespace number is taken by its INSERT (raw_writes.insert_numbered):
# one fewer again.
PUT_NEW_VERSION_COMMITTED = {"sqlite": 10, "postgresql": 9}
TRANSACTION_CONTROL = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT"}


def _expected(table: dict[str, Expected], name: str) -> int:
    value = table[name]
    if callable(value):
        return value()
    return value if isinstance(value, int) else value[connection.vendor]


async def _drain(response: Any) -> None:
    async for _ in response.streaming_content:
        pass
    response.close()


def _run(client: APIClient, call: Call, world: World) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, call.method)(call.path(world), call.body, format="json")
        if response.streaming:
            async_to_sync(_drain)(response)  # the statements made while streaming
    assert response.status_code == call.status, response.content
    return len(captured), [query["sql"] for query in captured.captured_queries]


def _check(kind: str, name: str, count: int, statements: list[str], expected: int) -> None:
    if REPORT:
        print(f"\n{kind} {name}: {count} ({connection.vendor})")
        for sql in statements:
            print(f"    {sql[:160]}")
        return
    if kind == "read":
        assert count == expected, f"{name}: {count} statements, pinned at {expected}"
    else:
        assert count <= expected, f"{name}: {count} statements, ceiling {expected}"


@pytest.mark.parametrize("name", sorted(READS))
def test_read_statement_count(name: str, world: World, owner: APIClient) -> None:
    count, statements = _run(owner, READS[name], world)
    _check("read", name, count, statements, 0 if REPORT else _expected(READ_COUNTS, name))


# The seed-002 list's statements (issue 11): the key (2), the namespace, then unfiltered the
# page with its total in the same statement: the namespace's artifact_count, less (by default)
# a count over the index of expired latest versions only, so no COUNT walks the namespace's
# artifacts; filtered by a thread or types, the filtered COUNT and then the page. The page
# reads no root row and no content_preview, and content_text only where it differs from
# content.
LIST_QUERIES = {
    "default": ("", "expired"),
    "include_expired": ("?include_expired=true", "counter"),
    "types": ("?artifact_types=plan", "count"),
    "thread": ("?thread_id=t-1", "count"),
    "thread_route": ("/threads/t-1", "count"),
}


@pytest.mark.parametrize("name", sorted(LIST_QUERIES))
def test_artifacts_list_statements(name: str, world: World, owner: APIClient) -> None:
    query, total_kind = LIST_QUERIES[name]
    path = f"{NS}{query}/artifacts" if query.startswith("/") else f"{NS}/artifacts{query}"
    count, statements = _run(owner, Call("get", lambda w: path), world)
    if REPORT:
        _check("read", f"artifacts_list {name}", count, statements, 0)
        return
    if total_kind == "count":
        assert count == 5, statements
        total, page = statements[3], statements[4]
    else:
        assert count == 4, statements
        total = page = statements[3]
    if total_kind == "count":
        assert total.upper().startswith("SELECT COUNT(*)") and "artifacts_artifact" in total
    else:
        assert "artifact_count" in total, total
        assert total.upper().count("COUNT(") == (1 if total_kind == "expired" else 0), total
        if total_kind == "expired":
            assert "expires_at" in total and "is_latest" in total
    columns = page.split(" FROM ", 1)[0]
    assert "content_preview" not in columns and "NULLIF" in columns.upper(), page
    # Of the root row (the self-join's alias), only its public id; no blob row.
    assert re.findall(r'\bT\d+\."(\w+)"', columns) == ["artifact_id"], page
    assert "artifacts_blob" not in page, page


@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_statement_ceiling(name: str, world: World, owner: APIClient) -> None:
    count, statements = _run(owner, WRITES[name], world)
    _check("write", name, count, statements, 0 if REPORT else _expected(WRITE_CEILINGS, name))


@pytest.mark.django_db(transaction=True)
def test_a_new_version_in_its_own_transaction_statement_count(
    world: World, owner: APIClient
) -> None:
    assert owner.get(f"{NS}/artifacts/{world.text_artifact.root_artifact_id}").status_code == 200
    _, statements = _run(owner, WRITES["artifacts_update_new_version"], world)
    # SQLite's BEGIN IMMEDIATE and COMMIT go through the cursor, PostgreSQL's do not: the
    # transaction's own two are left out on both.
    work = [sql for sql in statements if sql.upper() not in TRANSACTION_CONTROL]
    assert REPORT or not any(sql.upper().startswith("SAVEPOINT") for sql in work)
    expected = PUT_NEW_VERSION_COMMITTED[connection.vendor]
    _report_or_pin("artifacts_update_new_version_committed", work, expected)


def test_every_read_operation_is_counted() -> None:
    """Each GET operation of the schema has a row above (a new read route must add one)."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    gets = {
        operation["operationId"]
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method == "get"
    }
    counted = {name.split("_attachment")[0].split("_artifact")[0] for name in READS} | set(READS)
    counted |= {"session_item_retrieve", "flat_artifacts_content"}
    assert gets - counted == NOT_COUNTED


# --- the long-polls ---
# They authenticate and read in worker threads (sync_to_async(thread_sensitive=False)), whose
# connections neither see a test transaction's rows nor report to CaptureQueriesContext. So
# these tests commit their rows (transaction=True) and count every statement run in the poll's
# context, in whatever thread: asgiref copies the context into the threads it runs code in.
# (On PostgreSQL each read also reconnects, as release_connection hands the connection back
# before a wait; a connect is not a statement here.)
LONG_POLLS: dict[str, str] = {
    "session_artifact_events": "/api/sessions/counted/artifact-events",
    "namespace_events": f"{NS}/events",
}
# The same on both profiles: the request gate's key lookup and its last_used_at (2; the
# long-poll takes the key the gate checked, it does not look it up again), the feed (1: the
# watcher's workspace for that session id, or the namespace), then the read: the feed's top
# sequence and the page after `after` (2).
LONG_POLL_AT_ONCE = {"session_artifact_events": 5, "namespace_events": 5}
# A poll that waits: its read finds nothing past the top (the top alone), a write wakes it,
# and it reads again (the top and the page).
LONG_POLL_WOKEN = {"session_artifact_events": 6, "namespace_events": 6}

_counted: ContextVar[list[str] | None] = ContextVar("counted", default=None)


@pytest.fixture
def counting_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record each statement made in a context that `_poll` marked, in any thread."""
    original = CursorWrapper._execute_with_wrappers

    def recorded(self: CursorWrapper, sql: str, params: Any, many: bool, executor: Any) -> Any:
        seen = _counted.get()
        if seen is not None:
            seen.append(sql)
        return original(self, sql, params, many, executor)

    monkeypatch.setattr(CursorWrapper, "_execute_with_wrappers", recorded)


async def _poll(path: str, key: str, seen: list[str], **params: object) -> dict[str, Any]:
    """One long-poll through the whole ASGI application; `seen` gets the statements it made."""

    async def polling() -> dict[str, Any]:
        _counted.set(seen)  # this task's context only: the test's own writes are not counted
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=30
        ) as client:
            response = await client.get(path, params=params, headers={"X-API-Key": key})
        assert response.status_code == 200, response.text
        return response.json()

    return await asyncio.create_task(polling())


def _report_or_pin(name: str, statements: list[str], expected: int) -> None:
    if REPORT:
        _check("read", name, len(statements), statements, 0)
        return
    listed = "\n".join(sql[:160] for sql in statements)
    assert len(statements) == expected, f"{name}: {len(statements)} statements:\n{listed}"


def _top(name: str, world: World) -> int:
    if name == "session_artifact_events":
        return Event.objects.filter(session=world.session).aggregate(top=Max("sequence"))["top"]
    top = Event.objects.filter(namespace=world.session.namespace_id)
    return top.aggregate(top=Max("namespace_sequence"))["top"]


def _write(world: World) -> None:
    attachment_create(
        session_lookup=lambda: world.session,
        staged=storage.write_stream(iter([b"later\n"])),
        original_name="later.txt",
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(LONG_POLLS))
async def test_long_poll_answering_at_once_statement_count(
    name: str, world: World, tenant: Tenant, counting_anywhere: None
) -> None:
    statements: list[str] = []
    body = await _poll(LONG_POLLS[name], tenant.owner_key, statements, wait_seconds=30)
    assert body["events"] and body["timed_out"] is False
    _report_or_pin(name, statements, LONG_POLL_AT_ONCE[name])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(LONG_POLLS))
async def test_long_poll_woken_by_a_write_statement_count(
    name: str, world: World, tenant: Tenant, counting_anywhere: None
) -> None:
    top = await sync_to_async(_top)(name, world)
    statements: list[str] = []
    poll = asyncio.create_task(
        _poll(LONG_POLLS[name], tenant.owner_key, statements, after=top, wait_seconds=30)
    )
    # Write once the poll has read the top and is waiting (or about to: it subscribed before
    # reading, so the wake-up waits for it).
    for _ in range(1000):
        if poll.done() or any("MAX(" in sql.upper() for sql in statements):
            break
        await asyncio.sleep(0.01)
    await sync_to_async(_write, thread_sensitive=False)(world)
    body = await asyncio.wait_for(poll, 20)
    assert body["timed_out"] is False and [e["name"] for e in body["events"]] == ["later.txt"]
    _report_or_pin(name, statements, LONG_POLL_WOKEN[name])
