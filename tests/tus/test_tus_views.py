"""The Django views behind the schema (what Django's test client reaches; every real client
goes through the ASGI app, tested live in test_tus_clients.py) answer as the ASGI app does, and
the saved SHA-256 state is the real SHA-256."""

import base64
import hashlib

import pytest
from rest_framework.test import APIClient

from artifacts.models import Artifact
from artifacts.tus.hashstate import ResumableSha256, self_check
from artifacts.tus.models import TusUpload
from attachments.models import Attachment

pytestmark = pytest.mark.django_db(transaction=True)
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def test_saved_state_resumes_the_same_sha256() -> None:
    assert self_check()
    first = ResumableSha256()
    first.update(b"a" * 100_000)
    resumed = ResumableSha256(first.state())
    resumed.update(bytearray(b"b" * 77))
    assert resumed.hexdigest() == hashlib.sha256(b"a" * 100_000 + b"b" * 77).hexdigest()


def test_the_django_views_speak_tus(tenant, owner: APIClient) -> None:  # type: ignore[no-untyped-def]
    assert owner.options("/api/tus/").status_code == 204
    created = owner.post(
        "/api/tus/",
        HTTP_UPLOAD_LENGTH="11",
        HTTP_UPLOAD_METADATA=_meta(namespace="default", name="notes.txt", filename="n.txt"),
        **TUS,
    )
    assert created.status_code == 201, created.content
    path = created["Location"].split("testserver", 1)[1]
    assert owner.head(path, **TUS)["Upload-Offset"] == "0"
    first = owner.patch(
        path,
        data=b"hello ",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )
    assert first.status_code == 204 and first["Upload-Offset"] == "6"
    stale = owner.patch(
        path,
        data=b"x",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )
    assert stale.status_code == 409
    last = owner.patch(
        path,
        data=b"world",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="6",
        **TUS,
    )
    assert last.status_code == 204
    artifact = Artifact.objects.get()
    assert (artifact.name, artifact.size_bytes) == ("notes.txt", 11)
    assert artifact.content_hash == f"sha256:{hashlib.sha256(b'hello world').hexdigest()}"
    assert last["Depot-Result-Id"] == artifact.artifact_id
    # The next version of it, by artifact_id, in one creation-with-upload request.
    again = owner.generic(
        "POST",
        "/api/tus/",
        data=b"hello again",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_LENGTH="11",
        HTTP_UPLOAD_METADATA=_meta(namespace="alpha/default", artifact_id=artifact.artifact_id),
        **TUS,
    )
    assert again.status_code == 201, again.content
    assert Artifact.objects.filter(root_id=artifact.pk).count() == 2
    assert owner.delete(path, **TUS).status_code == 204
    assert TusUpload.objects.filter(uid=path.rsplit("/", 1)[1]).count() == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 400),  # no Tus-Resumable
        ({"HTTP_TUS_RESUMABLE": "0.2.2", "HTTP_UPLOAD_LENGTH": "1"}, 412),
        ({**TUS}, 400),  # neither Upload-Length nor Upload-Defer-Length
        ({**TUS, "HTTP_UPLOAD_LENGTH": "5"}, 400),  # no target
        ({**TUS, "HTTP_UPLOAD_LENGTH": "5", "HTTP_UPLOAD_METADATA": "session_id !!"}, 400),
        ({**TUS, "HTTP_UPLOAD_LENGTH": "5", "HTTP_UPLOAD_METADATA": _meta(session_id="a b")}, 422),
        ({**TUS, "HTTP_UPLOAD_LENGTH": "5", "HTTP_UPLOAD_METADATA": _meta(namespace="nope")}, 404),
    ],
)
def test_bad_creations_leave_nothing(tenant, owner: APIClient, headers, status) -> None:  # type: ignore[no-untyped-def]
    answer = owner.post("/api/tus/", **headers)
    assert answer.status_code == status, answer.content
    assert TusUpload.objects.count() == 0
    assert Attachment.objects.count() == 0
