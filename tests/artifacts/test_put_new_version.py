"""Seed 002's PUT with new content, as issue 11 trimmed it: the artifact is read once before
the transaction, the replaced version is flipped, locked and read in one UPDATE ... RETURNING
under the root's lock, and the answer is built from what was written. These pin what that
must not change: the answer is what a read of the version gives, and a read that went stale
before the lock (a version made, a rename, a promotion in between) still makes the right
version with the latest fields."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from artifacts.indexing import artifact_index
from artifacts.models import Artifact, ArtifactChunk
from artifacts.selectors import artifact_get_in_namespace
from artifacts.services import (
    NewContent,
    artifact_create,
    artifact_promote,
    artifact_update,
    artifact_version_create,
)
from sessions_app import services as session_services
from sessions_app.models import DEFAULT_NAMESPACE, Namespace
from tests.support import Tenant, client_with

pytestmark = pytest.mark.django_db
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def _namespace(tenant: Tenant) -> Namespace:
    return Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)


def _created(owner: APIClient, **body: Any) -> dict[str, Any]:
    response = owner.post(f"{NS}/artifacts", {"name": "Plan", "content": "v1", **body}, "json")
    assert response.status_code == 201, response.content
    return response.json()


def _put_then_read(owner: APIClient, artifact_id: str, body: dict[str, Any]) -> None:
    put = owner.put(f"{NS}/artifacts/{artifact_id}", body, format="json")
    assert put.status_code == 200, put.content
    answer = put.json()
    read = owner.get(f"{NS}/artifacts/{artifact_id}?version={answer['version']}")
    assert read.status_code == 200
    # The same document, key for key and in the same order, as the read of that version.
    assert list(answer.items()) == list(read.json().items())


@pytest.mark.parametrize(
    "body",
    [
        {"content": "v2"},
        {"content": "v2", "content_type": "text/plain", "name": "Renamed", "tags": ["b", "a"]},
        {"content": "v2", "ttl_seconds": 3600, "is_pinned": True, "status": "draft"},
        {"content": "v2", "metadata": {"zeta": 1, "a": {"y": 2.5, "b": [1, 2]}}},
    ],
    ids=["content", "content-and-fields", "ttl", "metadata"],
)
def test_the_answer_is_what_a_read_of_the_new_version_gives(
    tenant: Tenant, owner: APIClient, body: dict[str, Any]
) -> None:
    session_services.session_create(
        organization_id=tenant.organization.pk, namespace=_namespace(tenant), session_id="s-1"
    )
    made = _created(
        owner, session_id="s-1", thread_id="t-1", tags=["x"], metadata={"k": "v", "b": 1}
    )
    promoted = owner.post(f"{NS}/artifacts/{made['artifact_id']}/promote", {}, format="json")
    assert promoted.status_code == 200
    _put_then_read(owner, made["artifact_id"], body)
    _put_then_read(owner, made["artifact_id"], {**body, "content": "v3"})


def test_the_answer_for_an_artifact_without_session_or_thread(owner: APIClient) -> None:
    made = _created(owner)
    _put_then_read(owner, made["artifact_id"], {"content": "v2"})


def test_a_later_versions_id_makes_the_next_version_of_its_artifact(owner: APIClient) -> None:
    made = _created(owner)
    second = owner.put(f"{NS}/artifacts/{made['artifact_id']}", {"content": "v2"}, format="json")
    third = owner.put(
        f"{NS}/artifacts/{second.json()['artifact_id']}", {"content": "v3"}, format="json"
    )
    assert third.status_code == 200
    assert (third.json()["version"], third.json()["root_artifact_id"]) == (3, made["artifact_id"])
    latest = Artifact.objects.get(root__artifact_id=made["artifact_id"], is_latest=True)
    assert latest.content == "v3"


def _read(tenant: Tenant, artifact_id: str) -> Artifact:
    """What the PUT view reads, before the transaction."""
    return artifact_get_in_namespace(namespace=_namespace(tenant), artifact_id=artifact_id)


def test_a_read_gone_stale_before_the_lock_makes_the_version_after_the_newest(
    tenant: Tenant,
) -> None:
    """A version made between the caller's read and its lock: the flip finds nothing to
    replace, and the latest is read again under the lock (number, fields, parents)."""
    namespace = _namespace(tenant)
    parent = artifact_create(
        namespace=namespace, content=NewContent(text="p"), fields={"name": "P"}
    )
    made = artifact_create(namespace=namespace, content=NewContent(text="v1"), fields={"name": "A"})
    stale = _read(tenant, made.artifact_id)
    second, _ = artifact_version_create(artifact=made, content=NewContent(text="v2"))
    second.derived_from.set([parent])  # only the newest version has a parent
    artifact_update(artifact=second, fields={"name": "Renamed"})
    third, created = artifact_version_create(artifact=stale, content=NewContent(text="v3"))
    assert created and third.version == 3
    third.refresh_from_db()
    assert (third.name, third.is_latest) == ("Renamed", True)
    assert list(third.derived_from.all()) == [parent]
    versions = Artifact.objects.filter(root_id=made.pk).order_by("version")
    assert [(v.version, v.is_latest, v.replaced_by_version) for v in versions] == [
        (1, False, 2),
        (2, False, 3),
        (3, True, 0),
    ]


def test_a_rename_or_promotion_since_the_read_is_inherited(tenant: Tenant) -> None:
    """The read is still the latest, but its fields changed since (a rename in place, a
    promotion, which writes no updated_at): the new version inherits them as they are under
    the lock, not as the read saw them."""
    namespace = _namespace(tenant)
    made = artifact_create(namespace=namespace, content=NewContent(text="v1"), fields={"name": "A"})
    stale = _read(tenant, made.artifact_id)
    artifact_update(artifact=made, fields={"name": "Renamed", "tags": ["t"]})
    source, _ = artifact_promote(artifact=made)
    version, created = artifact_version_create(artifact=stale, content=NewContent(text="v2"))
    assert created
    version.refresh_from_db()
    assert (version.name, version.tags, version.promoted_to_source_id) == (
        "Renamed",
        ["t"],
        source.pk,
    )


def test_the_same_content_as_a_stale_read_changes_the_latest_in_place(tenant: Tenant) -> None:
    """Content equal to the newest version (made after the read): no version, in place."""
    namespace = _namespace(tenant)
    made = artifact_create(namespace=namespace, content=NewContent(text="v1"), fields={"name": "A"})
    stale = _read(tenant, made.artifact_id)
    second, _ = artifact_version_create(artifact=made, content=NewContent(text="v2"))
    same, created = artifact_version_create(
        artifact=stale, content=NewContent(text="v2"), fields={"name": "B"}
    )
    assert (created, same.pk, same.name) == (False, second.pk, "B")
    assert Artifact.objects.filter(root_id=made.pk).count() == 2


def test_parents_go_to_the_new_version_and_only_its_parents(tenant: Tenant) -> None:
    namespace = _namespace(tenant)
    parents = [
        artifact_create(namespace=namespace, content=NewContent(text=t), fields={"name": t})
        for t in ("p1", "p2")
    ]
    child = artifact_create(
        namespace=namespace,
        content=NewContent(text="c"),
        fields={"name": "c"},
        derived_from=parents,
    )
    lonely = artifact_create(
        namespace=namespace, content=NewContent(text="l"), fields={"name": "l"}
    )
    version, _ = artifact_version_create(
        artifact=_read(tenant, child.artifact_id), content=NewContent(text="c2")
    )
    alone, _ = artifact_version_create(
        artifact=_read(tenant, lonely.artifact_id), content=NewContent(text="l2")
    )
    assert sorted(p.pk for p in version.derived_from.all()) == sorted(p.pk for p in parents)
    assert list(child.derived_from.all().order_by("pk")) == parents  # the old version keeps them
    assert not alone.derived_from.exists()


def test_the_replaced_versions_chunks_go(tenant: Tenant) -> None:
    namespace = _namespace(tenant)
    made = artifact_create(
        namespace=namespace, content=NewContent(text="alpha beta"), fields={"name": "A"}
    )
    artifact_index(artifact_pk=made.pk)
    assert ArtifactChunk.objects.filter(artifact_id=made.pk).exists()
    version, _ = artifact_version_create(
        artifact=_read(tenant, made.artifact_id), content=NewContent(text="gamma")
    )
    assert not ArtifactChunk.objects.filter(artifact_id=made.pk).exists()
    artifact_index(artifact_pk=version.pk)
    assert ArtifactChunk.objects.filter(artifact_id=version.pk).exists()


def test_a_put_past_the_quota_is_a_413_and_makes_nothing(tenant: Tenant, owner: APIClient) -> None:
    made = _created(owner)
    tenant.organization.storage_quota_bytes = 10
    tenant.organization.save()
    response = owner.put(f"{NS}/artifacts/{made['artifact_id']}", {"content": "x" * 64}, "json")
    assert response.status_code == 413, response.content
    versions = Artifact.objects.filter(root__artifact_id=made["artifact_id"])
    assert [(v.version, v.is_latest) for v in versions] == [(1, True)]


def test_the_one_read_refuses_what_the_usual_path_refuses(tenant: Tenant, owner: APIClient) -> None:
    """A key limited to another workspace, another organization's slug, an unknown id: the
    same 404s as the namespace and artifact lookups give, and no version made."""
    made = _created(owner)
    path = f"{NS}/artifacts/{made['artifact_id']}"
    limited = client_with(tenant.limited_key).put(path, {"content": "v2"}, format="json")
    assert (limited.status_code, limited.json()) == (404, {"detail": "Namespace not found."})
    other_org = owner.put(path.replace("/orgs/acme/", "/orgs/other/"), {"content": "v2"}, "json")
    assert (other_org.status_code, other_org.json()) == (404, {"detail": "Namespace not found."})
    unknown = owner.put(f"{NS}/artifacts/art_{'0' * 32}", {"content": "v2"}, format="json")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": f"Artifact 'art_{'0' * 32}' not found."}
    assert Artifact.objects.filter(root__artifact_id=made["artifact_id"]).count() == 1
