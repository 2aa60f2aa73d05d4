"""Presigned URLs point at the public S3 endpoint (issue 13, Deploying): with
S3_PUBLIC_ENDPOINT_URL set, a presigned URL (and a `DEPOT_S3_DOWNLOAD=redirect` answer) names
that endpoint, is signed for it, and downloads through it. A relay on a second loopback port
stands in for the public name of the moto server Depot itself reaches (production profile)."""

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from attachments import storage
from attachments.models import blob_key
from tests.conftest import AsgiClient, Tenant

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]


class Relay:
    """Forwards every connection on its own port to `target`, counting them."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def relay(settings: Any) -> Iterator[Relay]:
    internal = httpx.URL(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    running = Relay((internal.host, internal.port or 80))
    settings.S3_PUBLIC_ENDPOINT_URL = f"http://127.0.0.1:{running.port}"
    yield running
    running.close()


def test_a_presigned_url_names_the_public_endpoint_and_downloads_through_it(
    tenant: Tenant, relay: Relay, settings: Any
) -> None:
    client = AsgiClient(tenant.owner_key)
    made = client.upload("/api/uploads/public", b"bytes through the public name", name="p.txt")
    assert made.status_code in {200, 201}, made.text
    key = blob_key(made.json()["sha256"])
    url = storage.presigned_url(
        key, expires_in=60, file_name="p.txt", content_type="text/plain", as_attachment=True
    )
    assert url is not None
    assert url.startswith(f"http://127.0.0.1:{relay.port}/")
    internal = settings.STORAGES["default"]["OPTIONS"]["endpoint_url"]
    assert not url.startswith(internal)
    answer = httpx.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.content == b"bytes through the public name"
    assert relay.connections >= 1

    # The API's redirect mode hands out the same public URL.
    settings.DEPOT_S3_DOWNLOAD = "redirect"
    attachment_id = made.json()["attachment_id"]
    redirected = client.get(f"/api/sessions/public/artifacts/{attachment_id}?mode=stream")
    assert redirected.status_code in {302, 307}, redirected.text
    location = redirected.headers["location"]
    assert location.startswith(f"http://127.0.0.1:{relay.port}/")
    assert httpx.get(location).content == b"bytes through the public name"


def test_without_a_public_endpoint_urls_name_the_internal_one(
    tenant: Tenant, settings: Any
) -> None:
    settings.S3_PUBLIC_ENDPOINT_URL = ""
    client = AsgiClient(tenant.owner_key)
    made = client.upload("/api/uploads/internal", b"internal", name="i.txt")
    url = storage.presigned_url(
        blob_key(made.json()["sha256"]),
        expires_in=60,
        file_name="i.txt",
        content_type="text/plain",
        as_attachment=True,
    )
    assert url is not None
    assert url.startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
