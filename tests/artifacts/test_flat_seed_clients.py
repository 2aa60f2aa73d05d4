"""Seed 001 as its real clients use it (issue 12, product.md §6 "Seed 001, as its real clients
use it"): GET renders a file version's content as /content does; a unique id prefix of at
least 8 characters resolves on GET and /content (409 when several match, 404 when none, only
the caller's artifacts counting); a 422 lists every problem of a write at once."""

import base64
import os
import tracemalloc
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from artifacts import selectors, services
from artifacts.api import flat
from artifacts.models import Artifact
from attachments import storage
from sessions_app.models import Event, Session
from tests.support import AsgiClient, Stranger, Tenant, client_with, multipart_body, stored_keys

pytestmark = pytest.mark.django_db

BINARY_HEAD = b"\x00\xff\xfe\x01DEPOT-BINARY\x00"


def _create(client: APIClient, **fields: Any) -> str:
    body = {"workflow_id": "wf", "artifact_type": "report", "title": "Report", "content": "x"}
    response = client.post("/api/artifacts", {**body, **fields}, format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def _new_file_version(artifact_id: str, data: bytes, name: str) -> Artifact:
    artifact = Artifact.objects.get(artifact_id=artifact_id)
    version, created = services.artifact_version_create(
        artifact=artifact,
        content=services.NewContent(staged=storage.write_stream(iter([data])), file_name=name),
    )
    assert created
    return version


def _binary(size: int) -> bytes:
    return (BINARY_HEAD + os.urandom(max(size - len(BINARY_HEAD), 0)))[:size]


async def _collect(response: Any) -> bytes:
    pieces = [piece async for piece in response.streaming_content]
    response.close()
    return b"".join(pieces)


def _json(response: Any) -> Any:
    """The JSON of a plain or a streamed answer of the sync test client."""
    import json

    if response.streaming:
        return json.loads(async_to_sync(_collect)(response))
    return response.json()


def _decoded(body: dict[str, Any]) -> bytes:
    if body["content_encoding"] == "base64":
        return base64.b64decode(body["content"], validate=True)
    assert body["content_encoding"] == "utf-8", body["content_encoding"]
    return str(body["content"]).encode()


def _set_id(artifact_id: str, new_id: str) -> str:
    """Give an artifact version a chosen id (ids are random; ambiguity needs shared prefixes)."""
    assert Artifact.objects.filter(artifact_id=artifact_id).update(artifact_id=new_id) == 1
    return new_id


# --- 1. GET renders a file version's content as /content does ---


@pytest.mark.parametrize(
    ("data", "name", "encoding"),
    [
        ('Grüße — ✓ "quoted" \\ and\ttabs\n'.encode(), "notes.txt", "utf-8"),
        (b'{"a": [1, 2]}\n', "data.json", "utf-8"),
        (_binary(4096), "blob.bin", "base64"),
        # A text type for the sniff window (8 KiB), then Latin-1 bytes that are not UTF-8.
        (b"log line\n" * 1000 + "café\n".encode("latin-1"), "server.log", "base64"),
        (_binary(1), "one.bin", "base64"),
    ],
    ids=["text", "json", "binary", "not-utf8", "one-byte"],
)
def test_get_renders_a_file_version_as_content_does(
    owner: APIClient, data: bytes, name: str, encoding: str
) -> None:
    artifact_id = _create(owner, content="inline version 1")
    _new_file_version(artifact_id, data, name)
    response = owner.get(f"/api/artifacts/{artifact_id}")
    assert response.status_code == 200
    body = _json(response)
    assert body["version"] == 2
    assert body["content"] is not None
    assert body["content_encoding"] == encoding
    assert _decoded(body) == data
    content = _json(owner.get(f"/api/artifacts/{artifact_id}/content"))
    assert (body["content"], body["content_encoding"]) == (
        content["content"],
        content["content_encoding"],
    )
    assert body["size_bytes"] == content["size_bytes"] == len(data)
    # version 1 is still its inline text
    first = owner.get(f"/api/artifacts/{artifact_id}?version=1").json()
    assert (first["content"], first["content_encoding"]) == ("inline version 1", "utf-8")


def test_empty_file_version_is_an_empty_string(owner: APIClient) -> None:
    artifact_id = _create(owner)
    _new_file_version(artifact_id, b"", "empty.txt")
    body = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert body["content"] == "" and body["content_encoding"] in {"utf-8", "base64"}


def test_inline_content_says_utf8(owner: APIClient) -> None:
    artifact_id = _create(owner, content="# Plan\n")
    body = owner.get(f"/api/artifacts/{artifact_id}").json()
    assert (body["content"], body["content_encoding"]) == ("# Plan\n", "utf-8")


def test_include_content_false_reads_no_bytes(owner: APIClient, monkeypatch: Any) -> None:
    artifact_id = _create(owner)
    _new_file_version(artifact_id, _binary(300), "x.bin")

    def no_reads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the bytes were read")

    monkeypatch.setattr(storage, "read_chunks", no_reads)
    monkeypatch.setattr(storage, "open_blob", no_reads)
    response = owner.get(f"/api/artifacts/{artifact_id}?include_content=false")
    assert response.status_code == 200
    body = response.json()
    assert body["content"] is None and "content_encoding" not in body
    assert body["size_bytes"] == 300


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
def test_a_large_file_is_streamed_and_whole(owner: APIClient, text: bool) -> None:
    """Above RENDER_WHOLE_MAX the answer is encoded while it is sent; it is the same JSON."""
    size = flat.RENDER_WHOLE_MAX * 2 + 2  # not a multiple of 3: base64 padding at the end
    if text:
        # A two-byte character straddles the 1 MiB read-chunk boundary.
        data = ("a" + "é" * (size // 2))[: size // 2].encode()
        name = "big.txt"
    else:
        data = _binary(size)
        name = "big.bin"
    artifact_id = _create(owner, metadata={"k": "v"}, phase_id="p-1")
    version = _new_file_version(artifact_id, data, name)
    whole = owner.get(f"/api/artifacts/{artifact_id}?include_content=false").json()
    response = owner.get(f"/api/artifacts/{artifact_id}")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("application/json")
    body = _json(response)
    # The same keys in the same order, content_encoding right after content.
    keys = list(body)
    assert keys[keys.index("content") + 1] == "content_encoding"
    assert [key for key in keys if key != "content_encoding"] == list(whole)
    assert {k: v for k, v in body.items() if not k.startswith("content_") and k != "content"} == {
        k: v for k, v in whole.items() if not k.startswith("content_") and k != "content"
    }
    assert body["content_encoding"] == ("utf-8" if text else "base64")
    assert _decoded(body) == data
    assert body["version_id"] == version.artifact_id


def test_the_streamed_document_keeps_memory_flat(owner: APIClient) -> None:
    """A 24 MiB file: the encoder's peak allocation stays a few chunks, not the file."""
    size = 24 * 1024 * 1024
    artifact_id = _create(owner)
    chunk = _binary(1024 * 1024)
    staged = storage.write_stream(iter([chunk] * (size // len(chunk))))
    artifact = Artifact.objects.get(artifact_id=artifact_id)
    services.artifact_version_create(
        artifact=artifact, content=services.NewContent(staged=staged, file_name="big.bin")
    )
    version = selectors.artifact_get(scope=Artifact.objects.all(), artifact_id=artifact_id)
    data = flat.FlatArtifactResponse(version).data
    stored, textual = flat._open_file(version)
    assert not textual

    async def drain() -> int:
        total = 0
        async for piece in flat._streamed_detail(data, stored, textual):
            total += len(piece)
        return total

    tracemalloc.start()
    try:
        total = async_to_sync(drain)()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stored.close()
    assert total > size * 4 // 3
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a 24 MiB file"


@pytest.mark.parametrize("size", [10, 2 * 1024 * 1024])
def test_a_file_gone_from_storage_is_a_json_404(owner: APIClient, size: int) -> None:
    artifact_id = _create(owner)
    version = _new_file_version(artifact_id, _binary(size), "gone.bin")
    storage.delete(version.blob.storage_key)  # type: ignore[union-attr]
    response = owner.get(f"/api/artifacts/{artifact_id}")
    assert response.status_code == 404
    assert isinstance(response.json()["detail"], str)


# --- 2. a unique id prefix ---


def test_a_12_character_prefix_resolves_on_get_and_content(owner: APIClient) -> None:
    artifact_id = _create(owner, title="Mine", content="hello")
    _create(owner, title="Other")
    prefix = artifact_id[:12]  # what the seed-001 CLI's `list` prints
    body = owner.get(f"/api/artifacts/{prefix}").json()
    assert (body["id"], body["title"], body["content"]) == (artifact_id, "Mine", "hello")
    content = owner.get(f"/api/artifacts/{prefix}/content").json()
    assert (content["artifact_id"], content["content"]) == (artifact_id, "hello")
    assert owner.get(f"/api/artifacts/{artifact_id[:8]}").json()["id"] == artifact_id


def test_a_prefix_stands_for_the_id_it_completes(owner: APIClient) -> None:
    """A root's prefix is the root (the latest version, `?version=N` picks one); another
    version's prefix is that version."""
    artifact_id = _create(owner, content="v1")
    version_2 = _new_file_version(artifact_id, b"v2 text\n", "v2.txt")
    root = _set_id(artifact_id, "art_root0000" + "0" * 24)
    other = _set_id(version_2.artifact_id, "art_vers0000" + "0" * 24)
    latest = owner.get("/api/artifacts/art_root0000").json()
    assert (latest["id"], latest["version"], latest["content"]) == (root, 2, "v2 text\n")
    first = owner.get("/api/artifacts/art_root0000?version=1").json()
    assert (first["version"], first["content"]) == (1, "v1")
    second = owner.get("/api/artifacts/art_vers0000").json()
    assert (second["version_id"], second["version"]) == (other, 2)
    assert owner.get("/api/artifacts/art_vers0000/content?version=1").json()["content"] == "v1"


@pytest.mark.parametrize("route", ["", "/content"])
def test_an_ambiguous_prefix_is_409_naming_no_ids(owner: APIClient, route: str) -> None:
    first = _set_id(_create(owner, title="A"), "art_abcd1234" + "a" * 24)
    second = _set_id(_create(owner, title="B"), "art_abcd1234" + "b" * 24)
    for prefix in ("art_abcd", "art_abcd1234"):
        response = owner.get(f"/api/artifacts/{prefix}{route}")
        assert response.status_code == 409, response.content
        assert response["Content-Type"].startswith("application/json")
        body = response.json()
        assert set(body) == {"detail"} and isinstance(body["detail"], str)
        assert prefix in body["detail"]
        assert first not in response.content.decode() and second not in response.content.decode()
    # One character more is unique again; the whole id always is.
    assert owner.get(f"/api/artifacts/art_abcd1234a{route}").status_code == 200
    assert owner.get(f"/api/artifacts/{second}{route}").status_code == 200


@pytest.mark.parametrize("route", ["", "/content"])
def test_a_prefix_matching_nothing_is_404(owner: APIClient, route: str) -> None:
    artifact_id = _create(owner)
    for missing in ("art_zzzzzzzz", "art_0000", artifact_id + "0", "art%zzzz1234"):
        response = owner.get(f"/api/artifacts/{missing.replace('%', '%25')}{route}")
        assert response.status_code == 404, missing
        assert isinstance(response.json()["detail"], str)


def test_a_prefix_shorter_than_8_characters_does_not_resolve(owner: APIClient) -> None:
    artifact_id = _create(owner)
    assert owner.get(f"/api/artifacts/{artifact_id[:7]}").status_code == 404
    assert owner.get(f"/api/artifacts/{artifact_id[:8]}").status_code == 200


def test_a_prefix_is_case_sensitive_and_takes_underscore_literally(owner: APIClient) -> None:
    """LIKE's `_` matches any character and SQLite's LIKE ignores case: neither leaks in."""
    mine = _set_id(_create(owner, title="underscore"), "art_1234" + "c" * 28)
    _set_id(_create(owner, title="no underscore"), "artX1234" + "c" * 28)
    assert owner.get("/api/artifacts/art_1234").json()["id"] == mine
    assert owner.get("/api/artifacts/ART_1234").status_code == 404
    assert owner.get(f"/api/artifacts/{mine[:12].upper()}").status_code == 404


def test_other_organizations_never_count(
    owner: APIClient, outsider: APIClient, stranger: Stranger
) -> None:
    mine = _set_id(_create(owner, title="mine"), "art_feed0001" + "a" * 24)
    theirs = _set_id(_create(outsider, title="theirs"), "art_feed0001" + "b" * 24)
    only_theirs = _set_id(_create(outsider, title="only theirs"), "art_beef0002" + "b" * 24)
    # The shared prefix is unique inside each organization.
    assert owner.get("/api/artifacts/art_feed0001").json()["id"] == mine
    assert outsider.get("/api/artifacts/art_feed0001").json()["id"] == theirs
    assert owner.get("/api/artifacts/art_feed0001/content").json()["artifact_id"] == mine
    # Another organization's artifact is never a match.
    for route in ("", "/content"):
        response = owner.get(f"/api/artifacts/art_beef0002{route}")
        assert response.status_code == 404
        assert "theirs" not in response.content.decode()
    assert outsider.get("/api/artifacts/art_beef0002").json()["id"] == only_theirs


def test_a_workspace_limited_key_sees_only_its_workspace(owner: APIClient, tenant: Tenant) -> None:
    limited = client_with(tenant.limited_key)
    in_alpha = _set_id(_create(owner, title="alpha"), "art_cafe0003" + "a" * 24)
    in_beta = _set_id(_create(limited, title="beta"), "art_cafe0003" + "b" * 24)
    assert limited.get("/api/artifacts/art_cafe0003").json()["id"] == in_beta
    # The organization-wide key sees both: ambiguous for it.
    assert owner.get("/api/artifacts/art_cafe0003").status_code == 409
    assert owner.get(f"/api/artifacts/{in_alpha[:13]}").json()["id"] == in_alpha


@pytest.mark.parametrize("route", ["/file", "/upload"])
def test_other_routes_take_whole_ids_only(owner: APIClient, route: str) -> None:
    artifact_id = _create(owner)
    before = (Artifact.objects.count(), stored_keys())
    if route == "/upload":
        body, content_type = multipart_body("file", "a.bin", b"abc")
        response = owner.generic(
            "POST", f"/api/artifacts/{artifact_id[:12]}{route}", body, content_type
        )
    else:
        response = owner.get(f"/api/artifacts/{artifact_id[:12]}{route}")
    assert response.status_code == 404
    assert (Artifact.objects.count(), stored_keys()) == before


@pytest.mark.parametrize("key", ["owner_key", "limited_key"])
def test_the_prefix_query_searches_an_index(tenant: Tenant, key: str) -> None:
    """The statement the prefix lookup runs is a range search of an index on artifact_id on
    both databases, for an organization-wide and a workspace-limited key. PostgreSQL: LIKE
    'p%' and the `varchar_pattern_ops` index Django makes beside the unique one (so it holds
    outside the C locale too); SQLite: GLOB on the unique index, chosen over the tenant's
    joins even without ANALYZE statistics."""
    from sessions_app.principals import authenticate_raw_key, principal_for_key

    api_key = authenticate_raw_key(getattr(tenant, key))
    assert api_key is not None
    scope = selectors.artifact_scope(principal=principal_for_key(api_key))
    queryset = selectors.artifact_prefix_matches(scope=scope, prefix="art_abcd1234")
    sql = str(queryset.query)
    if connection.vendor == "sqlite":
        assert " GLOB " in sql and " LIKE " not in sql
        plan = queryset.explain()
        # The artifacts are read by the id range (a workspace row by its key may come first).
        [artifacts] = [line for line in plan.splitlines() if " artifacts_artifact " in line]
        assert "SEARCH artifacts_artifact USING" in artifacts, plan
        assert "sqlite_autoindex_artifacts_artifact" in artifacts, plan
        assert "artifact_id>? AND artifact_id<?" in artifacts, plan
    else:
        assert " LIKE " in sql
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'artifacts_artifact'"
                " AND indexdef LIKE '%%(artifact_id varchar_pattern_ops)%%'"
            )
            assert cursor.fetchall(), "no varchar_pattern_ops index on artifact_id"
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
        assert "artifacts_artifact_artifact_id" in plan and "Index" in plan, plan
        assert "Seq Scan on artifacts_artifact" not in plan, plan


# --- 3. every problem in one 422 ---


def _problems(response: Any) -> set[tuple[Any, ...]]:
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    for item in detail:
        assert set(item) == {"loc", "msg", "type"}
    return {(tuple(item["loc"]), item["type"]) for item in detail}


def test_upload_with_an_unknown_field_and_no_file_reports_both(owner: APIClient) -> None:
    artifact_id = _create(owner)
    before = (Artifact.objects.count(), stored_keys())
    response = owner.post(
        f"/api/artifacts/{artifact_id}/upload", {"colour": "blue"}, format="multipart"
    )
    assert _problems(response) == {
        (("body", "colour"), "extra_forbidden"),
        (("body", "file"), "missing"),
    }
    assert (Artifact.objects.count(), stored_keys()) == before


@pytest.mark.django_db(transaction=True)
def test_upload_problems_through_the_streaming_stack(owner: APIClient, tenant: Tenant) -> None:
    """Through the real ASGI stack (the file is staged while the body streams): both problems
    reported, and a file staged for a refused form is removed."""
    artifact_id = _create(owner)
    client = AsgiClient(tenant.owner_key)
    body, content_type = multipart_body("other", "x.bin", b"abc", {"colour": "blue"})
    response = client.post(
        f"/api/artifacts/{artifact_id}/upload", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 422, response.text
    problems = {(tuple(item["loc"]), item["type"]) for item in response.json()["detail"]}
    assert (("body", "colour"), "extra_forbidden") in problems
    assert (("body", "file"), "missing") in problems
    with_file = client.upload(
        f"/api/artifacts/{artifact_id}/upload", b"abc", name="a.bin", colour="blue"
    )
    assert with_file.status_code == 422
    assert {tuple(item["loc"]) for item in with_file.json()["detail"]} == {("body", "colour")}
    assert Artifact.objects.count() == 1
    assert stored_keys() == set()


def test_upload_with_an_unknown_field_and_a_file_removes_the_file(owner: APIClient) -> None:
    artifact_id = _create(owner)
    response = owner.post(
        f"/api/artifacts/{artifact_id}/upload",
        {"file": _upload_file(), "colour": "blue"},
        format="multipart",
    )
    assert _problems(response) == {(("body", "colour"), "extra_forbidden")}
    assert Artifact.objects.count() == 1
    assert stored_keys() == set()


def _upload_file() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("a.bin", b"abc")


def test_create_reports_every_problem_at_once(owner: APIClient) -> None:
    response = owner.post(
        "/api/artifacts",
        {
            "workflow_id": "wf",
            "content": 5,
            "colour": "blue",
            "session_id": "bad id!",
            "derived_from": ["art_nope", "art_nope_either"],
            "content_type": "not a type",
        },
        format="json",
    )
    problems = _problems(response)
    locs = {loc for loc, _ in problems}
    assert {
        ("body", "artifact_type"),
        ("body", "title"),
        ("body", "content"),
        ("body", "colour"),
        ("body", "session_id"),
        ("body", "derived_from", 0),
        ("body", "derived_from", 1),
        ("body", "content_type"),
    } <= locs, problems
    assert (("body", "colour"), "extra_forbidden") in problems
    assert (("body", "title"), "missing") in problems
    assert (("body", "session_id"), "string_pattern_mismatch") in problems
    assert not Artifact.objects.exists()
    assert not Session.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # an unknown field and a bad session id
        ({"colour": "blue", "session_id": "bad id!"}, {("colour",), ("session_id",)}),
        # a lineage target that does not exist and a missing field
        ({"derived_from": ["art_nope"], "title": None}, {("derived_from", 0), ("title",)}),
        # a lineage target and a bad session id
        (
            {"derived_from": ["art_nope"], "session_id": "../x"},
            {("derived_from", 0), ("session_id",)},
        ),
    ],
    ids=["unknown+session", "lineage+missing", "lineage+session"],
)
def test_create_reports_pairs_of_problems_together(
    owner: APIClient, fields: dict[str, Any], expected: set[tuple[Any, ...]]
) -> None:
    body = {"workflow_id": "wf", "artifact_type": "t", "title": "T", "content": "c", **fields}
    body = {key: value for key, value in body.items() if value is not None}
    problems = _problems(owner.post("/api/artifacts", body, format="json"))
    assert {loc[1:] for loc, _ in problems} == expected
    assert not Artifact.objects.exists()
    assert not Session.objects.exists()


def test_a_valid_create_with_lineage_and_session_still_works(owner: APIClient) -> None:
    parent = _create(owner, title="Parent")
    child = _create(owner, title="Child", derived_from=[parent], session_id="s-1")
    body = owner.get(f"/api/artifacts/{child}").json()
    assert body["derived_from"] == [parent] and body["session_id"] == "s-1"


def test_another_organizations_artifact_is_no_lineage_target(
    owner: APIClient, outsider: APIClient
) -> None:
    theirs = _create(outsider, title="theirs")
    problems = _problems(
        owner.post(
            "/api/artifacts",
            {
                "workflow_id": "w",
                "artifact_type": "t",
                "title": "T",
                "content": "c",
                "derived_from": [theirs],
                "colour": 1,
            },
            format="json",
        )
    )
    assert {loc for loc, _ in problems} == {("body", "derived_from", 0), ("body", "colour")}


# --- the schema says so ---


def test_the_schema_describes_content_encoding_and_the_409() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        operation["operationId"]: operation
        for item in schema["paths"].values()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for name in ("flat_artifacts_retrieve", "flat_artifacts_content"):
        responses = operations[name]["responses"]
        assert "409" in responses, name
        ref = responses["409"]["content"]["application/json"]["schema"]["$ref"]
        error = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert error["properties"]["detail"]["type"] == "string"
        assert "prefix" in operations[name]["description"]
    ref = operations["flat_artifacts_retrieve"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]["$ref"]
    detail = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    encoding = detail["properties"]["content_encoding"]
    ref = encoding["$ref"] if "$ref" in encoding else encoding["allOf"][0]["$ref"]
    enum = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(enum["enum"]) == {"utf-8", "base64"}
    # Absent with include_content=false, so not required; never null.
    assert "content_encoding" not in detail["required"]
    assert "content" in detail["required"]
