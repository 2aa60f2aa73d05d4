"""A server SIGKILLed in the middle of a PATCH, started again: the client's HEAD and PATCH
resume at once (the restarted process knows the dead writer's lease is dead), from an offset
whose bytes and SHA-256 state agree, to the right file. Both profiles: local disk (the file cut
back to the offset) and S3 (parts past the record overwritten). The lease rules themselves:
a live holder, or one on another machine, is waited for; a dead one here is not."""

import base64
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from artifacts.tus import lease
from artifacts.tus.models import TusUpload
from artifacts.tus.protocol import TusError
from attachments.models import Attachment
from sessions_app.models import Event
from tests.support import live_server

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


class Server:
    """uvicorn on one port and one data directory (or S3 prefix), started again after a kill."""

    def __init__(self, root: Path) -> None:
        self.port = live_server.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DEPOT_DATA_DIR": str(root / "data"),
            "DATABASE_URL": live_server.test_database_url(),
            "DEPOT_EMBEDDED_WORKER": "0",
            "DEPOT_SEMANTIC_SEARCH": "off",
            "DEPOT_TUS_CHECKPOINT_BYTES": str(4 * MiB),
        }
        if settings.STORAGE_BACKEND == "s3":
            self.env["S3_PREFIX"] = f"test-tus-restart-{uuid.uuid4().hex[:12]}"
        else:
            self.env["DEPOT_BLOB_ROOT"] = str(root / "blobs")
        self.log = root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
                    *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
                    *("--host", "127.0.0.1", "--port", str(self.port), "--lifespan", "off"),
                    "--no-access-log",
                ],
                cwd=live_server.ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120  # a shared 2-core machine can be slow to import
        while True:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"the server did not start:\n{self.log.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def _offset(url: str, key: str) -> int:
    answer = requests.head(url, headers={**TUS, "X-API-Key": key}, timeout=30)
    assert answer.status_code == 200, answer.status_code
    return int(answer.headers["Upload-Offset"])


def _send_until_killed(url: str, key: str, data: bytes, sent: list[int]) -> None:
    """One PATCH of all of `data`, 256 KiB at a time, until the server dies under it."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\nX-API-Key: {key}\r\n"
        "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    with socket.create_connection((host, int(port))) as sock:
        try:
            sock.sendall(head.encode())
            for start in range(0, len(data), 256 * 1024):
                sock.sendall(data[start : start + 256 * 1024])
                sent[0] = start + 256 * 1024
                time.sleep(0.01)  # slow enough to be killed in the middle
        except OSError:
            return  # the server was killed


def test_a_sigkilled_patch_resumes_at_once_after_a_restart(tenant, server: Server) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(40 * MiB + 777)
    created = requests.post(
        f"{server.url}/api/tus/",
        headers={
            **TUS,
            "X-API-Key": tenant.owner_key,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": _meta(session_id="crash", filename="crash.bin"),
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    sent = [0]
    sender = threading.Thread(
        target=_send_until_killed, args=(url, tenant.owner_key, data, sent), daemon=True
    )
    sender.start()
    # Kill once a checkpoint or two are recorded, with more bytes in flight past them.
    deadline = time.monotonic() + 120
    while _offset(url, tenant.owner_key) < 8 * MiB:
        assert time.monotonic() < deadline and sender.is_alive(), "no checkpoint recorded"
        time.sleep(0.05)
    time.sleep(0.3)
    server.kill()
    sender.join(30)
    upload = TusUpload.objects.get()
    assert upload.lease_token and upload.lease_until > timezone.now()  # the dead PATCH's lease
    assert upload.offset < sent[0] < len(data)  # it died mid-PATCH, past its last record

    server.start()
    began = time.monotonic()
    offset = _offset(url, tenant.owner_key)
    assert offset == TusUpload.objects.get().offset >= 8 * MiB
    resumed = requests.patch(
        url,
        data=data[offset:],
        headers={
            **TUS,
            "X-API-Key": tenant.owner_key,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
        },
        timeout=120,
    )
    assert resumed.status_code == 204, resumed.text  # no 423: the dead lease was taken over
    head_to_patch_start = time.monotonic() - began
    attachment = Attachment.objects.get()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size == len(data)
    assert resumed.headers["Depot-Result-Id"] == attachment.attachment_id
    got = requests.get(
        f"{server.url}/api/sessions/crash/artifacts/{attachment.attachment_id}?mode=stream",
        headers={"X-API-Key": tenant.owner_key},
        timeout=120,
    )
    assert got.content == data
    assert Event.objects.filter(attachment_id=attachment.attachment_id).count() == 1
    # The resume itself took the time of its bytes, not a lease's (30 s before).
    assert head_to_patch_start < 20, head_to_patch_start


def _claimed(upload: TusUpload, holder: str, seconds: float = 60) -> TusUpload:
    TusUpload.objects.filter(pk=upload.pk).update(
        lease_token=uuid.uuid4().hex,
        lease_holder=holder,
        lease_until=timezone.now() + timedelta(seconds=seconds),
    )
    return TusUpload.objects.get(pk=upload.pk)


def _upload(tenant) -> TusUpload:  # type: ignore[no-untyped-def]
    return TusUpload.objects.create(
        organization=tenant.organization,
        workspace_id=tenant.workspace.pk,
        default_workspace_id=tenant.workspace.pk,
        target="attachment",
        length=10,
        sha256_state=b"",
        expires_at=timezone.now() + timedelta(hours=1),
    )


def test_a_dead_holder_here_is_taken_over_a_live_or_remote_one_is_not(tenant) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(tenant)
    me = lease.identity()
    machine = me.rsplit("|", 2)[0]
    # A process of this machine that is gone (its pid is free, or reused by another start).
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    gone = f"{machine}|{child.pid}|{lease._start_time(os.getpid())}"
    reused = f"{machine}|{os.getppid()}|1"
    for holder in (gone, reused):
        _claimed(upload, holder)
        assert lease.holder_dead(holder, "t")
        token = lease.claim(upload)
        assert TusUpload.objects.get(pk=upload.pk).lease_token == token
    # A live process here (the parent of this test), another machine, an unreadable holder.
    parent = os.getppid()
    live = f"{machine}|{parent}|{lease._start_time(parent)}"
    for holder in (live, f"elsewhere|boot|pid:[1]|{child.pid}|5", "", "garbage"):
        held = _claimed(upload, holder)
        assert not lease.holder_dead(holder, held.lease_token)
        with pytest.raises(TusError) as refused:
            lease.claim(upload)
        assert refused.value.status == 423
        assert TusUpload.objects.get(pk=upload.pk).lease_token == held.lease_token
    # This process, with no writer holding the token: dead; with one: alive.
    held = _claimed(upload, me)
    assert lease.holder_dead(me, held.lease_token)
    lease._active.add(held.lease_token)
    try:
        assert not lease.holder_dead(me, held.lease_token)
    finally:
        lease._active.discard(held.lease_token)
    # Any lease that ran out is free.
    _claimed(upload, live, seconds=-1)
    assert lease.claim(upload)


def test_a_writer_that_lost_its_lease_stops_before_writing(tenant) -> None:  # type: ignore[no-untyped-def]
    upload = _upload(tenant)
    token = lease.claim(upload)
    held = lease.Lease(upload, token)
    try:
        held.check()
        TusUpload.objects.filter(pk=upload.pk).update(lease_token="someone-else")
        held.valid_until = 0  # as if the renewals had stopped long ago
        with pytest.raises(TusError) as refused:
            held.check()
        assert refused.value.status == 423 and held.lost
    finally:
        held.close()
        lease.release(upload, token)
    assert token not in lease._active
