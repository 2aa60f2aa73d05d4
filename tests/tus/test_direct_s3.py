"""Direct-to-S3 multipart uploads against moto's S3 server (the production profile): the client
PUTs its parts to presigned URLs with plain HTTP, Depot verifies and files the result. Every
refusal leaves no row, no event and no parts."""

import hashlib
import os
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from artifacts.tus.models import TusUpload
from attachments import storage
from attachments.models import Attachment
from sessions_app.models import Event
from tests.conftest import stored_keys

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.s3]
MiB = 1024 * 1024


def _start(live_url: str, key: str, size: int, parts: int) -> requests.Response:
    return requests.post(
        f"{live_url}/api/direct-uploads",
        json={"size": size, "parts": parts, "metadata": {"session_id": "d1", "filename": "d.bin"}},
        headers={"X-API-Key": key},
        timeout=60,
    )


def _put_parts(started: dict, data: bytes, part_size: int) -> list[dict]:
    done = []
    for part in started["parts"]:
        index = part["part_number"] - 1
        body = data[index * part_size : (index + 1) * part_size]
        answer = requests.put(part["url"], data=body, timeout=60)  # plain HTTP, no SDK
        assert answer.status_code == 200, answer.text
        done.append({"part_number": part["part_number"], "etag": answer.headers["ETag"]})
    return done


def _complete(live_url: str, key: str, upload_id: str, parts: list[dict]) -> requests.Response:
    return requests.post(
        f"{live_url}/api/direct-uploads/{upload_id}/complete",
        json={"parts": parts},
        headers={"X-API-Key": key},
        timeout=120,
    )


def _nothing_left() -> None:
    assert TusUpload.objects.count() == 0
    assert Event.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_keys() == set()
    assert list(storage.iter_unfinished_uploads("")) == []


def test_three_parts_completed(tenant, live_url) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(2 * 5 * MiB + 1234)
    started = _start(live_url, tenant.owner_key, len(data), 3)
    assert started.status_code == 201, started.text
    parts = _put_parts(started.json(), data, 5 * MiB)
    done = _complete(live_url, tenant.owner_key, started.json()["upload_id"], parts)
    assert done.status_code == 201, done.text
    attachment = Attachment.objects.get()
    assert done.json()["result_id"] == attachment.attachment_id
    assert attachment.sha256 == hashlib.sha256(data).hexdigest() == done.json()["sha256"]
    assert Event.objects.filter(attachment_id=attachment.attachment_id).count() == 1
    got = requests.get(
        f"{live_url}/api/sessions/d1/artifacts/{attachment.attachment_id}?mode=stream",
        headers={"X-API-Key": tenant.owner_key},
        timeout=60,
    )
    assert got.content == data
    # Only the content-addressed blob is left: no parts, no staging object.
    assert {k for k in stored_keys() if not k.startswith("blobs/")} == set()
    assert list(storage.iter_unfinished_uploads("")) == []


def test_an_altered_etag_is_refused(tenant, live_url) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(5 * MiB + 10)
    started = _start(live_url, tenant.owner_key, len(data), 2).json()
    parts = _put_parts(started, data, 5 * MiB)
    parts[1]["etag"] = '"' + "0" * 32 + '"'
    refused = _complete(live_url, tenant.owner_key, started["upload_id"], parts)
    assert refused.status_code == 422, refused.text
    _nothing_left()


def test_a_size_other_than_declared_is_refused(tenant, live_url) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(5 * MiB + 10)
    started = _start(live_url, tenant.owner_key, len(data) + 1, 2).json()
    parts = _put_parts(started, data, 5 * MiB)
    refused = _complete(live_url, tenant.owner_key, started["upload_id"], parts)
    assert refused.status_code == 422, refused.text
    _nothing_left()


def test_an_abandoned_upload_is_aborted_by_the_expiry_job(tenant, stranger, live_url) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(5 * MiB)
    started = _start(live_url, tenant.owner_key, 2 * len(data), 2).json()
    _put_parts({"parts": started["parts"][:1]}, data, 5 * MiB)
    assert list(storage.iter_unfinished_uploads(""))  # a part is in S3
    # Another tenant cannot complete or abort it; a read-only key cannot start one.
    other = _complete(live_url, stranger.key, started["upload_id"], [])
    assert other.status_code == 404
    assert _start(live_url, tenant.read_only_key, 10, 1).status_code == 403
    TusUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("tus_expire")
    _nothing_left()
