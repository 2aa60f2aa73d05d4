"""The per-organization quota counts unfinished tus uploads, and many parallel unfinished
uploads cannot take it past its limit (live server, both profiles):

- creation reserves the declared Upload-Length, checked and stored as one decision;
- a later PATCH of a known length re-checks that the organization is within its quota;
- a deferred length's PATCH reserves the room it may fill while it runs."""

import base64
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from artifacts.tus.models import TusUpload
from attachments.models import Attachment
from sessions_app.quota import organization_usage
from tests.support import stored_keys

pytestmark = pytest.mark.django_db(transaction=True)
TUS = {"Tus-Resumable": "1.0.0"}
QUOTA = 10_000


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _create(url: str, key: str, session: str, **length: str) -> requests.Response:
    return requests.post(
        f"{url}/api/tus/",
        headers={
            **TUS,
            "X-API-Key": key,
            **length,
            "Upload-Metadata": _meta(session_id=session, filename=f"{session}.bin"),
        },
        timeout=60,
    )


def _patch(url: str, key: str, offset: int, body: bytes) -> requests.Response:
    return requests.patch(
        url,
        data=body,
        headers={
            **TUS,
            "X-API-Key": key,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
        },
        timeout=60,
    )


@pytest.fixture
def quota(tenant) -> int:  # type: ignore[no-untyped-def]
    tenant.organization.storage_quota_bytes = QUOTA
    tenant.organization.save()
    return QUOTA


def test_parallel_creations_cannot_reserve_past_the_quota(tenant, quota, live_url) -> None:  # type: ignore[no-untyped-def]
    answers: list[int] = []

    def create(index: int) -> None:
        made = _create(live_url, tenant.owner_key, f"p{index}", **{"Upload-Length": "4000"})
        answers.append(made.status_code)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(answers) == [201, 201] + [413] * 6  # 2 x 4000 fit in 10,000, a third not
    assert sum(TusUpload.objects.values_list("length", flat=True)) == 8000
    assert organization_usage(organization_id=tenant.organization.pk)["bytes"] == 8000


def test_a_patch_of_a_known_length_rechecks_the_quota(tenant, quota, live_url) -> None:  # type: ignore[no-untyped-def]
    created = _create(live_url, tenant.owner_key, "k", **{"Upload-Length": "6000"})
    assert created.status_code == 201
    url = created.headers["Location"]
    assert _patch(url, tenant.owner_key, 0, b"a" * 1000).status_code == 204
    # The room went since (here: a lowered quota): the next PATCH is refused, nothing taken.
    tenant.organization.storage_quota_bytes = 5000
    tenant.organization.save()
    refused = _patch(url, tenant.owner_key, 1000, b"b" * 1000)
    assert refused.status_code == 413, refused.text
    assert "quota" in refused.json()["detail"]
    head = requests.head(url, headers={**TUS, "X-API-Key": tenant.owner_key}, timeout=30)
    assert head.headers["Upload-Offset"] == "1000"
    # Within the quota again: it goes on to the end.
    tenant.organization.storage_quota_bytes = QUOTA
    tenant.organization.save()
    assert _patch(url, tenant.owner_key, 1000, b"b" * 5000).status_code == 204
    assert Attachment.objects.get().size == 6000


def _hold_patch(url: str, key: str, length: int, first: bytes) -> socket.socket:
    """A PATCH that sends its head and `first` of a `length`-byte body, then waits."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port))
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nX-API-Key: {key}\r\n"
        "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode() + first)
    return sock


def test_parallel_deferred_patches_reserve_their_room(tenant, quota, live_url) -> None:  # type: ignore[no-untyped-def]
    deferred = {"Upload-Defer-Length": "1"}
    first = _create(live_url, tenant.owner_key, "d1", **deferred).headers["Location"]
    second = _create(live_url, tenant.owner_key, "d2", **deferred).headers["Location"]
    held = _hold_patch(first, tenant.owner_key, 6000, b"x" * 1000)
    try:
        deadline = time.monotonic() + 30
        while not TusUpload.objects.filter(reserved=6000).exists():
            assert time.monotonic() < deadline, "the held PATCH reserved nothing"
            time.sleep(0.05)
        # 6,000 reserved by the running PATCH: 4,000 are left, not 6,000.
        assert organization_usage(organization_id=tenant.organization.pk)["bytes"] == 6000
        refused = _patch(second, tenant.owner_key, 0, b"y" * 6000)
        assert refused.status_code == 413, refused.text
        assert _patch(second, tenant.owner_key, 0, b"y" * 4000).status_code == 204
        held.sendall(b"x" * 5000)
        assert held.recv(4096).startswith(b"HTTP/1.1 204")
    finally:
        held.close()
    rows = {row.metadata["session_id"]: row for row in TusUpload.objects.all()}
    assert (rows["d1"].offset, rows["d1"].reserved, rows["d2"].offset) == (6000, 0, 4000)
    assert organization_usage(organization_id=tenant.organization.pk)["bytes"] == QUOTA
    # Full: a third upload gets nothing; the bytes held are exactly the quota.
    third = _create(live_url, tenant.owner_key, "d3", **deferred).headers["Location"]
    assert _patch(third, tenant.owner_key, 0, b"z").status_code == 413
    assert sum(TusUpload.objects.values_list("offset", flat=True)) == QUOTA
    assert len([k for k in stored_keys() if k.startswith("tus/")]) >= 2
