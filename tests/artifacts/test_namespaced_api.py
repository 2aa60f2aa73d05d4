"""Seed 002: namespaced, versioned artifacts."""

import hashlib
import re
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from artifacts.models import Artifact, Source
from artifacts.services import NewContent, artifact_create, artifact_version_create
from attachments.models import Blob
from sessions_app.models import Event, Namespace
from tests.support import AsgiClient, Tenant, client_with, stored_keys

# transaction=True only on the tests that cross threads: the ASGI client serves from another
# thread, and the task worker needs committed rows (and closes its connection).
pytestmark = pytest.mark.django_db

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
ARTIFACT_FIELDS = {
    "artifact_id": str,
    "workspace_id": str,
    "namespace_id": str,
    "thread_id": (str, type(None)),
    "name": str,
    "description": str,
    "artifact_type": str,
    "version": int,
    "root_artifact_id": str,
    "is_latest": bool,
    "replaced_by_version": int,
    "content": (str, type(None)),
    "content_preview": str,
    "content_text": str,
    "file_name": (str, type(None)),
    "mime_type": str,
    "size_bytes": int,
    "has_file": bool,
    "summary": str,
    "keywords": list,
    "tags": list,
    "metadata": dict,
    "source": str,
    "source_execution_id": str,
    "source_step_id": str,
    "source_tool": str,
    "scope": str,
    "status": str,
    "ttl_seconds": (int, type(None)),
    "expires_at": (str, type(None)),
    "is_pinned": bool,
    "is_expired": bool,
    "is_indexed": bool,
    "indexed_at": (str, type(None)),
    "index_collection": str,
    "index_error": str,
    "index_attempts": int,
    "embedding_model_id": str,
    "chunk_count": int,
    "promoted_to_source_id": (str, type(None)),
    "created_by": str,
    "created_at": str,
    "updated_at": str,
}


def _check_artifact_shape(item: dict) -> None:
    missing = set(ARTIFACT_FIELDS) - set(item)
    assert not missing, missing
    for name, kind in ARTIFACT_FIELDS.items():
        assert isinstance(item[name], kind), (name, item[name])


def _create(client: APIClient, **body) -> dict:  # type: ignore[no-untyped-def]
    response = client.post(f"{NS}/artifacts", {"name": "Doc", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_create_and_get_every_field(owner: APIClient) -> None:
    body = {
        "name": "Spec",
        "description": "what we build",
        "artifact_type": "spec",
        "thread_id": "t-1",
        "content": "# Spec\nbody",
        "content_type": "text/markdown",
        "tags": ["a", "b"],
        "keywords": ["k"],
        "summary": "short",
        "metadata": {"m": 1},
        "source": "agent",
        "source_execution_id": "ex-1",
        "source_step_id": "st-1",
        "source_tool": "writer",
        "scope": "team",
        "status": "draft",
        "ttl_seconds": 3600,
        "is_pinned": False,
        "workflow_id": "wf",
        "phase_id": "ph",
        "is_primary_deliverable": True,
    }
    created = _create(owner, **body)
    _check_artifact_shape(created)
    for key, value in body.items():
        if key not in {"content_type", "thread_id"}:
            assert created[key] == value, key
    assert created["thread_id"] == "t-1" and created["mime_type"] == "text/markdown"
    assert (created["version"], created["is_latest"], created["replaced_by_version"]) == (
        1,
        True,
        0,
    )
    assert created["root_artifact_id"] == created["artifact_id"]
    assert (created["workspace_id"], created["namespace_id"]) == ("alpha", "default")
    assert (
        created["content_text"] == "# Spec\nbody" and created["content_preview"] == "# Spec\nbody"
    )
    assert created["size_bytes"] == len(b"# Spec\nbody") and created["has_file"] is False
    assert created["expires_at"] is not None and created["is_expired"] is False
    assert created["created_by"].startswith("key:")
    fetched = owner.get(f"{NS}/artifacts/{created['artifact_id']}").json()
    assert fetched == created


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, ["body", "name"]),
        ({"name": "x", "colour": 1}, ["body", "colour"]),
        ({"name": "x", "ttl_seconds": 0}, ["body", "ttl_seconds"]),
        ({"name": "x", "tags": "not-a-list-but-ok", "metadata": []}, ["body", "metadata"]),
        ({"name": "x", "session_id": "bad id"}, ["body", "session_id"]),
    ],
)
def test_create_validation(owner: APIClient, body: dict, loc: list) -> None:
    response = owner.post(f"{NS}/artifacts", body, format="json")
    assert response.status_code == 422
    assert loc in [item["loc"] for item in response.json()["detail"]]
    assert not Artifact.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_upload_a_file_artifact(asgi_owner: AsgiClient) -> None:
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    response = asgi_owner.upload(
        f"{NS}/artifacts/upload",
        content,
        name="chart.png",
        artifact_type="image",
        tags='["x","y"]',
        metadata='{"a": 2}',
    )
    assert response.status_code == 201, response.text
    body = response.json()
    _check_artifact_shape(body)
    assert (body["name"], body["file_name"], body["mime_type"]) == (
        "chart.png",
        "chart.png",
        "image/png",
    )
    assert body["has_file"] is True and body["content"] is None
    assert body["content_hash"] == "sha256:" + hashlib.sha256(content).hexdigest()
    assert (body["tags"], body["metadata"], body["size_bytes"]) == (
        ["x", "y"],
        {"a": 2},
        len(content),
    )


@pytest.mark.django_db(transaction=True)
def test_a_list_sent_as_repeated_form_parts_keeps_every_value(asgi_owner: AsgiClient) -> None:
    """What generated clients send for a list in multipart (`tags=t1`, `tags=t2`): only the
    last part was kept before, silently. httpx's multipart encoder repeats list parts."""
    response = asgi_owner.post(
        f"{NS}/artifacts/upload",
        files={"file": ("notes.txt", b"some notes")},
        data={"name": "n", "tags": ["t1", "t2"], "keywords": ["only"]},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["tags"], response.json()["keywords"]) == (["t1", "t2"], ["only"])


@pytest.mark.django_db(transaction=True)
def test_upload_without_file_or_with_bad_fields_leaves_nothing(asgi_owner: AsgiClient) -> None:
    assert asgi_owner.upload(f"{NS}/artifacts/upload", b"x", field="other").status_code == 422
    bad = asgi_owner.upload(f"{NS}/artifacts/upload", b"x", metadata="nope")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "metadata"]
    assert not Artifact.objects.exists() and stored_keys() == set()


def test_put_new_content_makes_a_version_and_fields_alone_do_not(owner: APIClient) -> None:
    first = _create(owner, content="v1", tags=["t"])
    root = first["artifact_id"]
    in_place = owner.put(
        f"{NS}/artifacts/{root}", {"name": "Renamed", "tags": ["u"]}, format="json"
    )
    assert in_place.status_code == 200
    assert (in_place.json()["version"], in_place.json()["name"]) == (1, "Renamed")
    assert Artifact.objects.count() == 1

    second = owner.put(
        f"{NS}/artifacts/{root}", {"content": "v2", "summary": "s2"}, format="json"
    ).json()
    assert (second["version"], second["is_latest"], second["content"]) == (2, True, "v2")
    assert (second["name"], second["tags"], second["summary"]) == ("Renamed", ["u"], "s2")
    assert second["root_artifact_id"] == root and second["artifact_id"] != root

    same = owner.put(
        f"{NS}/artifacts/{second['artifact_id']}", {"content": "v2"}, format="json"
    ).json()
    assert same["version"] == 2 and Artifact.objects.count() == 2

    versions = owner.get(f"{NS}/artifacts/{root}/versions").json()
    assert versions["artifact_id"] == root
    assert [
        (v["version"], v["is_latest"], v["replaced_by_version"]) for v in versions["versions"]
    ] == [(2, True, 0), (1, False, 2)]
    # A root id means the latest; another version's id means that version; ?version=N picks.
    assert owner.get(f"{NS}/artifacts/{root}").json()["version"] == 2
    assert owner.get(f"{NS}/artifacts/{root}?version=1").json()["content"] == "v1"
    assert owner.get(f"{NS}/artifacts/{second['artifact_id']}").json()["version"] == 2
    assert owner.get(f"{NS}/artifacts/{root}?version=9").status_code == 404


def test_put_validation(owner: APIClient) -> None:
    root = _create(owner, content="x")["artifact_id"]
    for body in ({"colour": 1}, {"ttl_seconds": -1}, {"content_type": "text/plain"}):
        response = owner.put(f"{NS}/artifacts/{root}", body, format="json")
        assert response.status_code == 422, body
    assert Artifact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_put_a_file_makes_a_version(asgi_owner: AsgiClient, owner: APIClient) -> None:
    root = _create(owner, content="text first")["artifact_id"]
    response = asgi_owner.upload(f"{NS}/artifacts/{root}", b"%PDF-1.4\nbinary", name="r.pdf")
    # upload() POSTs; PUT carries the same multipart body.
    assert response.status_code == 405
    from tests.support import multipart_body

    body, content_type = multipart_body("file", "r.pdf", b"%PDF-1.4\nbinary", {"name": "Report"})
    put = asgi_owner.request(
        "PUT", f"{NS}/artifacts/{root}", content=body, headers={"Content-Type": content_type}
    )
    assert put.status_code == 200, put.text
    assert (put.json()["version"], put.json()["mime_type"], put.json()["name"]) == (
        2,
        "application/pdf",
        "Report",
    )


@pytest.mark.django_db(transaction=True)
def test_delete_removes_every_version_and_unused_bytes(
    asgi_owner: AsgiClient, owner: APIClient
) -> None:
    created = asgi_owner.upload(f"{NS}/artifacts/upload", b"file v1", name="a.txt").json()
    root = created["artifact_id"]
    owner.put(f"{NS}/artifacts/{root}", {"content": "inline v2"}, format="json")
    shared = asgi_owner.upload("/api/uploads/keep", b"file v1", name="same.txt")
    assert shared.status_code == 201
    assert owner.delete(f"{NS}/artifacts/{root}").status_code == 204
    assert not Artifact.objects.exists()
    assert Blob.objects.count() == 1 and len(stored_keys()) == 1  # still used by the attachment
    assert owner.get(f"{NS}/artifacts/{root}").status_code == 404
    other = asgi_owner.upload(f"{NS}/artifacts/upload", b"only here", name="b.txt").json()
    owner.delete(f"{NS}/artifacts/{other['artifact_id']}")
    assert len(stored_keys()) == 1


@pytest.mark.django_db(transaction=True)
def test_list_page_shape_filters_and_threads(owner: APIClient) -> None:
    for index in range(5):
        _create(
            owner,
            name=f"a{index}",
            artifact_type="plan" if index % 2 else "note",
            thread_id="t-1" if index < 3 else "t-2",
        )
    page = owner.get(f"{NS}/artifacts", {"limit": 2}).json()
    assert set(page) == {"total", "has_more", "next_cursor", "artifacts"}
    assert (page["total"], page["has_more"], len(page["artifacts"])) == (5, True, 2)
    assert [a["name"] for a in page["artifacts"]] == ["a4", "a3"]
    plans = owner.get(f"{NS}/artifacts", {"artifact_types": "plan, other"}).json()
    assert {a["name"] for a in plans["artifacts"]} == {"a1", "a3"} and plans["total"] == 2
    thread = owner.get(f"{NS}/threads/t-1/artifacts").json()
    assert {a["name"] for a in thread["artifacts"]} == {"a0", "a1", "a2"}
    typed = owner.get(f"{NS}/threads/t-1/artifacts", {"artifact_types": "note", "limit": 1}).json()
    assert (typed["total"], typed["has_more"], len(typed["artifacts"])) == (2, True, 1)
    assert owner.get(f"{NS}/threads/none/artifacts").json()["total"] == 0


def test_filter_with_limit_returns_a_full_page(owner: APIClient) -> None:
    for index in range(30):
        _create(owner, name=f"n{index}", artifact_type="match" if index % 3 == 0 else "other")
    page = owner.get(f"{NS}/artifacts", {"artifact_types": "match", "limit": 5}).json()
    assert len(page["artifacts"]) == 5 and page["total"] == 10 and page["has_more"] is True


def test_cursor_walk_has_no_repeat_or_gap_while_inserting(tenant: Tenant) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    made = [
        artifact_create(
            namespace=namespace, content=NewContent(text=f"{index}"), fields={"name": f"n{index}"}
        )
        for index in range(1000)
    ]
    client = client_with(tenant.owner_key)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 97, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{NS}/artifacts", params).json()
        seen += [a["name"] for a in page["artifacts"]]
        # While walking: new artifacts, a new version of one already seen, and new versions
        # of artifacts the walk has not reached yet (on the next page and further on).
        artifact_create(
            namespace=namespace, content=NewContent(text="late"), fields={"name": f"late{pages}"}
        )
        if page["artifacts"]:
            first = Artifact.objects.get(artifact_id=page["artifacts"][0]["artifact_id"])
            artifact_version_create(artifact=first, content=NewContent(text=f"v2 {pages}"))
        for ahead in (len(seen) + 10, len(seen) + 300):
            if ahead < 1000:
                artifact_version_create(
                    artifact=made[999 - ahead], content=NewContent(text=f"ahead {pages}")
                )
        pages += 1
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == [f"n{index}" for index in reversed(range(1000))]
    assert pages == 11


def test_ttl_expiry_pinning_and_purge(owner: APIClient) -> None:
    short = _create(owner, name="short", ttl_seconds=60)
    pinned = _create(owner, name="pinned", ttl_seconds=60, is_pinned=True)
    forever = _create(owner, name="forever")
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        names = {a["name"] for a in owner.get(f"{NS}/artifacts").json()["artifacts"]}
        assert names == {"pinned", "forever"}
        everything = owner.get(f"{NS}/artifacts", {"include_expired": "true"}).json()
        assert {a["name"] for a in everything["artifacts"]} == {"short", "pinned", "forever"}
        detail = owner.get(f"{NS}/artifacts/{short['artifact_id']}").json()
        assert detail["is_expired"] is True
        assert owner.get(f"{NS}/artifacts/{pinned['artifact_id']}").json()["is_expired"] is False
        call_command("purge_expired", "--quiet")
        call_command("purge_expired", "--quiet")  # safe to repeat
        assert owner.get(f"{NS}/artifacts/{short['artifact_id']}").status_code == 404
    assert set(Artifact.objects.values_list("name", flat=True)) == {"pinned", "forever"}
    assert forever["expires_at"] is None


def test_unpinning_or_a_new_ttl_changes_expiry(owner: APIClient) -> None:
    made = _create(owner, name="x", ttl_seconds=60, is_pinned=True)
    owner.put(
        f"{NS}/artifacts/{made['artifact_id']}",
        {"is_pinned": False, "ttl_seconds": 7200},
        format="json",
    )
    with time_machine.travel(timezone.now() + timedelta(seconds=120)):
        assert owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()["is_expired"] is False
    with time_machine.travel(timezone.now() + timedelta(seconds=7300)):
        assert owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()["is_expired"] is True


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.mark.django_db(transaction=True)
def test_signed_download_url_valid_expired_and_tampered(owner: APIClient) -> None:
    # Inline content is served by Depot on both profiles, so its link is always Depot-signed.
    made = _create(owner, name="Notes", content="signed content")
    response = owner.get(
        f"{NS}/artifacts/{made['artifact_id']}/download", {"expires_in": 60}
    ).json()
    assert set(response) == {
        "artifact_id",
        "download_url",
        "expires_in",
        "file_name",
        "content_type",
        "file_size_bytes",
    }
    assert (response["expires_in"], response["file_name"], response["file_size_bytes"]) == (
        60,
        "Notes.md",
        14,
    )
    anonymous = AsgiClient()
    path = _path_of(response["download_url"])
    valid = anonymous.get(path)
    assert valid.status_code == 200 and valid.content == b"signed content"
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        expired = anonymous.get(path)
        assert expired.status_code == 403 and "expired" in expired.json()["detail"]
    token = path.rsplit("/", 1)[-1]
    for position in (5, len(token) // 2, len(token) - 2):
        flipped = (
            token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        )
        tampered = anonymous.get(path.replace(token, flipped))
        assert tampered.status_code == 403, position
        assert "invalid" in tampered.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_download_url_for_a_file(asgi_owner: AsgiClient, settings) -> None:  # type: ignore[no-untyped-def]
    import requests

    content = b"file bytes for a link"
    made = asgi_owner.upload(f"{NS}/artifacts/upload", content, name="f.txt").json()
    link = asgi_owner.get(f"{NS}/artifacts/{made['artifact_id']}/download").json()
    assert link["expires_in"] == 3600 and link["file_name"] == "f.txt"
    if settings.STORAGE_BACKEND == "s3":
        # A real S3 presigned URL, fetched from the (moto) S3 endpoint directly.
        assert (
            "X-Amz-Signature=" in link["download_url"]
            and "X-Amz-Expires=3600" in link["download_url"]
        )
        assert requests.get(link["download_url"], timeout=10).content == content
    else:
        fetched = AsgiClient().get(_path_of(link["download_url"]))
        assert fetched.content == content


@pytest.mark.parametrize("expires_in", [59, 86401, "soon"])
def test_download_expiry_bounds(owner: APIClient, expires_in: object) -> None:
    made = _create(owner, content="x")
    response = owner.get(
        f"{NS}/artifacts/{made['artifact_id']}/download", {"expires_in": expires_in}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "expires_in"]


def test_promote_twice_gives_the_same_source(owner: APIClient) -> None:
    made = _create(owner, name="Knowledge", content="facts")
    first = owner.post(f"{NS}/artifacts/{made['artifact_id']}/promote", {}, format="json")
    second = owner.post(f"{NS}/artifacts/{made['artifact_id']}/promote", {}, format="json")
    assert first.status_code == second.status_code == 200
    assert set(first.json()) == {"artifact_id", "source_id", "source_name", "message"}
    assert first.json()["source_id"] == second.json()["source_id"]
    assert re.fullmatch(r"src_[0-9a-f]{32}", first.json()["source_id"])
    assert first.json()["source_name"] == "Knowledge" and Source.objects.count() == 1
    fetched = owner.get(f"{NS}/artifacts/{made['artifact_id']}").json()
    assert fetched["promoted_to_source_id"] == first.json()["source_id"]


def test_lineage(owner: APIClient) -> None:
    base = _create(owner, name="base", content="b")
    middle = _create(owner, name="middle", content="m", derived_from=[base["artifact_id"]])
    top = _create(owner, name="top", content="t", derived_from=[middle["artifact_id"]])
    response = owner.get(f"{NS}/artifacts/{middle['artifact_id']}", {"include": "lineage"}).json()
    assert [a["name"] for a in response["lineage"]["ancestors"]] == ["base"]
    assert [a["name"] for a in response["lineage"]["descendants"]] == ["top"]
    top_lineage = owner.get(f"{NS}/artifacts/{top['artifact_id']}", {"include": "lineage"}).json()[
        "lineage"
    ]
    assert {a["name"] for a in top_lineage["ancestors"]} == {"base", "middle"}
    # A new version keeps its links, and descendants of any version still count.
    owner.put(f"{NS}/artifacts/{middle['artifact_id']}", {"content": "m2"}, format="json")
    again = owner.get(f"{NS}/artifacts/{middle['artifact_id']}", {"include": "lineage"}).json()[
        "lineage"
    ]
    assert [a["name"] for a in again["ancestors"]] == ["base"]
    assert [a["name"] for a in again["descendants"]] == ["top"]
    assert "lineage" not in owner.get(f"{NS}/artifacts/{top['artifact_id']}").json()


def test_lineage_to_another_tenant_or_nothing_is_refused(
    owner: APIClient, outsider: APIClient
) -> None:
    theirs = outsider.post(
        "/api/v1/orgs/globex/workspaces/alpha/namespaces/default/artifacts",
        {"name": "theirs"},
        format="json",
    ).json()
    for target in (theirs["artifact_id"], "art_" + "0" * 32):
        response = owner.post(
            f"{NS}/artifacts", {"name": "mine", "derived_from": [target]}, format="json"
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "derived_from", 0]
    assert Artifact.objects.filter(name="mine").count() == 0


def test_tenancy_on_every_route(owner: APIClient, outsider: APIClient, tenant: Tenant) -> None:
    made = _create(owner, content="private")
    artifact_id = made["artifact_id"]
    # Their key against our org's paths, and their own namespace with our artifact id.
    for base in (NS, "/api/v1/orgs/globex/workspaces/alpha/namespaces/default"):
        for method, suffix in (
            ("get", ""),
            ("put", ""),
            ("delete", ""),
            ("get", "/versions"),
            ("get", "/download"),
            ("post", "/promote"),
        ):
            response = getattr(outsider, method)(
                f"{base}/artifacts/{artifact_id}{suffix}", {}, format="json"
            )
            assert response.status_code == 404, (base, method, suffix)
    assert outsider.get(f"{NS}/artifacts").status_code == 404
    limited = client_with(tenant.limited_key)
    assert limited.get(f"{NS}/artifacts").status_code == 404
    assert (
        client_with(tenant.read_only_key)
        .post(f"{NS}/artifacts", {"name": "x"}, format="json")
        .status_code
        == 403
    )
    assert client_with(None).get(f"{NS}/artifacts").status_code == 401
    assert Artifact.objects.count() == 1 and Artifact.objects.get().content == "private"


def test_events_for_session_artifacts(owner: APIClient) -> None:
    made = _create(owner, name="Plan", content="p1", session_id="run-a")
    root = made["artifact_id"]
    owner.put(f"{NS}/artifacts/{root}", {"content": "p2"}, format="json")
    owner.put(f"{NS}/artifacts/{root}", {"name": "Plan B"}, format="json")
    owner.delete(f"{NS}/artifacts/{root}")
    events = list(Event.objects.filter(session__session_id="run-a").order_by("sequence"))
    assert [(e.sequence, e.kind, e.change_type) for e in events] == [
        (1, "artifact.created", "created"),
        (2, "artifact.version_created", "created"),
        (3, "artifact.updated", "updated"),
        (4, "artifact.deleted", "deleted"),
    ]
    assert events[0].artifact_id == root and events[0].hash == made["content_hash"]
    assert events[1].artifact_id != root
    # An artifact without a session lands in the namespace feed only.
    loose = _create(owner, name="loose", content="x")
    event = Event.objects.get(artifact_id=loose["artifact_id"])
    assert (event.session_id, event.sequence, event.kind) == (None, None, "artifact.created")
    assert event.namespace_sequence == 5
    assert list(
        Event.objects.order_by("namespace_sequence").values_list("namespace_sequence", flat=True)
    ) == [1, 2, 3, 4, 5]


@pytest.mark.django_db(transaction=True)
def test_query_counts_are_pinned(owner: APIClient, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    def make(count: int) -> None:
        for index in range(count):
            _create(owner, name=f"q{index}", content="x", thread_id="t", session_id="s")

    make(3)
    # key, namespace, the page with its total (the namespace's counter) and everything joined
    with django_assert_num_queries(3):
        owner.get(f"{NS}/artifacts")
    make(7)
    with django_assert_num_queries(3):
        assert len(owner.get(f"{NS}/artifacts").json()["artifacts"]) == 10
    root = Artifact.objects.order_by("id").first().artifact_id  # type: ignore[union-attr]
    # key, namespace, id lookup, the version with its relations
    with django_assert_num_queries(4):
        owner.get(f"{NS}/artifacts/{root}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_fifty_writers_make_versions_one_to_a_thousand(tenant: Tenant) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    root = artifact_create(
        namespace=namespace, content=NewContent(text="start"), fields={"name": "hot"}
    )
    errors: list[BaseException] = []
    barrier = threading.Barrier(50)

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for step in range(20):
                artifact_version_create(artifact=root, content=NewContent(text=f"{number}-{step}"))
                # As a request does: hand the connection back (to the pool, in production).
                connection.close()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    versions = list(
        Artifact.objects.filter(root=root).order_by("version").values_list("version", flat=True)
    )
    assert versions == list(range(1, 1002))
    assert Artifact.objects.filter(root=root, is_latest=True).count() == 1
    assert Artifact.objects.get(root=root, is_latest=True).version == 1001
    replaced = dict(
        Artifact.objects.filter(root=root).values_list("version", "replaced_by_version")
    )
    assert all(replaced[number] == number + 1 for number in range(1, 1001)) and replaced[1001] == 0


@pytest.mark.postgres
def test_the_database_refuses_a_second_latest_version(tenant: Tenant) -> None:
    from django.db import IntegrityError, transaction

    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    root = artifact_create(namespace=namespace, content=NewContent(text="a"), fields={"name": "x"})
    with pytest.raises(IntegrityError), transaction.atomic():
        Artifact.objects.create(
            root=root,
            version=2,
            is_latest=True,
            namespace=namespace,
            name="x",
            content="b",
            content_hash="sha256:b",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Artifact.objects.create(
            root=root,
            version=1,
            is_latest=False,
            namespace=namespace,
            name="x",
            content="b",
            content_hash="sha256:b",
        )
