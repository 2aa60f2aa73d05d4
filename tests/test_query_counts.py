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

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from artifacts import semantic
from artifacts import services as artifact_services
from artifacts.indexing import artifact_index
from artifacts.models import Artifact
from artifacts.search import postgres as search_postgres
from attachments import storage
from attachments.services import attachment_create
from sessions_app import services as session_services
from sessions_app.models import DEFAULT_NAMESPACE, Namespace, Session
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

# The two long-poll reads (session_artifact_events, namespace_events) are not here: they
# authenticate and read in worker threads (sync_to_async(thread_sensitive=False)), whose
# connections neither see this test's uncommitted rows nor report to CaptureQueriesContext.
# tests/sessions_app/test_events.py covers them.
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
    "uploads_list": 4,
    "usage_retrieve": _usage_statements,
    "flat_artifacts_list": 4,
    # + the version's derived_from (FlatArtifactResponse lists the parents' ids)
    "flat_artifacts_retrieve": 5,
    "flat_artifacts_retrieve_file": 5,
    "flat_artifacts_retrieve_prefix": 6,
    "flat_artifacts_content_text": 4,
    "flat_artifacts_content_file": 4,
    "flat_artifacts_file": 4,
    "artifacts_list": 5,
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
# Ceilings per write: today's counts (the same on both profiles), SAVEPOINTs included. A PUT
# that makes a version: key (2), namespace, root lookup and version (3), then in one atomic
# block the root and latest locks, the quota (2), the next number, the flip of the old latest
# and its chunks, the insert, its lineage copy, the index task, and the event (the session and
# namespace sequences, one UPDATE ... RETURNING each, and the insert: 3), and the answer
# re-read (2).
WRITE_CEILINGS: dict[str, Expected] = {
    "sessions_create": 8,
    "sessions_update": 6,
    "sessions_complete": 12,
    "flat_artifacts_create": 11,
    "artifacts_create": 17,
    "artifacts_update_new_version": 25,
    "artifacts_update_in_place": 16,
    "artifacts_promote": 12,
    "artifacts_destroy": 26,
    # With the session's file_count decrement; the event's two sequences by UPDATE ... RETURNING.
    "uploads_destroy": 13,
    "sessions_destroy": 17,
}


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


@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_statement_ceiling(name: str, world: World, owner: APIClient) -> None:
    count, statements = _run(owner, WRITES[name], world)
    _check("write", name, count, statements, 0 if REPORT else _expected(WRITE_CEILINGS, name))


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
