"""Seed-001 flat artifacts surface: /api/artifacts, /api/artifacts/{id}, /content, /upload and
the /file route that serves an upload's `storage_url` (product.md §2.2, §2.5, §6)."""

import base64
import hashlib
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from artifacts.models import Artifact
from sessions_app.models import Event, Session
from tests.support import AsgiClient, Stranger, Tenant, client_with, multipart_body, stored_keys

# transaction=True only on the tests that cross threads: the ASGI client serves from another
# thread, and the task worker needs committed rows (and closes its connection).
pytestmark = pytest.mark.django_db

LIST_ITEM_FIELDS = {
    "id",
    "workflow_id",
    "phase_id",
    "artifact_type",
    "title",
    "size_bytes",
    "created_at",
}
DETAIL_FIELDS = {
    "id",
    "version_id",
    "version",
    "workflow_id",
    "phase_id",
    "session_id",
    "artifact_type",
    "is_primary_deliverable",
    "content",
    "content_encoding",
    "content_type",
    "content_hash",
    "size_bytes",
    "title",
    "derived_from",
    "created_at",
    "created_by",
    "metadata",
}
CONTENT_FIELDS = {"artifact_id", "content", "content_type", "size_bytes", "content_encoding"}
REQUIRED_FIELDS = ["workflow_id", "artifact_type", "title", "content"]
HASH_PATTERN = re.compile(r"^sha256:[0-9a-f]{64}$")
# Bytes no sniffer takes for text: a NUL and invalid UTF-8 up front, then noise.
BINARY_HEAD = b"\x00\xff\xfe\x01DEPOT-BINARY\x00"


def _sha(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "workflow_id": "wf-1",
        "artifact_type": "report",
        "title": "Report",
        "content": "# Report\n",
    }
    body.update(overrides)
    return body


def _create(client: APIClient, **overrides: Any) -> str:
    response = client.post("/api/artifacts", _body(**overrides), format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _assert_422(response: Any, loc: list[Any], type_: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    for item in detail:
        assert set(item) == {"loc", "msg", "type"}
        assert isinstance(item["msg"], str) and isinstance(item["type"], str)
    matching = [item for item in detail if item["loc"] == loc]
    assert matching, detail
    if type_ is not None:
        assert matching[0]["type"] == type_, detail
    return matching[0]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _upload(client: AsgiClient, artifact_id: str, content: bytes, name: str = "x.bin") -> Any:
    response = client.upload(f"/api/artifacts/{artifact_id}/upload", content, name=name)
    assert response.status_code == 200, response.text
    return response.json()


def _decoded(body: dict[str, Any]) -> bytes:
    """The bytes a /content document stands for, by its content_encoding."""
    if body["content_encoding"] == "base64":
        return base64.b64decode(body["content"], validate=True)
    assert body["content_encoding"] == "utf-8"
    return str(body["content"]).encode()


def _binary(size: int) -> bytes:
    return (BINARY_HEAD + os.urandom(max(size - len(BINARY_HEAD), 0)))[:size]


# --- create ---


def test_create_response_shape(owner: APIClient) -> None:
    response = owner.post(
        "/api/artifacts",
        _body(title="Plan", artifact_type="plan"),
        format="json",
    )
    assert response.status_code == 201
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"id", "title", "artifact_type", "status"}
    assert isinstance(body["id"], str) and body["id"].startswith("art_")
    assert (body["title"], body["artifact_type"], body["status"]) == ("Plan", "plan", "created")
    row = Artifact.objects.get()
    assert (row.artifact_id, row.version, row.is_latest) == (body["id"], 1, True)


def test_detail_shape_and_types(owner: APIClient) -> None:
    content = "# Héllo — ✓\n"
    artifact_id = _create(owner, content=content, phase_id="ph-1")
    response = owner.get(f"/api/artifacts/{artifact_id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert body["id"] == artifact_id
    assert body["version_id"] == artifact_id  # version 1 is the root
    assert body["version"] == 1
    for name in ("workflow_id", "phase_id", "artifact_type", "content", "content_type", "title"):
        assert isinstance(body[name], str), name
    assert body["session_id"] is None
    assert body["is_primary_deliverable"] is False
    assert body["content"] == content
    assert body["content_type"] == "text/markdown"
    assert HASH_PATTERN.match(body["content_hash"])
    assert body["content_hash"] == _sha(content.encode())
    assert type(body["size_bytes"]) is int and body["size_bytes"] == len(content.encode())
    assert body["derived_from"] == []
    assert body["metadata"] == {}
    assert isinstance(body["created_by"], str) and body["created_by"]
    datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))


def test_every_accepted_field_is_stored_and_returned(owner: APIClient) -> None:
    parent = _create(owner, title="Parent")
    other_parent = _create(owner, title="Other parent")
    metadata = {"model": "m-1", "score": 0.5, "nested": {"list": [1, "two", None]}}
    artifact_id = _create(
        owner,
        workflow_id="wf-full",
        artifact_type="analysis",
        title="Full",
        content='{"a": 1}',
        phase_id="phase-7",
        session_id="run-42",
        content_type="application/json",
        derived_from=[parent, other_parent],
        metadata=metadata,
        is_primary_deliverable=True,
    )
    body = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert body["workflow_id"] == "wf-full"
    assert body["artifact_type"] == "analysis"
    assert body["title"] == "Full"
    assert body["content"] == '{"a": 1}'
    assert body["phase_id"] == "phase-7"
    assert body["session_id"] == "run-42"
    assert body["content_type"] == "application/json"
    assert sorted(body["derived_from"]) == sorted([parent, other_parent])
    assert body["metadata"] == metadata
    assert body["is_primary_deliverable"] is True


@pytest.mark.django_db(transaction=True)
def test_derived_from_ids_name_the_parents(owner: APIClient, asgi_owner: AsgiClient) -> None:
    parent = _create(owner, title="Parent")
    _upload(asgi_owner, parent, _binary(32))  # the parent now has a version 2
    child = _create(owner, title="Child", derived_from=[parent])
    derived = owner.get(f"/api/artifacts/{child}").json()["derived_from"]
    assert len(derived) == 1 and isinstance(derived[0], str)
    resolved = owner.get(f"/api/artifacts/{derived[0]}").json()
    assert (resolved["id"], resolved["title"]) == (parent, "Parent")


def test_content_type_defaults_to_markdown(owner: APIClient) -> None:
    artifact_id = _create(owner)
    assert owner.get(f"/api/artifacts/{artifact_id}").json()["content_type"] == "text/markdown"
    assert Artifact.objects.get().content_type == "text/markdown"


def test_empty_content_is_accepted(owner: APIClient) -> None:
    artifact_id = _create(owner, content="")
    body = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert (body["content"], body["size_bytes"]) == ("", 0)
    assert body["content_hash"] == _sha(b"")


def test_created_by_names_the_key(owner: APIClient) -> None:
    artifact_id = _create(owner)
    created_by = owner.get(f"/api/artifacts/{artifact_id}").json()["created_by"]
    assert created_by.startswith("key:") and len(created_by) > len("key:")


@pytest.mark.parametrize("missing", REQUIRED_FIELDS)
def test_each_required_field_is_required(owner: APIClient, missing: str) -> None:
    body = _body()
    del body[missing]
    response = owner.post("/api/artifacts", body, format="json")
    _assert_422(response, ["body", missing], "missing")
    assert not Artifact.objects.exists()


def test_unknown_field_is_rejected(owner: APIClient) -> None:
    response = owner.post("/api/artifacts", _body(colour="blue"), format="json")
    _assert_422(response, ["body", "colour"], "extra_forbidden")
    assert not Artifact.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("workflow_id", None),
        ("title", ""),
        ("is_primary_deliverable", "maybe"),
        ("metadata", ["not", "an", "object"]),
        ("derived_from", "art_x"),
    ],
)
def test_invalid_values_are_rejected(owner: APIClient, field: str, value: Any) -> None:
    response = owner.post("/api/artifacts", _body(**{field: value}), format="json")
    _assert_422(response, ["body", field])
    assert not Artifact.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("content", "nul\x00byte"),
        ("metadata", {"k": "nul\x00byte"}),
        ("artifact_type", "t" * 101),
        ("title", "t" * 501),
        ("workflow_id", "w" * 256),
        ("session_id", "s" * 129),
    ],
    ids=["nul-content", "nul-metadata", "long-type", "long-title", "long-workflow", "long-session"],
)
def test_values_that_cannot_be_stored_are_422(owner: APIClient, field: str, value: Any) -> None:
    response = owner.post("/api/artifacts", _body(**{field: value}), format="json")
    _assert_422(response, ["body", field])
    assert not Artifact.objects.exists()
    assert not Session.objects.exists()


def test_unparseable_json_is_400(owner: APIClient) -> None:
    response = owner.post("/api/artifacts", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert not Artifact.objects.exists()


def test_bad_session_id_is_422_and_leaves_nothing(owner: APIClient) -> None:
    response = owner.post("/api/artifacts", _body(session_id="bad id!"), format="json")
    _assert_422(response, ["body", "session_id"])
    assert not Artifact.objects.exists()
    assert not Session.objects.exists()
    assert not Event.objects.exists()


def test_create_with_session_makes_the_session_and_an_event(owner: APIClient) -> None:
    assert owner.get("/api/sessions/run-7").status_code == 404
    content = "# out\n"
    artifact_id = _create(owner, session_id="run-7", content=content, title="Out")
    session_response = owner.get("/api/sessions/run-7")
    assert session_response.status_code == 200
    assert session_response.json()["session_id"] == "run-7"
    session = Session.objects.get(session_id="run-7")
    assert session.namespace.slug == "default"
    event = Event.objects.get(session=session)
    assert (event.sequence, event.kind, event.change_type) == (1, "artifact.created", "created")
    assert event.artifact_id == artifact_id
    assert (event.size, event.mime, event.hash) == (
        len(content.encode()),
        "text/markdown",
        _sha(content.encode()),
    )


def test_create_without_session_makes_no_session(owner: APIClient) -> None:
    artifact_id = _create(owner)
    assert not Session.objects.exists()
    assert not Event.objects.filter(session__isnull=False).exists()
    assert owner.get(f"/api/artifacts/{artifact_id}").json()["session_id"] is None


def test_create_into_an_existing_session_appends_to_its_log(owner: APIClient) -> None:
    first = _create(owner, session_id="shared-run")
    second = _create(owner, session_id="shared-run")
    events = list(
        Event.objects.filter(session__session_id="shared-run")
        .order_by("sequence")
        .values_list("sequence", "kind", "artifact_id")
    )
    assert events == [(1, "artifact.created", first), (2, "artifact.created", second)]
    assert Session.objects.count() == 1


# --- detail and include_content ---


def test_include_content_false_nulls_the_content(owner: APIClient) -> None:
    artifact_id = _create(owner, content="secret body")
    without = owner.get(f"/api/artifacts/{artifact_id}?include_content=false")
    assert without.status_code == 200
    body = without.json()
    assert set(body) == DETAIL_FIELDS - {"content_encoding"}  # it describes the content
    assert body["content"] is None
    # Everything else is still there.
    assert body["size_bytes"] == len(b"secret body")
    assert body["content_hash"] == _sha(b"secret body")
    assert owner.get(f"/api/artifacts/{artifact_id}").json()["content"] == "secret body"
    explicit = owner.get(f"/api/artifacts/{artifact_id}?include_content=true").json()
    assert explicit["content"] == "secret body"


def test_detail_query_is_validated(owner: APIClient) -> None:
    artifact_id = _create(owner)
    _assert_422(
        owner.get(f"/api/artifacts/{artifact_id}?include_content=perhaps"),
        ["query", "include_content"],
    )
    _assert_422(owner.get(f"/api/artifacts/{artifact_id}?version=0"), ["query", "version"])
    _assert_422(owner.get(f"/api/artifacts/{artifact_id}?bogus=1"), ["query", "bogus"])


def test_unknown_artifact_is_404(owner: APIClient) -> None:
    for suffix in ("", "/content", "/file"):
        response = owner.get(f"/api/artifacts/art_doesnotexist{suffix}")
        assert response.status_code == 404, suffix
        assert isinstance(response.json()["detail"], str)


def test_unknown_version_is_404(owner: APIClient) -> None:
    artifact_id = _create(owner)
    assert owner.get(f"/api/artifacts/{artifact_id}?version=2").status_code == 404


# --- list ---


def test_list_is_a_bare_array_newest_first(owner: APIClient) -> None:
    ids = [
        _create(owner, title=f"T{index}", content="x" * index, phase_id=f"p{index}")
        for index in range(1, 4)
    ]
    response = owner.get("/api/artifacts")
    assert response.status_code == 200
    items = response.json()
    assert isinstance(items, list)
    assert [item["id"] for item in items] == ids[::-1]
    for item, index in zip(items, (3, 2, 1), strict=True):
        assert set(item) == LIST_ITEM_FIELDS
        assert (item["title"], item["phase_id"], item["size_bytes"]) == (
            f"T{index}",
            f"p{index}",
            index,
        )
        assert (item["workflow_id"], item["artifact_type"]) == ("wf-1", "report")
        assert type(item["size_bytes"]) is int
        datetime.fromisoformat(item["created_at"].replace("Z", "+00:00"))


def test_list_of_nothing_is_an_empty_array(owner: APIClient) -> None:
    response = owner.get("/api/artifacts")
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize("field", ["workflow_id", "phase_id", "artifact_type"])
def test_filters_apply_before_the_limit(owner: APIClient, field: str) -> None:
    matching = []
    for index in range(30):
        value = "wanted" if index % 3 == 0 else f"other-{index}"
        artifact_id = _create(owner, title=f"A{index}", **{field: value})
        if value == "wanted":
            matching.append(artifact_id)
    assert len(matching) == 10
    page = owner.get(f"/api/artifacts?{field}=wanted&limit=5").json()
    assert [item["id"] for item in page] == matching[::-1][:5]
    assert all(item[field] == "wanted" for item in page)
    everything = owner.get(f"/api/artifacts?{field}=wanted").json()
    assert [item["id"] for item in everything] == matching[::-1]
    assert owner.get(f"/api/artifacts?{field}=nobody").json() == []


def test_filters_combine(owner: APIClient) -> None:
    wanted = _create(owner, workflow_id="w1", phase_id="p1", artifact_type="t1")
    _create(owner, workflow_id="w1", phase_id="p1", artifact_type="t2")
    _create(owner, workflow_id="w1", phase_id="p2", artifact_type="t1")
    _create(owner, workflow_id="w2", phase_id="p1", artifact_type="t1")
    page = owner.get("/api/artifacts?workflow_id=w1&phase_id=p1&artifact_type=t1").json()
    assert [item["id"] for item in page] == [wanted]
    assert len(owner.get("/api/artifacts?workflow_id=w1").json()) == 3
    assert len(owner.get("/api/artifacts?workflow_id=w1&phase_id=p1").json()) == 2


def test_limit_and_default_limit(owner: APIClient) -> None:
    ids = [_create(owner, title=f"A{index}") for index in range(52)]
    assert [item["id"] for item in owner.get("/api/artifacts").json()] == ids[::-1][:50]
    assert [item["id"] for item in owner.get("/api/artifacts?limit=1").json()] == [ids[-1]]
    assert len(owner.get("/api/artifacts?limit=200").json()) == 52


@pytest.mark.parametrize("limit", ["0", "201", "-1", "abc", ""])
def test_limit_out_of_range_is_422(owner: APIClient, limit: str) -> None:
    _create(owner)
    _assert_422(owner.get(f"/api/artifacts?limit={limit}"), ["query", "limit"])


def test_list_query_rejects_unknown_parameters(owner: APIClient) -> None:
    _assert_422(owner.get("/api/artifacts?colour=blue"), ["query", "colour"], "extra_forbidden")


@pytest.mark.django_db(transaction=True)
def test_list_shows_each_artifact_once_as_its_latest_version(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    first = _create(owner, title="First")
    second = _create(owner, title="Second")
    content = _binary(777)
    _upload(asgi_owner, first, content)
    items = owner.get("/api/artifacts").json()
    assert [item["id"] for item in items] == [second, first]
    assert items[1]["size_bytes"] == 777


def test_seed_002_artifacts_appear_in_the_flat_list(owner: APIClient) -> None:
    flat = _create(owner, title="flat one")
    response = owner.post(
        "/api/v1/orgs/acme/workspaces/alpha/namespaces/default/artifacts",
        {"name": "namespaced one", "content": "from seed 002", "artifact_type": "note"},
        format="json",
    )
    assert response.status_code == 201, response.content
    namespaced = response.json()["artifact_id"]
    items = owner.get("/api/artifacts").json()
    assert [item["id"] for item in items] == [namespaced, flat]
    assert (items[0]["title"], items[0]["artifact_type"], items[0]["size_bytes"]) == (
        "namespaced one",
        "note",
        len(b"from seed 002"),
    )
    assert [item["id"] for item in owner.get("/api/artifacts?artifact_type=note").json()] == [
        namespaced
    ]
    detail = owner.get(f"/api/artifacts/{namespaced}").json()
    assert (detail["title"], detail["content"]) == ("namespaced one", "from seed 002")


def test_expired_artifacts_are_hidden_from_the_list(owner: APIClient, time_machine: Any) -> None:
    response = owner.post(
        "/api/v1/orgs/acme/workspaces/alpha/namespaces/default/artifacts",
        {"name": "short-lived", "content": "x", "ttl_seconds": 60},
        format="json",
    )
    assert response.status_code == 201, response.content
    expiring = response.json()["artifact_id"]
    kept = _create(owner)
    assert [item["id"] for item in owner.get("/api/artifacts").json()] == [kept, expiring]
    time_machine.move_to(datetime.now(UTC) + timedelta(seconds=120))
    assert [item["id"] for item in owner.get("/api/artifacts").json()] == [kept]
    assert owner.get(f"/api/artifacts/{expiring}").status_code == 200


def test_artifacts_in_another_workspace_are_not_listed(owner: APIClient) -> None:
    response = owner.post(
        "/api/v1/orgs/acme/workspaces/beta/namespaces/default/artifacts",
        {"name": "elsewhere", "content": "x"},
        format="json",
    )
    assert response.status_code == 201, response.content
    mine = _create(owner)
    assert [item["id"] for item in owner.get("/api/artifacts").json()] == [mine]


# --- /content ---


def test_content_of_inline_text(owner: APIClient) -> None:
    content = "# Titel\n\nÜmlauts — ✓\n"
    artifact_id = _create(owner, content=content, content_type="text/plain")
    response = owner.get(f"/api/artifacts/{artifact_id}/content")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CONTENT_FIELDS
    assert body == {
        "artifact_id": artifact_id,
        "content": content,
        "content_type": "text/plain",
        "size_bytes": len(content.encode()),
        "content_encoding": "utf-8",
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, 1024 * 1024 + 1, 2 * 1024 * 1024 + 2])
def test_content_of_a_binary_upload_is_base64(
    owner: APIClient, asgi_owner: AsgiClient, size: int
) -> None:
    artifact_id = _create(owner)
    content = _binary(size)
    _upload(asgi_owner, artifact_id, content)
    response = asgi_owner.get(f"/api/artifacts/{artifact_id}/content")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == CONTENT_FIELDS
    assert body["artifact_id"] == artifact_id
    assert body["size_bytes"] == size
    assert body["content_encoding"] in {"base64", "utf-8"}
    assert _decoded(body) == content
    if size:
        assert body["content_encoding"] == "base64"
    # GET renders the content as /content does (streamed above RENDER_WHOLE_MAX).
    detail = asgi_owner.get(f"/api/artifacts/{artifact_id}").json()
    assert body["content_type"] == detail["content_type"]
    assert (detail["content"], detail["content_encoding"]) == (
        body["content"],
        body["content_encoding"],
    )


@pytest.mark.django_db(transaction=True)
def test_content_of_a_binary_upload_exact(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner)
    content = BINARY_HEAD + os.urandom(4096)
    _upload(asgi_owner, artifact_id, content, name="blob.bin")
    body = asgi_owner.get(f"/api/artifacts/{artifact_id}/content").json()
    assert body["content_encoding"] == "base64"
    assert body["content_type"] == "application/octet-stream"
    assert base64.b64decode(body["content"], validate=True) == content
    assert body["size_bytes"] == len(content)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "text",
    [
        "plain ascii\n",
        'Grüße, 世界 — ✓ "quotes" and \\backslashes\\ and\ttabs\n',
        # A two-byte character straddles the 1 MiB read-chunk boundary.
        "a" + "é" * (1024 * 1024 // 2 + 10),
    ],
    ids=["ascii", "unicode", "straddles-chunk"],
)
def test_content_of_a_text_upload_is_utf8(
    owner: APIClient, asgi_owner: AsgiClient, text: str
) -> None:
    artifact_id = _create(owner)
    data = text.encode()
    _upload(asgi_owner, artifact_id, data, name="notes.txt")
    body = asgi_owner.get(f"/api/artifacts/{artifact_id}/content").json()
    assert set(body) == CONTENT_FIELDS
    assert body["content_encoding"] == "utf-8"
    assert body["content_type"].startswith("text/plain")
    assert body["content"] == text
    assert body["size_bytes"] == len(data)


@pytest.mark.django_db(transaction=True)
def test_content_of_a_file_that_is_not_valid_utf8_round_trips(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    artifact_id = _create(owner)
    # Text for the whole sniff window (8 KiB), then Latin-1 bytes that are not UTF-8.
    data = b"log line\n" * 1000 + "café crème\n".encode("latin-1")
    _upload(asgi_owner, artifact_id, data, name="server.log")
    body = asgi_owner.get(f"/api/artifacts/{artifact_id}/content").json()
    assert body["size_bytes"] == len(data)
    assert _decoded(body) == data


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", ["content", "file"])
def test_content_and_file_do_not_ignore_a_version_query(
    owner: APIClient, asgi_owner: AsgiClient, route: str
) -> None:
    artifact_id = _create(owner, content="first version")
    _upload(asgi_owner, artifact_id, _binary(64))
    response = asgi_owner.get(f"/api/artifacts/{artifact_id}/{route}?version=1")
    if response.status_code == 422:
        return
    assert response.status_code == 200
    served = _decoded(response.json()) if route == "content" else response.content
    assert served == b"first version"


# --- /upload and /file ---


@pytest.mark.django_db(transaction=True)
def test_upload_makes_version_2_and_keeps_version_1(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    original = "# v1\n"
    artifact_id = _create(owner, content=original, phase_id="p", metadata={"k": "v"})
    content = _binary(5000)
    response = asgi_owner.upload(f"/api/artifacts/{artifact_id}/upload", content, name="x.bin")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"artifact_id", "storage_url", "status"}
    assert (body["artifact_id"], body["status"]) == (artifact_id, "uploaded")
    assert body["storage_url"].startswith("http://testserver/")

    latest = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert latest["id"] == artifact_id
    assert latest["version"] == 2
    assert latest["version_id"] != artifact_id
    assert latest["content_type"] == "application/octet-stream"
    assert latest["size_bytes"] == len(content)
    assert latest["content_hash"] == _sha(content)
    # The new version inherits the artifact's fields.
    assert (latest["title"], latest["phase_id"], latest["metadata"]) == ("Report", "p", {"k": "v"})

    first = owner.get(f"/api/artifacts/{artifact_id}?version=1").json()
    assert (first["version"], first["version_id"]) == (1, artifact_id)
    assert (first["content"], first["content_type"]) == (original, "text/markdown")
    assert first["size_bytes"] == len(original.encode())
    assert owner.get(f"/api/artifacts/{latest['version_id']}").json()["version"] == 2

    rows = Artifact.objects.order_by("version")
    assert [(row.version, row.is_latest) for row in rows] == [(1, False), (2, True)]


@pytest.mark.django_db(transaction=True)
def test_storage_url_serves_exactly_the_uploaded_bytes(
    tenant: Tenant, asgi_owner: AsgiClient, isolated_storage: str
) -> None:
    artifact_id = _create(client_with(tenant.owner_key))
    content = _binary(300_001)
    storage_url = _upload(asgi_owner, artifact_id, content)["storage_url"]
    assert urlsplit(storage_url).scheme == "http"
    assert urlsplit(storage_url).netloc == "testserver"
    path = _path(storage_url)
    assert path.startswith("/api/")
    assert isolated_storage not in storage_url and "blobs/" not in storage_url
    served = asgi_owner.get(path)
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["content-length"] == str(len(content))


@pytest.mark.django_db(transaction=True)
def test_storage_url_keeps_serving_its_version(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner)
    first, second = _binary(100), _binary(200)
    first_url = _upload(asgi_owner, artifact_id, first)["storage_url"]
    second_url = _upload(asgi_owner, artifact_id, second)["storage_url"]
    assert first_url != second_url
    assert asgi_owner.get(_path(first_url)).content == first
    assert asgi_owner.get(_path(second_url)).content == second
    assert owner.get(f"/api/artifacts/{artifact_id}").json()["version"] == 3


@pytest.mark.django_db(transaction=True)
def test_file_of_inline_content_serves_the_text(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner, content="inline body ✓")
    response = asgi_owner.get(f"/api/artifacts/{artifact_id}/file")
    assert response.status_code == 200
    assert response.content == "inline body ✓".encode()


@pytest.mark.django_db(transaction=True)
def test_uploading_identical_bytes_twice_makes_no_new_version(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    artifact_id = _create(owner)
    content = _binary(2048)
    first = _upload(asgi_owner, artifact_id, content)
    second = _upload(asgi_owner, artifact_id, content)
    assert second["artifact_id"] == artifact_id and second["status"] == "uploaded"
    assert second["storage_url"] == first["storage_url"]
    assert owner.get(f"/api/artifacts/{artifact_id}").json()["version"] == 2
    assert owner.get(f"/api/artifacts/{artifact_id}?version=3").status_code == 404
    assert Artifact.objects.count() == 2
    assert asgi_owner.get(_path(second["storage_url"])).content == content


@pytest.mark.django_db(transaction=True)
def test_upload_by_a_version_id_acts_on_the_artifact(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    artifact_id = _create(owner)
    _upload(asgi_owner, artifact_id, _binary(10))
    # Upload through version 1's id (the root) and through version 2's id.
    version_2 = owner.get(f"/api/artifacts/{artifact_id}").json()["version_id"]
    body = _upload(asgi_owner, version_2, _binary(20))
    assert body["artifact_id"] == artifact_id
    latest = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert (latest["version"], latest["size_bytes"]) == (3, 20)


@pytest.mark.django_db(transaction=True)
def test_upload_emits_a_version_event_in_the_session(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    artifact_id = _create(owner, session_id="up-run")
    content = _binary(64)
    _upload(asgi_owner, artifact_id, content, name="out.bin")
    events = list(
        Event.objects.filter(session__session_id="up-run")
        .order_by("sequence")
        .values_list("sequence", "kind", "hash")
    )
    assert events[0][:2] == (1, "artifact.created")
    assert events[1] == (2, "artifact.version_created", _sha(content))
    version_2 = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert version_2["session_id"] == "up-run"


@pytest.mark.django_db(transaction=True)
def test_file_download_headers(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner)
    content = _binary(1000)
    url = _upload(asgi_owner, artifact_id, content, name="report.bin")["storage_url"]
    digest = hashlib.sha256(content).hexdigest()
    response = asgi_owner.get(_path(url))
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{digest}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment")
    assert "report.bin" in response.headers["content-disposition"]
    assert asgi_owner.get(_path(url), headers={"If-None-Match": f'"{digest}"'}).status_code == 304
    ranged = asgi_owner.get(_path(url), headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206
    assert ranged.content == content[10:20]


@pytest.mark.django_db(transaction=True)
def test_active_content_is_served_as_a_sandboxed_attachment(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    artifact_id = _create(owner)
    page = b"<!doctype html><html><script>alert(1)</script></html>"
    url = _upload(asgi_owner, artifact_id, page, name="page.html")["storage_url"]
    response = asgi_owner.get(_path(url))
    assert response.status_code == 200
    assert response.content == page
    assert response.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.django_db(transaction=True)
def test_upload_rejects_unknown_form_fields(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner)
    response = asgi_owner.upload(
        f"/api/artifacts/{artifact_id}/upload", _binary(10), name="a.bin", colour="blue"
    )
    assert response.status_code == 422, response.text
    assert {"loc": ["body", "colour"]}.items() <= response.json()["detail"][0].items()
    assert response.json()["detail"][0]["type"] == "extra_forbidden"
    assert Artifact.objects.count() == 1
    assert stored_keys() == set()


@pytest.mark.django_db(transaction=True)
def test_upload_over_the_size_limit_is_413_and_leaves_nothing(
    owner: APIClient, asgi_owner: AsgiClient, settings: Any
) -> None:
    artifact_id = _create(owner)
    settings.DEPOT_MAX_UPLOAD_BYTES = 100
    response = asgi_owner.upload(f"/api/artifacts/{artifact_id}/upload", _binary(101), name="a.bin")
    assert response.status_code == 413
    assert isinstance(response.json()["detail"], str)
    assert Artifact.objects.count() == 1
    assert stored_keys() == set()
    assert _upload(asgi_owner, artifact_id, _binary(100))["status"] == "uploaded"


@pytest.mark.django_db(transaction=True)
def test_upload_without_a_file_is_422(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner)
    body, content_type = multipart_body("other", "x.bin", b"abc")
    response = asgi_owner.post(
        f"/api/artifacts/{artifact_id}/upload",
        content=body,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 422, response.text
    assert any(
        item["loc"][:2] == ["body", "other"] or item["loc"] == ["body", "file"]
        for item in response.json()["detail"]
    )
    assert Artifact.objects.count() == 1


# --- auth and tenancy ---

ROUTES = ["", "/{id}", "/{id}/content", "/{id}/file"]


@pytest.mark.django_db(transaction=True)
def test_no_key_is_401(owner: APIClient, asgi_owner: AsgiClient) -> None:
    artifact_id = _create(owner)
    anonymous = APIClient()
    for route in ROUTES:
        path = "/api/artifacts" + route.format(id=artifact_id)
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert isinstance(response.json()["detail"], str)
    assert anonymous.post("/api/artifacts", _body(), format="json").status_code == 401
    upload = AsgiClient().upload(f"/api/artifacts/{artifact_id}/upload", b"abc", name="a.bin")
    assert upload.status_code == 401
    assert Artifact.objects.count() == 1
    assert stored_keys() == set()


def test_bearer_key_works(tenant: Tenant) -> None:
    client = client_with(tenant.owner_key, bearer=True)
    artifact_id = _create(client)
    assert client.get(f"/api/artifacts/{artifact_id}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_read_only_key_reads_but_cannot_write(
    owner: APIClient, reader: APIClient, tenant: Tenant
) -> None:
    artifact_id = _create(owner)
    response = reader.post("/api/artifacts", _body(title="nope"), format="json")
    assert response.status_code == 403
    assert isinstance(response.json()["detail"], str)
    upload = AsgiClient(tenant.read_only_key).upload(
        f"/api/artifacts/{artifact_id}/upload", _binary(10), name="a.bin"
    )
    assert upload.status_code == 403
    assert Artifact.objects.count() == 1
    assert stored_keys() == set()
    for route in ROUTES:
        path = "/api/artifacts" + route.format(id=artifact_id)
        assert reader.get(path).status_code == 200, path
    assert [item["id"] for item in reader.get("/api/artifacts").json()] == [artifact_id]


@pytest.mark.django_db(transaction=True)
def test_another_organization_sees_nothing(
    owner: APIClient, asgi_owner: AsgiClient, outsider: APIClient, stranger: Stranger
) -> None:
    artifact_id = _create(owner)
    url = _upload(asgi_owner, artifact_id, _binary(50))["storage_url"]
    version_2 = owner.get(f"/api/artifacts/{artifact_id}").json()["version_id"]
    for target in (artifact_id, version_2):
        for route in ROUTES[1:]:
            path = "/api/artifacts" + route.format(id=target)
            response = outsider.get(path)
            assert response.status_code == 404, path
            assert isinstance(response.json()["detail"], str)
    assert outsider.get(_path(url)).status_code == 404
    upload = AsgiClient(stranger.key).upload(
        f"/api/artifacts/{artifact_id}/upload", _binary(30), name="a.bin"
    )
    assert upload.status_code == 404
    assert Artifact.objects.count() == 2
    assert len(stored_keys()) == 1  # only the owner's own upload
    theirs = _create(outsider, title="theirs")
    assert [item["id"] for item in outsider.get("/api/artifacts").json()] == [theirs]
    assert [item["id"] for item in owner.get("/api/artifacts").json()] == [artifact_id]


def test_limited_key_cannot_write_into_a_session_of_another_workspace(
    owner: APIClient, tenant: Tenant
) -> None:
    """Session ids are unique per workspace: the limited key's write makes its own session of
    that id in its workspace (as for a free id); alpha's session gets nothing."""
    _create(owner, session_id="alpha-run")  # the session lives in workspace alpha
    limited = client_with(tenant.limited_key)
    assert limited.get("/api/sessions/alpha-run").status_code == 404
    response = limited.post("/api/artifacts", _body(session_id="alpha-run"), format="json")
    assert response.status_code in {200, 201}, response.content
    alpha_run = Session.objects.get(session_id="alpha-run", workspace__slug="alpha")
    assert Artifact.objects.filter(session=alpha_run).count() == 1
    assert Event.objects.filter(session=alpha_run).count() == 1
    beta_run = Session.objects.get(session_id="alpha-run", workspace__slug="beta")
    assert beta_run.artifacts.count() == 1


def test_limited_key_outside_its_workspace_gets_404(owner: APIClient, tenant: Tenant) -> None:
    artifact_id = _create(owner)
    limited = client_with(tenant.limited_key)
    assert limited.get(f"/api/artifacts/{artifact_id}").status_code == 404
    assert limited.get("/api/artifacts").json() == []


@pytest.mark.parametrize("kind", ["foreign", "missing", "other-workspace"])
def test_derived_from_must_name_a_visible_artifact(
    owner: APIClient, outsider: APIClient, tenant: Tenant, kind: str
) -> None:
    writer = owner
    if kind == "foreign":
        target = _create(outsider, title="theirs")
    elif kind == "missing":
        target = "art_nope"
    else:
        # A key limited to workspace beta cannot link to an artifact in alpha.
        target = _create(owner, title="in alpha")
        writer = client_with(tenant.limited_key)
    before = Artifact.objects.count()
    response = writer.post(
        "/api/artifacts", _body(derived_from=[target], session_id="lineage-run"), format="json"
    )
    _assert_422(response, ["body", "derived_from", 0])
    assert Artifact.objects.count() == before
    assert not Session.objects.filter(session_id="lineage-run").exists()


def test_derived_from_reports_the_index_of_the_bad_entry(owner: APIClient) -> None:
    parent = _create(owner)
    response = owner.post(
        "/api/artifacts", _body(derived_from=[parent, "art_nope"], session_id="lin"), format="json"
    )
    _assert_422(response, ["body", "derived_from", 1])
    assert Artifact.objects.count() == 1
    assert not Session.objects.exists()


# --- query counts ---


def _warm(client: APIClient) -> None:
    # The first request of a key may record `last_used_at`; keep that out of the counts.
    assert client.get("/api/artifacts").status_code == 200


def _list_queries(client: APIClient, django_assert_num_queries: Any, expected: int) -> None:
    with django_assert_num_queries(expected):
        assert client.get("/api/artifacts").status_code == 200


LIST_QUERIES = 3
DETAIL_QUERIES = 4


@pytest.mark.django_db(transaction=True)
def test_list_query_count_does_not_grow_with_rows(
    owner: APIClient, asgi_owner: AsgiClient, django_assert_num_queries: Any
) -> None:
    _warm(owner)
    for index in range(3):
        _create(owner, title=f"A{index}", session_id=f"s{index}")
    _list_queries(owner, django_assert_num_queries, LIST_QUERIES)
    for index in range(7):
        artifact_id = _create(owner, title=f"B{index}", derived_from=[], phase_id="p")
        if index % 2:
            _upload(asgi_owner, artifact_id, _binary(10 + index))
    assert len(owner.get("/api/artifacts").json()) == 10
    _list_queries(owner, django_assert_num_queries, LIST_QUERIES)


@pytest.mark.django_db(transaction=True)
def test_detail_query_count_is_pinned(
    owner: APIClient, asgi_owner: AsgiClient, django_assert_num_queries: Any
) -> None:
    _warm(owner)
    parents = [_create(owner, title=f"P{index}") for index in range(3)]
    with django_assert_num_queries(DETAIL_QUERIES):
        assert owner.get(f"/api/artifacts/{parents[0]}").status_code == 200
    artifact_id = _create(owner, derived_from=parents, session_id="qc")
    with django_assert_num_queries(DETAIL_QUERIES):
        assert owner.get(f"/api/artifacts/{artifact_id}").status_code == 200
    _upload(asgi_owner, artifact_id, _binary(99))
    with django_assert_num_queries(DETAIL_QUERIES):
        body = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert body["version"] == 2 and len(body["derived_from"]) == 3
