"""Seed-000 meta `data_uri` up to the seed server's 20 MiB (issue 12): above
DATA_URI_RENDER_WHOLE_MAX the answer is the same JSON, byte for byte, with the data URI
base64-encoded from storage while it is sent, so the server's memory stays flat. The sizes
and the memory are measured on a real uvicorn (either profile: local disk or S3)."""

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from artifacts.api import session_files
from attachments import storage
from attachments.models import Attachment
from tests.support import AsgiClient, Tenant
from tests.support.live_server import live_uvicorn

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
STREAMED = session_files.DATA_URI_RENDER_WHOLE_MAX + 12345  # past the whole-render path
RSS_GROWTH_LIMIT = 64 * MIB


def _upload(client: AsgiClient, content: bytes, name: str = "big.bin", session: str = "m") -> str:
    response = client.upload(f"/api/uploads/{session}", content, name=name)
    assert response.status_code == 201, response.text
    return response.json()["attachment_id"]


def _decoded(meta: dict[str, Any]) -> bytes:
    head, encoded = meta["data_uri"].split(",", 1)
    assert head.endswith(";base64")
    return base64.b64decode(encoded, validate=True)


# --- in process: the streamed answer is the rendered one ---


def test_a_streamed_meta_is_byte_for_byte_the_rendered_one(
    asgi_owner: AsgiClient, owner, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    content = os.urandom(STREAMED)
    # A name DRF's renderer escapes (U+2028) and one it keeps as UTF-8 (é, ✓).
    item = _upload(asgi_owner, content, name="résumé ✓\u2028.bin")
    path = f"/api/sessions/m/artifacts/{item}"
    streamed = owner.get(path)
    assert streamed.status_code == 200 and streamed.streaming
    streamed_body = b"".join(streamed)
    assert streamed["Content-Type"] == "application/json"
    assert streamed["Content-Length"] == str(len(streamed_body))
    # The same file through the whole-render path (DRF's Response), for comparison.
    monkeypatch.setattr(session_files, "DATA_URI_RENDER_WHOLE_MAX", 100 * MIB)
    rendered = owner.get(path)
    assert not rendered.streaming
    assert streamed_body == rendered.content
    meta = json.loads(streamed_body)
    assert _decoded(meta) == content
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    assert b"\\u2028" in streamed_body and "é ✓".encode() in streamed_body
    # The same headers but the length's framing: Allow and Vary come from the view.
    for header in ("Allow", "Vary", "X-Frame-Options"):
        assert streamed.get(header) == rendered.get(header), header


def test_small_files_keep_the_plain_render(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    content = os.urandom(1000)
    response = owner.get(f"/api/sessions/m/artifacts/{_upload(asgi_owner, content)}")
    assert response.status_code == 200 and not response.streaming
    assert _decoded(response.json()) == content


def test_head_of_a_streamed_meta_sends_its_headers_only(asgi_owner: AsgiClient) -> None:
    item = _upload(asgi_owner, os.urandom(STREAMED))
    path = f"/api/sessions/m/artifacts/{item}"
    got = asgi_owner.get(path)
    head = asgi_owner.request("HEAD", path)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == got.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == got.headers["content-type"] == "application/json"


def test_the_setting_still_lowers_the_threshold(asgi_owner: AsgiClient, settings) -> None:  # type: ignore[no-untyped-def]
    content = os.urandom(STREAMED)
    item = _upload(asgi_owner, content)
    path = f"/api/sessions/m/artifacts/{item}"
    settings.DEPOT_DATA_URI_MAX_BYTES = STREAMED  # inclusive
    assert _decoded(asgi_owner.get(path).json()) == content
    settings.DEPOT_DATA_URI_MAX_BYTES = STREAMED - 1
    meta = asgi_owner.get(path).json()
    assert meta["data_uri"] is None and meta["size"] == STREAMED
    settings.DEPOT_DATA_URI_MAX_BYTES = 0
    assert asgi_owner.get(path).json()["data_uri"] is None


def test_an_inline_artifact_and_a_file_artifact_stream_too(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    text = ("# notes\n" + "é" * (STREAMED // 2)).encode()
    inline = owner.post(
        f"{NS}/artifacts",
        {"name": "notes", "content": text.decode(), "session_id": "m"},
        format="json",
    ).json()
    meta = asgi_owner.get(f"/api/sessions/m/artifacts/{inline['artifact_id']}").json()
    assert meta["data_uri"].startswith("data:text/markdown;base64,")
    assert _decoded(meta) == text and meta["artifact_id"] == inline["artifact_id"]
    content = os.urandom(STREAMED)
    made = asgi_owner.upload(f"{NS}/artifacts/upload", content, name="r.bin", session_id="m")
    meta = asgi_owner.get(f"/api/sessions/m/artifacts/{made.json()['artifact_id']}").json()
    assert _decoded(meta) == content


def test_bytes_gone_from_storage_are_a_404_not_a_short_body(asgi_owner: AsgiClient) -> None:
    item = _upload(asgi_owner, os.urandom(STREAMED))
    attachment = Attachment.objects.select_related("blob").get(uid=item.removeprefix("att_"))
    storage.delete(attachment.blob.storage_key)
    response = asgi_owner.get(f"/api/sessions/m/artifacts/{item}")
    assert response.status_code == 404
    assert response.json() == {"detail": "This file was deleted."}


# --- a real uvicorn: 5 MB and 20 MiB, and the server's memory ---


@dataclass
class Server:
    process: Any
    base: str

    def rss(self) -> int:
        return _status_kib(self.process.pid, "VmRSS") * 1024


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.fixture(scope="module")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if "DEPOT_DATA_URI_MAX_BYTES" in os.environ:
        pytest.skip("measures the default threshold")
    root = tmp_path_factory.mktemp("meta-data-uri")
    with live_uvicorn(root, name="meta-data-uri", env={}) as (process, base, _):
        yield Server(process, base)


def _peak_growth(server: Server, fetch: Any) -> tuple[Any, int]:
    """What `fetch()` returns, and how far the server's resident memory rose above where it
    was just before (sampled every millisecond, and its high-water mark reset where the
    kernel allows it)."""
    baseline = server.rss()
    try:
        Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")  # resets VmHWM
        high_water_reset = True
    except OSError:
        high_water_reset = False
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fetch()
    finally:
        done.set()
        sampler.join()
    if high_water_reset:
        peak = max(peak, _status_kib(server.process.pid, "VmHWM") * 1024)
    return result, peak - baseline


def _live_upload(server: Server, key: str, content: bytes, name: str) -> str:
    response = requests.post(
        f"{server.base}/api/uploads/live",
        headers={"X-API-Key": key},
        files={"file": (name, content)},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["attachment_id"])


def _live_get(server: Server, key: str, path: str) -> tuple[bytes, requests.Response]:
    with requests.get(
        f"{server.base}{path}", headers={"X-API-Key": key}, stream=True, timeout=120
    ) as response:
        body = b"".join(response.iter_content(MIB))
    return body, response


@pytest.mark.parametrize("size", [5_000_000, 20 * MIB], ids=["5MB", "20MiB"])
def test_a_large_data_uri_through_a_real_server_keeps_memory_flat(
    server: Server, tenant: Tenant, size: int
) -> None:
    content = os.urandom(size)
    item = _live_upload(server, tenant.owner_key, content, f"{size}.bin")
    meta_path = f"/api/sessions/live/artifacts/{item}"
    # Warm the route (first-request imports and caches are not the data URI's memory).
    _live_get(server, tenant.owner_key, f"/api/sessions/live/artifacts/{item}?mode=stream")
    (body, response), growth = _peak_growth(
        server, lambda: _live_get(server, tenant.owner_key, meta_path)
    )
    assert response.status_code == 200, body[:500]
    assert response.headers["content-length"] == str(len(body))
    meta = json.loads(body)
    assert _decoded(meta) == content
    assert meta["sha256"] == hashlib.sha256(content).hexdigest() and meta["size"] == size
    head = requests.head(
        f"{server.base}{meta_path}", headers={"X-API-Key": tenant.owner_key}, timeout=60
    )
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(body))
    # The bytes route, same file, same run: what streaming the file itself costs.
    (_, streamed), stream_growth = _peak_growth(
        server,
        lambda: _live_get(server, tenant.owner_key, f"{meta_path}?mode=stream"),
    )
    assert streamed.status_code == 200
    print(
        f"\n{size} bytes: meta with data_uri grew the server's RSS by {growth / MIB:.1f} MiB "
        f"(the bytes route: {stream_growth / MIB:.1f} MiB); body {len(body) / MIB:.1f} MiB"
    )
    assert growth < RSS_GROWTH_LIMIT, f"{growth / MIB:.1f} MiB"


def test_the_default_threshold_is_20_mib_inclusive(server: Server, tenant: Tenant) -> None:
    content = os.urandom(20 * MIB + 1)
    item = _live_upload(server, tenant.owner_key, content, "over.bin")
    body, response = _live_get(server, tenant.owner_key, f"/api/sessions/live/artifacts/{item}")
    assert response.status_code == 200
    meta = json.loads(body)
    assert meta["data_uri"] is None and meta["size"] == 20 * MIB + 1
