"""Seed-000 events as that system's real clients read them (issue 12): the real server's keys
(`file_name`, `relative_path`, `mime_type`, bare-hex `sha256`, `created_at`, `data_uri`,
`extra`) beside the document's, on the long-poll, the WebSocket and the namespace feed; and an
artifact event's `attachment_id` is the id the meta/stream route serves that file by."""

import base64
import hashlib
import os
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from artifacts.models import Artifact
from config.asgi import application
from sessions_app.models import version_file_id
from tests.support import AsgiClient, Tenant, client_with

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = "/api/sessions/{sid}/artifact-events"
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
DOCUMENT_KEYS = {
    "artifact_id",
    "attachment_id",
    "node_id",
    "path",
    "size",
    "mime",
    "hash",
    "timestamp",
}
REAL_SERVER_KEYS = {
    "file_name",
    "relative_path",
    "mime_type",
    "sha256",
    "created_at",
    "data_uri",
    "extra",
}
DEPOT_KEYS = {
    "event_id",
    "sequence",
    "namespace_sequence",
    "kind",
    "change_type",
    "session_id",
    "name",
}


def _events(client: AsgiClient, session: str, after: int = 0) -> list[dict]:
    response = client.get(
        EVENTS.format(sid=session), params={"wait_seconds": 0, "after": after, "limit": 200}
    )
    assert response.status_code == 200, response.text
    return response.json()["events"]


def _assert_real_server_keys(event: dict) -> None:
    assert set(event) == DOCUMENT_KEYS | REAL_SERVER_KEYS | DEPOT_KEYS
    assert event["file_name"] == event["name"]
    assert event["relative_path"] == event["path"]
    assert event["mime_type"] == event["mime"]
    expected = event["hash"].removeprefix("sha256:") if event["hash"] else None
    assert event["sha256"] == expected
    assert (event["data_uri"], event["extra"]) == (None, {})


def test_an_upload_event_has_the_real_servers_keys(asgi_owner: AsgiClient) -> None:
    content = b'{"a": 1}'
    made = asgi_owner.upload(
        "/api/uploads/keys",
        content,
        name="result.json",
        node_id="python_runner",
        path="code_workspace/result.json",
    ).json()
    [event] = _events(asgi_owner, "keys")
    _assert_real_server_keys(event)
    assert (event["file_name"], event["relative_path"], event["mime_type"]) == (
        "result.json",
        "code_workspace/result.json",
        "application/json",
    )
    # Bare hex, as the real server sends it (the document's `hash` keeps its prefix).
    assert event["sha256"] == hashlib.sha256(content).hexdigest() == made["sha256"]
    assert event["hash"] == f"sha256:{made['sha256']}"
    assert event["created_at"].endswith("Z") and event["attachment_id"] == made["attachment_id"]


def test_an_upload_without_a_path_has_a_null_relative_path(asgi_owner: AsgiClient) -> None:
    asgi_owner.upload("/api/uploads/nopath", b"x", name="x.txt")
    [event] = _events(asgi_owner, "nopath")
    _assert_real_server_keys(event)
    assert (event["relative_path"], event["path"], event["file_name"]) == (None, None, "x.txt")


def test_every_kind_of_event_has_every_key(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    made = asgi_owner.upload("/api/uploads/kinds", b"bytes", name="a.bin").json()
    artifact = owner.post(
        f"{NS}/artifacts", {"name": "Plan", "content": "# v1", "session_id": "kinds"}, format="json"
    ).json()
    owner.put(f"{NS}/artifacts/{artifact['artifact_id']}", {"content": "# v2"}, format="json")
    owner.put(f"{NS}/artifacts/{artifact['artifact_id']}", {"summary": "s"}, format="json")
    asgi_owner.delete(f"/api/uploads/kinds/{made['attachment_id']}")
    owner.delete(f"{NS}/artifacts/{artifact['artifact_id']}")
    owner.post("/api/sessions/kinds/complete")
    events = _events(asgi_owner, "kinds")
    assert [e["kind"] for e in events] == [
        "attachment.created",
        "artifact.created",
        "artifact.version_created",
        "artifact.updated",
        "attachment.deleted",
        "artifact.deleted",
        "session.completed",
    ]
    for event in events:
        _assert_real_server_keys(event)
        if event["artifact_id"] is not None:
            assert event["attachment_id"] == version_file_id(event["artifact_id"])
            assert event["attachment_id"].startswith("ver_")
    completed = events[-1]
    assert (completed["attachment_id"], completed["sha256"], completed["file_name"]) == (
        None,
        None,
        None,
    )


# --- an artifact event's attachment_id, through the meta and stream routes ---


def test_an_agent_made_file_opens_through_its_events_attachment_id(
    asgi_owner: AsgiClient,
) -> None:
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    made = asgi_owner.upload(
        f"{NS}/artifacts/upload", content, name="chart.png", session_id="agent"
    ).json()
    [event] = _events(asgi_owner, "agent")
    assert event["kind"] == "artifact.created"
    assert event["artifact_id"] == made["artifact_id"]
    assert event["attachment_id"] == version_file_id(made["artifact_id"])
    _assert_real_server_keys(event)
    assert (event["file_name"], event["mime_type"]) == ("chart.png", "image/png")
    # What a seed-000 UI does with it: meta (its download and preview use data_uri) …
    meta = asgi_owner.get(f"/api/sessions/agent/artifacts/{event['attachment_id']}")
    assert meta.status_code == 200, meta.text
    body = meta.json()
    assert body["artifact_id"] == made["artifact_id"]
    assert body["sha256"] == event["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["data_uri"] == "data:image/png;base64," + base64.b64encode(content).decode()
    # … and the bytes, on the stream route and through the meta route's mode=stream.
    for path in (
        f"/api/sessions/agent/artifacts/{event['attachment_id']}/stream",
        f"/api/sessions/agent/artifacts/{event['attachment_id']}?mode=stream",
    ):
        streamed = asgi_owner.get(path)
        assert (streamed.status_code, streamed.content) == (200, content)
        assert streamed.headers["etag"] == f'"{event["sha256"]}"'


def test_a_new_versions_event_opens_that_version(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    first = owner.post(
        f"{NS}/artifacts",
        {"name": "notes.txt", "content": "one", "content_type": "text/plain", "session_id": "v"},
        format="json",
    ).json()
    owner.put(f"{NS}/artifacts/{first['artifact_id']}", {"content": "two"}, format="json")
    created, versioned = _events(asgi_owner, "v")
    assert versioned["kind"] == "artifact.version_created"
    assert versioned["attachment_id"] != created["attachment_id"]
    meta = asgi_owner.get(f"/api/sessions/v/artifacts/{versioned['attachment_id']}").json()
    assert meta["sha256"] == versioned["sha256"] == hashlib.sha256(b"two").hexdigest()
    stream = asgi_owner.get(f"/api/sessions/v/artifacts/{versioned['attachment_id']}/stream")
    assert stream.content == b"two"


def test_version_1s_event_opens_version_1_after_a_newer_version(
    asgi_owner: AsgiClient, owner
) -> None:  # type: ignore[no-untyped-def]
    # Version 1's own id is also the artifact's (root) id, which the seed-000 routes read as
    # the latest version; its event's `ver_` id opens version 1 itself, on meta and stream.
    first = owner.post(
        f"{NS}/artifacts",
        {"name": "plan.md", "content": "one", "content_type": "text/markdown", "session_id": "v1"},
        format="json",
    ).json()
    owner.put(f"{NS}/artifacts/{first['artifact_id']}", {"content": "two"}, format="json")
    created, _ = _events(asgi_owner, "v1")
    assert created["artifact_id"] == first["artifact_id"]
    meta = asgi_owner.get(f"/api/sessions/v1/artifacts/{created['attachment_id']}").json()
    assert meta["sha256"] == created["sha256"] == hashlib.sha256(b"one").hexdigest()
    assert meta["artifact_id"] == first["artifact_id"]
    stream = asgi_owner.get(f"/api/sessions/v1/artifacts/{created['attachment_id']}/stream")
    assert stream.content == b"one"
    # The root id still stands for the artifact: the latest version.
    latest = asgi_owner.get(f"/api/sessions/v1/artifacts/{first['artifact_id']}/stream")
    assert latest.content == b"two"
    # A version file id of another session, or of nothing, is a 404 like any unknown id.
    assert (
        asgi_owner.get(f"/api/sessions/other/artifacts/{created['attachment_id']}").status_code
        == 404
    )
    assert asgi_owner.get("/api/sessions/v1/artifacts/ver_0000").status_code == 404


def test_delete_on_the_uploads_route_does_not_delete_an_artifact(
    asgi_owner: AsgiClient, owner
) -> None:  # type: ignore[no-untyped-def]
    # README: DELETE /api/uploads/{sid}/{id} removes uploads (attachments) only; an
    # artifact's id there is a 404 and the artifact stays (seed 002's DELETE removes it).
    made = owner.post(
        f"{NS}/artifacts", {"name": "Keep", "content": "k", "session_id": "del"}, format="json"
    ).json()
    [event] = _events(asgi_owner, "del")
    response = asgi_owner.delete(f"/api/uploads/del/{event['attachment_id']}")
    assert response.status_code == 404
    assert "artifact" in response.json()["detail"]
    assert Artifact.objects.filter(artifact_id=made["artifact_id"]).exists()
    assert (
        asgi_owner.get(f"/api/sessions/del/artifacts/{event['attachment_id']}").status_code == 200
    )
    assert [e["kind"] for e in _events(asgi_owner, "del")] == ["artifact.created"]


# --- the other readers send the same payload ---


def test_the_namespace_feed_has_the_keys(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    owner.post(f"{NS}/artifacts", {"name": "Loose", "content": "no session"}, format="json")
    response = asgi_owner.get(f"{NS}/events", params={"wait_seconds": 0})
    [event] = response.json()["events"]
    _assert_real_server_keys(event)
    assert event["attachment_id"] == version_file_id(event["artifact_id"])
    assert event["session_id"] is None


async def test_the_websocket_sends_the_keys(tenant: Tenant) -> None:
    asgi = AsgiClient(tenant.owner_key)
    communicator = WebsocketCommunicator(
        application, "/ws/sessions/wskeys", headers=[(b"x-api-key", tenant.owner_key.encode())]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    try:
        owner = client_with(tenant.owner_key)
        made = await sync_to_async(owner.post, thread_sensitive=False)(
            f"{NS}/artifacts",
            {"name": "r.md", "content": "# r", "session_id": "wskeys"},
            format="json",
        )
        deadline = time.monotonic() + 10
        message = await communicator.receive_json_from(timeout=max(deadline - time.monotonic(), 1))
        assert message["type"] == "artifact_created"
        [event] = message["data"]["events"]
        _assert_real_server_keys(event)
        assert event["attachment_id"] == version_file_id(made.json()["artifact_id"])
        meta = await sync_to_async(asgi.get, thread_sensitive=False)(
            f"/api/sessions/wskeys/artifacts/{event['attachment_id']}"
        )
        assert (
            meta.json()["data_uri"]
            == "data:text/markdown;base64," + base64.b64encode(b"# r").decode()
        )
    finally:
        await communicator.disconnect()


def test_the_schema_describes_the_keys(owner) -> None:  # type: ignore[no-untyped-def]
    schema = owner.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    properties = schema["components"]["schemas"]["EventItem"]["properties"]
    assert set(properties) == DOCUMENT_KEYS | REAL_SERVER_KEYS | DEPOT_KEYS
