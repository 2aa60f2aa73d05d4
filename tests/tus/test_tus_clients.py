"""tus against a live Depot (uvicorn on loopback) with clients Depot did not write: tuspy here,
tus-js-client in test_tus_js_client.py. Runs on both profiles (local disk; S3 on moto)."""

import base64
import hashlib
import io
import os
import socket
import threading
import zipfile
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from tusclient import client as tus_client

from artifacts.models import Artifact
from artifacts.tus.models import TusUpload
from attachments.models import Attachment, Blob
from sessions_app.models import Event
from tests.support import stored_keys

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def _call(method: str, url: str, **kwargs: object) -> requests.Response:
    return requests.request(method, url, timeout=60, **kwargs)  # type: ignore[arg-type]


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _client(live_url: str, key: str, **headers: str) -> tus_client.TusClient:
    return tus_client.TusClient(f"{live_url}/api/tus/", headers={"X-API-Key": key, **headers})


def _create(live_url: str, key: str, length: int, **meta: str) -> requests.Response:
    headers = {**TUS, "X-API-Key": key, "Upload-Length": str(length)}
    return _call(
        "POST", f"{live_url}/api/tus/", headers={**headers, "Upload-Metadata": _meta(**meta)}
    )


def _cut_mid_chunk(url: str, key: str, offset: int, chunk: bytes) -> None:
    """A PATCH whose connection dies halfway through its body (the client is killed)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        head = (
            f"PATCH {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nX-API-Key: {key}\r\n"
            f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
            f"Content-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(chunk)}\r\n\r\n"
        )
        sock.sendall(head.encode() + chunk[: len(chunk) // 2])
        sock.shutdown(socket.SHUT_RDWR)


def _offset(url: str, key: str) -> int:
    answer = _call("HEAD", url, headers={**TUS, "X-API-Key": key})
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["Upload-Offset"])


def _wait_for_offset(url: str, key: str, at_least: int) -> int:
    for _ in range(200):
        offset = _offset(url, key)
        if offset >= at_least:
            return offset
        threading.Event().wait(0.05)
    raise AssertionError("the server did not record the cut chunk")


def test_tuspy_resumes_after_a_connection_killed_mid_chunk(tenant, live_url) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(9 * MiB + 12345)
    client = _client(live_url, tenant.owner_key)
    first = client.uploader(
        file_stream=io.BytesIO(data),
        chunk_size=2 * MiB,
        metadata={"session_id": "tus-run", "filename": "weights.bin", "description": "d"},
    )
    first.upload_chunk()  # one whole chunk, then the client dies mid-way through the next
    assert first.offset == 2 * MiB
    _cut_mid_chunk(first.url, tenant.owner_key, 2 * MiB, data[2 * MiB : 4 * MiB])
    kept = _wait_for_offset(first.url, tenant.owner_key, 2 * MiB + 1)
    assert 2 * MiB < kept <= 3 * MiB  # the bytes that arrived were kept
    resumed = client.uploader(file_stream=io.BytesIO(data), url=first.url, chunk_size=2 * MiB)
    assert resumed.offset == kept  # tuspy asked the server (HEAD)
    resumed.upload()
    attachment = Attachment.objects.get()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert (attachment.size, attachment.name, attachment.description) == (
        len(data),
        "weights.bin",
        "d",
    )
    head = _call("HEAD", first.url, headers={**TUS, "X-API-Key": tenant.owner_key})
    assert head.headers["Depot-Result-Id"] == attachment.attachment_id
    # Exactly one event, the one a multipart upload emits.
    events = list(Event.objects.filter(session__session_id="tus-run"))
    assert [(e.kind, e.attachment_id) for e in events] == [
        ("attachment.created", attachment.attachment_id)
    ]
    assert events[0].hash == f"sha256:{hashlib.sha256(data).hexdigest()}"
    # Identical through every download route, and deduplicated with a multipart upload.
    auth = {"X-API-Key": tenant.owner_key}
    item = f"{live_url}/api/sessions/tus-run/artifacts/{attachment.attachment_id}"
    assert _call("GET", item + "?mode=stream", headers=auth).content == data
    assert _call("GET", item + "?mode=stream&download=true", headers=auth).content == data
    assert _call("GET", item + "/stream", headers=auth).content == data
    assert _call("GET", item + "/stream?download=true", headers=auth).content == data
    meta = _call("GET", item, headers=auth).json()  # seed 000's data_uri (under 20 MiB)
    assert base64.b64decode(meta["data_uri"].split(",", 1)[1]) == data
    assert meta["sha256"] == attachment.sha256
    archive = _call("GET", f"{live_url}/api/sessions/tus-run/download", headers=auth)
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert opened.read(opened.namelist()[0]) == data
    multipart = _call(
        "POST", f"{live_url}/api/uploads/tus-run", headers=auth, files={"file": ("again.bin", data)}
    )
    assert multipart.status_code == 201
    assert Blob.objects.count() == 1
    # Nothing of the upload is left but the blob.
    assert {k for k in stored_keys() if not k.startswith("blobs/")} == set()


def test_tuspy_parallel_partials_joined_by_a_final_upload(tenant, live_url) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(7 * MiB + 3)
    pieces = [data[: 3 * MiB], data[3 * MiB : 6 * MiB], data[6 * MiB :]]
    client = _client(live_url, tenant.owner_key, **{"Upload-Concat": "partial"})
    urls: list[str] = [""] * len(pieces)

    def send(index: int) -> None:
        uploader = client.uploader(file_stream=io.BytesIO(pieces[index]), chunk_size=MiB)
        uploader.upload()
        urls[index] = uploader.url

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(pieces))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(urls)
    assert Event.objects.count() == 0  # partials are nobody's file
    for url in urls:  # tus: HEAD of a partial upload says so
        head = _call("HEAD", url, headers={**TUS, "X-API-Key": tenant.owner_key})
        assert head.headers["Upload-Concat"] == "partial"
    final = _call(
        "POST",
        f"{live_url}/api/tus/",
        headers={
            **TUS,
            "X-API-Key": tenant.owner_key,
            "Upload-Concat": "final;" + " ".join(urlsplit(u).path for u in urls),
            "Upload-Metadata": _meta(namespace="alpha/default", name="joined.bin"),
        },
    )
    assert final.status_code == 201, final.text
    artifact = Artifact.objects.get()
    assert artifact.content_hash == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert final.headers["Depot-Result-Id"] == artifact.artifact_id
    got = _call(
        "GET",
        f"{live_url}/api/artifacts/{artifact.artifact_id}/file",
        headers={"X-API-Key": tenant.owner_key},
    )
    assert got.content == data
    # The other route to the bytes: the namespaced API's time-limited URL (S3 presigned, or
    # Depot-signed on local disk).
    auth = {"X-API-Key": tenant.owner_key}
    base = f"{live_url}/api/v1/orgs/acme/workspaces/alpha/namespaces/default/artifacts/"
    signed = _call("GET", f"{base}{artifact.artifact_id}/download?expires_in=60", headers=auth)
    assert signed.status_code == 200, signed.text
    assert _call("GET", signed.json()["download_url"]).content == data  # no key needed
    assert signed.json()["file_size_bytes"] == len(data)
    assert Event.objects.count() == 1  # exactly one, the artifact's
    assert Event.objects.filter(artifact_id=artifact.artifact_id).count() == 1
    # HEAD of the final upload names what it joined, in order (tus: the server MUST).
    joined = "final;" + " ".join(urlsplit(u).path for u in urls)
    assert final.headers["Upload-Concat"] == joined
    head = _call("HEAD", final.headers["Location"], headers={**TUS, "X-API-Key": tenant.owner_key})
    assert head.status_code == 200
    assert head.headers["Upload-Concat"] == joined
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == (str(len(data)),) * 2
    assert head.headers["Depot-Result-Id"] == artifact.artifact_id
    # The partials are gone, bytes and URLs.
    for url in urls:
        assert _call("HEAD", url, headers={**TUS, "X-API-Key": tenant.owner_key}).status_code == 404
    assert {k for k in stored_keys() if not k.startswith("blobs/")} == set()


def test_a_checksum_mismatch_is_460_and_the_chunk_is_discarded(tenant, live_url) -> None:  # type: ignore[no-untyped-def]
    created = _create(live_url, tenant.owner_key, 2000, session_id="sums", filename="a.txt")
    url = created.headers["Location"]
    patch = {**TUS, "X-API-Key": tenant.owner_key}
    patch["Content-Type"] = "application/offset+octet-stream"
    chunk = b"a" * 1000
    wrong = base64.b64encode(hashlib.sha1(b"not it").digest()).decode()  # noqa: S324 (tus names it)
    refused = _call(
        "PATCH",
        url,
        data=chunk,
        headers={**patch, "Upload-Offset": "0", "Upload-Checksum": f"sha1 {wrong}"},
    )
    assert refused.status_code == 460
    assert _offset(url, tenant.owner_key) == 0
    for algorithm in ("sha1", "sha256"):
        right = base64.b64encode(hashlib.new(algorithm, chunk).digest()).decode()
        offset = str(_offset(url, tenant.owner_key))
        accepted = _call(
            "PATCH",
            url,
            data=chunk,
            headers={**patch, "Upload-Offset": offset, "Upload-Checksum": f"{algorithm} {right}"},
        )
        assert accepted.status_code == 204, accepted.text
    assert Attachment.objects.get().sha256 == hashlib.sha256(chunk * 2).hexdigest()


def test_tenancy_read_only_and_expiry(tenant, stranger, live_url) -> None:  # type: ignore[no-untyped-def]
    created = _create(live_url, tenant.owner_key, 5000, session_id="t1", filename="x.bin")
    assert created.status_code == 201
    url = created.headers["Location"]
    patch = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert (
        _call(
            "PATCH", url, data=b"z" * 3000, headers={**patch, "X-API-Key": tenant.owner_key}
        ).status_code
        == 204
    )
    # Another tenant: 404 for every method, as for an upload that does not exist.
    for method in ("HEAD", "PATCH", "DELETE"):
        answer = _call(method, url, headers={**patch, "X-API-Key": stranger.key})
        assert answer.status_code == 404, method
    assert _call("HEAD", url, headers=TUS).status_code == 401
    # A read-only key: 403 at creation (and for writes).
    refused = _create(live_url, tenant.read_only_key, 10, session_id="t1")
    assert refused.status_code == 403
    assert (
        _call("DELETE", url, headers={**TUS, "X-API-Key": tenant.read_only_key}).status_code == 403
    )
    assert _offset(url, tenant.read_only_key) == 3000  # but it may read
    # Expired: gone, bytes included.
    assert any(k.startswith("tus/") for k in stored_keys())
    TusUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _call("HEAD", url, headers={**TUS, "X-API-Key": tenant.owner_key}).status_code == 410
    call_command("tus_expire")
    assert _call("HEAD", url, headers={**TUS, "X-API-Key": tenant.owner_key}).status_code == 404
    assert TusUpload.objects.count() == 0
    assert stored_keys() == set()
    assert Event.objects.count() == 0


def test_limits_at_creation_and_on_every_patch(tenant, live_url, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_MAX_UPLOAD_BYTES = 10_000
    auth = {**TUS, "X-API-Key": tenant.owner_key}
    assert _create(live_url, tenant.owner_key, 10_001, session_id="l").status_code == 413
    deferred = _call(
        "POST",
        f"{live_url}/api/tus/",
        headers={**auth, "Upload-Defer-Length": "1", "Upload-Metadata": _meta(session_id="l")},
    )
    assert deferred.status_code == 201
    url = deferred.headers["Location"]
    patch = {**auth, "Content-Type": "application/offset+octet-stream"}
    assert (
        _call("PATCH", url, data=b"a" * 6000, headers={**patch, "Upload-Offset": "0"}).status_code
        == 204
    )
    over = _call("PATCH", url, data=b"a" * 6000, headers={**patch, "Upload-Offset": "6000"})
    assert over.status_code == 413
    assert _offset(url, tenant.owner_key) == 6000
    # The quota counts unfinished uploads: 6000 held here leaves no room for 5000 more.
    tenant.organization.storage_quota_bytes = 10_000
    tenant.organization.save()
    assert _create(live_url, tenant.owner_key, 5000, session_id="l2").status_code == 413
    done = _call(
        "PATCH",
        url,
        data=b"b" * 1000,
        headers={**patch, "Upload-Offset": "6000", "Upload-Length": "7000"},
    )
    assert done.status_code == 204, done.text
    assert Attachment.objects.get().size == 7000
    # Termination leaves nothing.
    other = _create(live_url, tenant.owner_key, 100, session_id="l3")
    assert _call("DELETE", other.headers["Location"], headers=auth).status_code == 204
    assert TusUpload.objects.filter(state="open").count() == 0
    assert {k for k in stored_keys() if not k.startswith("blobs/")} == set()


def test_discovery(live_url) -> None:  # type: ignore[no-untyped-def]
    answer = _call("OPTIONS", f"{live_url}/api/tus/")
    assert answer.status_code == 204
    assert answer.headers["Tus-Version"] == "1.0.0"
    assert set(answer.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "termination",
        "expiration",
        "checksum",
        "concatenation",
    }
    assert {"sha1", "sha256"} <= set(answer.headers["Tus-Checksum-Algorithm"].split(","))


def test_depot_upload_resumes_a_large_file_over_tus(tenant, live_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    from tests.test_cli import ROOT, CuttingProxy

    body = os.urandom(3 * MiB + 5)
    big = tmp_path / "big.bin"
    big.write_bytes(body)
    port = int(live_url.rsplit(":", 1)[1])
    proxy = CuttingProxy(port, cut_after=MiB + 4096, direction="up")  # mid-PATCH
    try:
        done = subprocess.run(
            [sys.executable, "-m", "depot_cli", "--json", "upload", "cli-tus", str(big)],
            env={
                **os.environ,
                "DEPOT_URL": proxy.url,
                "DEPOT_API_KEY": tenant.owner_key,
                "DEPOT_TUS_THRESHOLD_BYTES": str(MiB),
            },
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        proxy.close()
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert proxy.cut.is_set()
    assert result["transport"] == "tus" and result["retries"] >= 1
    assert 0 < result["resumed_from"] < len(body)  # not from zero
    assert result["sha256"] == hashlib.sha256(body).hexdigest()
    assert Attachment.objects.filter(session__session_id="cli-tus").count() == 1
