"""A streamed upload's temporary key is cleaned up once, by whoever holds it last: moved to its
content key, it is not deleted again (on S3 each delete is a request); not moved (the content
was there already) or not consumed (a refused upload), it is deleted, and nothing is left."""

import hashlib
from typing import Any

import pytest
from django.conf import settings as django_settings

from attachments import storage
from attachments.models import Attachment, blob_key
from tests.support import AsgiClient, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deletes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key `storage.delete` is asked to delete, in order."""
    asked: list[str] = []
    original = storage.delete

    def recording(key: str) -> None:
        asked.append(key)
        original(key)

    monkeypatch.setattr(storage, "delete", recording)
    return asked


def _moves() -> int:
    """Deletes a move of the temporary key makes itself: none on disk (a rename), one on S3
    (a copy, then the delete)."""
    return 0 if django_settings.STORAGE_BACKEND == "local" else 1


def _blob_keys() -> set[str]:
    return {key for key in stored_keys() if key.startswith(storage.BLOB_PREFIX)}


def test_moved_bytes_are_not_deleted_again(asgi_owner: AsgiClient, deletes: list[Any]) -> None:
    content = b"fresh bytes, moved to their content key\n"
    response = asgi_owner.upload("/api/uploads/cleanup-moved", content, name="a.bin")
    assert response.status_code == 201, response.text
    # The move consumed the temporary key (S3's move is a copy and this one delete).
    assert len(deletes) == _moves()
    assert len(set(deletes)) == len(deletes)
    digest = hashlib.sha256(content).hexdigest()
    assert stored_keys() == {blob_key(digest)}


def test_bytes_already_stored_delete_the_copy_once(
    asgi_owner: AsgiClient, deletes: list[Any]
) -> None:
    content = b"the same bytes twice\n"
    assert asgi_owner.upload("/api/uploads/cleanup-twice", content).status_code == 201
    assert asgi_owner.upload("/api/uploads/cleanup-twice", content).status_code == 201
    # The second copy is deleted once; no key twice.
    assert len(deletes) == _moves() + 1 and len(set(deletes)) == len(deletes)
    assert all(key.startswith(storage.TEMP_PREFIX) for key in deletes)
    assert stored_keys() == _blob_keys() and len(_blob_keys()) == 1
    assert Attachment.objects.filter(session__session_id="cleanup-twice").count() == 2


def test_a_refused_upload_deletes_its_staged_bytes(
    asgi_owner: AsgiClient, deletes: list[Any], settings: Any
) -> None:
    settings.DEPOT_ALLOWED_MIME_TYPES = ["image/"]
    response = asgi_owner.upload("/api/uploads/cleanup-refused", b"plain text\n", name="a.txt")
    assert response.status_code == 422, response.text
    assert len(deletes) == 1 and deletes[0].startswith(storage.TEMP_PREFIX)
    assert stored_keys() == set() and not Attachment.objects.exists()


def test_a_second_file_part_the_view_ignores_is_deleted(
    asgi_owner: AsgiClient, deletes: list[Any]
) -> None:
    boundary = "cleanupboundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
        f"kept\r\n--{boundary}\r\n"
        f'Content-Disposition: form-data; name="extra"; filename="b.bin"\r\n\r\n'
        f"ignored\r\n--{boundary}--\r\n"
    ).encode()
    response = asgi_owner.post(
        "/api/uploads/cleanup-extra",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 201, response.text
    # The ignored part is deleted once; no key twice.
    assert len(deletes) == _moves() + 1 and len(set(deletes)) == len(deletes)
    assert all(key.startswith(storage.TEMP_PREFIX) for key in deletes)
    assert stored_keys() == {blob_key(hashlib.sha256(b"kept").hexdigest())}
