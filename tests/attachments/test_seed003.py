"""Seed 003: x-api-key uploads into an app (workspace) / environment (namespace)."""

import re

import pytest

from attachments.models import Attachment
from sessions_app.models import Event, Session
from tests.support import AsgiClient, Stranger, Tenant, multipart_body, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v2/apps/{app}/environments/{env}/attachments/upload"


def _upload(
    client: AsgiClient,
    content: bytes = b"%PDF-1.4\n\x00\x01",
    *,
    app: str = "alpha",
    env: str = "default",
    name: str = "myfile.pdf",
    field: str = "file",
    **fields: str,
):  # type: ignore[no-untyped-def]
    form = {"userReference": "your-session-reference", "uploadType": "runtime", **fields}
    form = {key: value for key, value in form.items() if value is not None}
    body, content_type = multipart_body(field, name, content, form)
    return client.post(
        UPLOAD.format(app=app, env=env), content=body, headers={"Content-Type": content_type}
    )


@pytest.fixture
def app_client(tenant: Tenant) -> AsgiClient:
    # The seed sends `x-api-key` in lower case.
    return AsgiClient(headers={"x-api-key": tenant.owner_key})


def test_upload_response_matches_the_seed(app_client: AsgiClient) -> None:
    response = _upload(app_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "fileId",
        "fileName",
        "filePath",
        "fileSize",
        "mimeType",
        "extension",
        "uploadedAt",
    }
    assert re.fullmatch(
        r"f-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body["fileId"]
    )
    assert body["fileName"] == "myfile.pdf"
    assert body["filePath"] == f"AppFileSystem/{body['fileId']}.pdf"
    assert (body["fileSize"], body["mimeType"], body["extension"]) == (11, "application/pdf", "pdf")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["uploadedAt"])


def test_upload_goes_to_the_reference_session_and_shows_on_seed_000(
    app_client: AsgiClient, tenant: Tenant
) -> None:
    first = _upload(app_client).json()
    second = _upload(app_client, b"second", name="b.txt").json()
    sessions = Session.objects.filter(reference="your-session-reference")
    assert sessions.count() == 1
    session = sessions.get()
    assert session.user_reference == "your-session-reference"
    assert session.namespace.workspace.slug == "alpha" and session.session_id.startswith("s-")
    listed = AsgiClient(tenant.owner_key).get(f"/api/uploads/{session.session_id}").json()
    assert {item["name"] for item in listed["attachments"]} == {"myfile.pdf", "b.txt"}
    assert Event.objects.filter(session=session, kind="attachment.created").count() == 2
    owner = AsgiClient(tenant.owner_key)
    meta = owner.get(f"/api/sessions/{session.session_id}/artifacts/{first['fileId']}").json()
    assert meta["name"] == "myfile.pdf"
    zipped = owner.get(f"/api/sessions/{session.session_id}/download")
    assert zipped.status_code == 200 and b"b.txt" in zipped.content
    assert second["fileId"] != first["fileId"]


def test_upload_into_a_named_session(app_client: AsgiClient) -> None:
    assert _upload(app_client, sessionId="chosen-1").status_code == 201
    session = Session.objects.get(session_id="chosen-1")
    assert Attachment.objects.get().session == session
    assert session.reference == "your-session-reference"


def test_other_environment_resolves_to_its_namespace(
    tenant: Tenant, app_client: AsgiClient
) -> None:
    from sessions_app.services import namespace_create

    namespace_create(workspace=tenant.workspace, slug="staging")
    assert _upload(app_client, env="staging").status_code == 201
    assert Session.objects.get().namespace.slug == "staging"


@pytest.mark.parametrize(
    ("overrides", "loc", "text"),
    [
        ({"userReference": None}, ["body", "userReference"], "required"),
        ({"uploadType": "batch"}, ["body", "uploadType"], "runtime"),
        ({"uploadType": None}, ["body", "uploadType"], "required"),
        ({"sessionId": "bad id!"}, ["body", "sessionId"], "letters"),
        ({"extra": "x"}, ["body", "extra"], "not permitted"),
    ],
)
def test_invalid_form_is_422_and_leaves_nothing(
    app_client: AsgiClient, overrides: dict, loc: list, text: str
) -> None:
    response = _upload(app_client, **overrides)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail[0]["loc"] == loc
    assert text in detail[0]["msg"].lower() or text in detail[0]["msg"]
    assert not Attachment.objects.exists() and not Session.objects.exists()
    assert stored_keys() == set()


def test_missing_file_is_422(app_client: AsgiClient) -> None:
    response = _upload(app_client, field="attachment")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]
    assert stored_keys() == set() and not Session.objects.exists()


def test_capitalised_file_field_is_accepted(app_client: AsgiClient) -> None:
    assert _upload(app_client, field="File").status_code == 201


@pytest.mark.parametrize(("app", "env"), [("nope", "default"), ("alpha", "nope"), ("beta", "nope")])
def test_unknown_app_or_environment_is_404(app_client: AsgiClient, app: str, env: str) -> None:
    response = _upload(app_client, app=app, env=env)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]
    assert stored_keys() == set() and not Session.objects.exists()


def test_auth_errors(tenant: Tenant, stranger: Stranger) -> None:
    assert _upload(AsgiClient()).status_code == 401
    assert _upload(AsgiClient(headers={"x-api-key": "dpt_wrong_key"})).status_code == 401
    assert _upload(AsgiClient(headers={"x-api-key": tenant.read_only_key})).status_code == 403
    # A key limited to workspace beta cannot see app alpha; another org cannot see it either.
    assert _upload(AsgiClient(headers={"x-api-key": tenant.limited_key})).status_code == 404
    assert _upload(AsgiClient(headers={"x-api-key": stranger.key}), app="beta").status_code == 404
    assert stored_keys() == set()
    # The stranger's own `alpha` app is theirs: the upload lands in their organization.
    assert _upload(AsgiClient(headers={"x-api-key": stranger.key})).status_code == 201
    assert Session.objects.get().organization == stranger.organization


def test_session_of_another_environment_is_404(tenant: Tenant, app_client: AsgiClient) -> None:
    from sessions_app.services import namespace_create

    namespace_create(workspace=tenant.workspace, slug="staging")
    assert _upload(app_client, env="staging", sessionId="run-9").status_code == 201
    response = _upload(app_client, env="default", sessionId="run-9")
    assert response.status_code == 404
    assert Attachment.objects.count() == 1


# --- delete ---

DELETE = "/api/v2/apps/alpha/environments/default/attachments/{file_id}"


def test_delete_by_id(app_client: AsgiClient) -> None:
    file_id = _upload(app_client).json()["fileId"]
    assert app_client.delete(DELETE.format(file_id=file_id)).status_code == 204
    assert not Attachment.objects.exists() and stored_keys() == set()
    assert Event.objects.filter(kind="attachment.deleted").count() == 1
    assert app_client.delete(DELETE.format(file_id=file_id)).status_code == 404


@pytest.mark.parametrize("where", ["query", "json"])
def test_delete_with_matching_session_id_or_reference(app_client: AsgiClient, where: str) -> None:
    file_id = _upload(app_client, sessionId="run-1").json()["fileId"]
    other = _upload(app_client, sessionId="run-1", name="b.pdf").json()["fileId"]
    for criteria, target in (
        ({"sessionId": "run-1"}, file_id),
        ({"sessionReference": "your-session-reference"}, other),
    ):
        url = DELETE.format(file_id=target)
        if where == "query":
            response = app_client.delete(url, params=criteria)
        else:
            response = app_client.request("DELETE", url, json=criteria)
        assert response.status_code == 204
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    "criteria", [{"sessionId": "someone-else"}, {"sessionReference": "other-reference"}]
)
def test_delete_with_a_mismatched_session_is_404(app_client: AsgiClient, criteria: dict) -> None:
    file_id = _upload(app_client, sessionId="run-1").json()["fileId"]
    response = app_client.delete(DELETE.format(file_id=file_id), params=criteria)
    assert response.status_code == 404
    assert Attachment.objects.count() == 1


@pytest.mark.parametrize("file_id", ["not-a-file-id", "f-123", "att_" + "0" * 32])
def test_delete_with_a_malformed_id_is_422(app_client: AsgiClient, file_id: str) -> None:
    response = app_client.delete(DELETE.format(file_id=file_id))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "fileId"]


def test_delete_auth_and_tenancy(
    app_client: AsgiClient, tenant: Tenant, stranger: Stranger
) -> None:
    file_id = _upload(app_client).json()["fileId"]
    url = DELETE.format(file_id=file_id)
    assert AsgiClient().delete(url).status_code == 401
    assert AsgiClient(tenant.read_only_key).delete(url).status_code == 403
    assert AsgiClient(stranger.key).delete(url).status_code == 404
    assert AsgiClient(tenant.limited_key).delete(url).status_code == 404
    assert (
        app_client.delete(
            f"/api/v2/apps/alpha/environments/other/attachments/{file_id}"
        ).status_code
        == 404
    )
    assert Attachment.objects.count() == 1


def test_delete_with_unknown_body_field_is_422(app_client: AsgiClient) -> None:
    file_id = _upload(app_client).json()["fileId"]
    response = app_client.request("DELETE", DELETE.format(file_id=file_id), json={"session": "x"})
    assert response.status_code == 422
    assert Attachment.objects.count() == 1
