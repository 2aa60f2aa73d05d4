"""Seed 002's PUT decision, in one service (artifacts.services.artifact_put): new content
makes a version, other fields alone change the latest in place, and a body that cannot be
decided is a 422 that changes nothing."""

import pytest
from rest_framework.test import APIClient

from artifacts.models import Artifact
from artifacts.services import NewContent, artifact_create, artifact_put
from attachments import storage
from sessions_app.errors import InvalidInput
from sessions_app.models import DEFAULT_NAMESPACE, Namespace
from tests.support import AsgiClient, Tenant, multipart_body, stored_keys

pytestmark = pytest.mark.django_db
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


@pytest.fixture
def artifact(tenant: Tenant) -> Artifact:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    return artifact_create(
        namespace=namespace, content=NewContent(text="one"), fields={"name": "Plan"}
    )


def test_new_content_makes_a_version_keeping_the_type(artifact: Artifact) -> None:
    version = artifact_put(artifact=artifact, data={"content": "two"})
    assert (version.version, version.content, version.content_type) == (2, "two", "text/markdown")


def test_other_fields_alone_change_the_latest_in_place(artifact: Artifact) -> None:
    version = artifact_put(artifact=artifact, data={"name": "Renamed"})
    assert (version.pk, version.version, version.name) == (artifact.pk, 1, "Renamed")


def test_the_same_content_makes_no_version(artifact: Artifact) -> None:
    version = artifact_put(artifact=artifact, data={"content": "one", "name": "Same"})
    assert (version.pk, version.name) == (artifact.pk, "Same")


def test_a_file_makes_a_version_with_its_bytes(artifact: Artifact) -> None:
    staged = storage.write_stream(iter([b"file bytes"]))
    version = artifact_put(artifact=artifact, data={}, upload=(staged, "notes.txt"))
    assert (version.version, version.file_name, version.size_bytes) == (2, "notes.txt", 10)


@pytest.mark.parametrize(
    ("data", "loc"),
    [
        ({"content_type": "text/plain"}, ["body", "content_type"]),
        ({"content": "x"}, ["body", "content"]),
    ],
    ids=["content-type-without-content", "content-and-file"],
)
def test_an_undecidable_body_is_a_422_and_changes_nothing(
    artifact: Artifact, data: dict[str, str], loc: list[str]
) -> None:
    upload = (storage.write_stream(iter([b"f"])), "f.txt") if "content" in data else None
    with pytest.raises(InvalidInput) as raised:
        artifact_put(artifact=artifact, data=data, upload=upload)
    assert raised.value.errors[0]["loc"] == loc
    assert Artifact.objects.filter(root_id=artifact.root_id).count() == 1


# The ASGI client serves the multipart PUT from another thread: it must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_put_with_a_file_and_content_is_a_422_not_a_500(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    created = owner.post(f"{NS}/artifacts", {"name": "n", "content": "x"}, format="json").json()
    body, content_type = multipart_body("file", "a.txt", b"hello", {"content": "also"})
    response = asgi_owner.request(
        "PUT",
        f"{NS}/artifacts/{created['artifact_id']}",
        content=body,
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "content"]
    assert Artifact.objects.filter(root__artifact_id=created["artifact_id"]).count() == 1
    assert stored_keys() == set()  # the staged file went with the refusal
