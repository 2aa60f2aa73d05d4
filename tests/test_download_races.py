"""Downloads and zips racing a delete (issue 14, item 7): a client gets the whole file (its
SHA-256 checked) or a JSON 404/410, never a 200 whose body stops short of its Content-Length.

The delete goes through the service, as `DELETE` does, and its on-commit collection removes
the bytes from storage (each test checks they are gone). It lands at one of two moments:
- after the row was looked up but before the response exists (a hook on the lookup): the
  bytes are gone before they could be opened, so the answer is a 404;
- after the response headers were sent (a hook on the ASGI `send`): the bytes were opened
  before the headers, and an open file (POSIX) or a started S3 GET outlives the delete.
Both profiles: local disk on the embedded one, S3 (moto) on the production one. The last test
does the same against a real uvicorn with a real HTTP client."""

import asyncio
import hashlib
import io
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from asgiref.sync import sync_to_async
from django.db import connections
from django.urls import reverse

import artifacts.api.signed_downloads as signed_downloads
from artifacts import selectors as artifact_selectors
from artifacts.models import Artifact
from artifacts.services import artifact_delete
from attachments import selectors as attachment_selectors
from attachments import storage
from attachments.models import Attachment, blob_key, parse_attachment_id
from attachments.services import attachment_delete
from tests.support import AsgiClient, Tenant
from tests.test_embedded_worker import Server

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
SESSION = "race"
# Several storage reads (READ_CHUNK is 1 MiB), and not a multiple of one.
SIZE = 3 * 1024 * 1024 + 17


@dataclass
class Stored:
    """A file the tests download and delete: an attachment or an artifact with a blob."""

    kind: str
    public_id: str
    content: bytes
    key: str
    pk: int


def _attachment(client: AsgiClient, content: bytes, name: str = "data.bin") -> Stored:
    response = client.upload(f"/api/uploads/{SESSION}", content, name=name)
    assert response.status_code == 201, response.text
    row = Attachment.objects.select_related("blob").get(
        uid=parse_attachment_id(response.json()["attachment_id"])
    )
    assert row.blob is not None
    return Stored("attachment", row.attachment_id, content, row.blob.storage_key, row.pk)


def _artifact(client: AsgiClient, content: bytes, name: str = "result.bin") -> Stored:
    response = client.upload(f"{NS}/artifacts/upload", content, name=name, session_id=SESSION)
    assert response.status_code == 201, response.text
    row = Artifact.objects.select_related("blob").get(artifact_id=response.json()["artifact_id"])
    assert row.blob is not None
    return Stored("artifact", row.artifact_id, content, row.blob.storage_key, row.pk)


class Deletion:
    """Deletes `files` through the services when called (their on-commit collection removes
    the bytes), once, and remembers whether it ran and what went wrong: it runs inside the
    application, where a failure would otherwise only show as a broken response."""

    def __init__(self, *files: Stored) -> None:
        self.files = files
        self.ran = False
        self.error: BaseException | None = None

    def __call__(self) -> None:
        if self.ran:
            return
        self.ran = True
        try:
            for file in self.files:
                if file.kind == "attachment":
                    attachment_delete(attachment=Attachment.objects.get(pk=file.pk))
                else:
                    artifact_delete(artifact=Artifact.objects.get(pk=file.pk))
                if file.key:
                    assert not storage.exists(file.key), "the on-commit delete left the bytes"
        except BaseException as error:
            self.error = error
            raise

    def check(self) -> None:
        assert self.ran, "the delete never ran: the hook missed its moment"
        if self.error is not None:
            raise AssertionError("the delete failed") from self.error


def _get(
    path: str, app: Any = None, headers: dict[str, str] | None = None, key: str = ""
) -> httpx.Response:
    """A GET through the real ASGI application. An exception in the app does not reach the
    test: the client sees what a real one would, the headers and whatever body got out."""
    from config.asgi import application

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app or application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path, headers={"X-API-Key": key, **(headers or {})})

    return asyncio.run(send())


def _deleting_after_headers(action: Callable[[], None], *, first_body: bool = False) -> Any:
    """The application, with `action` run once the response headers (or, with `first_body`,
    the first body bytes) have been sent: the moment the old code had not yet opened the file."""
    from config.asgi import application

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        done = False

        async def send_then_act(message: dict[str, Any]) -> None:
            nonlocal done
            await send(message)
            started = message["type"] == "http.response.start" and message["status"] < 300
            body = message["type"] == "http.response.body" and bool(message.get("body"))
            if not done and (body if first_body else started):
                done = True
                await sync_to_async(_closing_connections(action), thread_sensitive=False)()

        await application(scope, receive, send_then_act)

    return app


def _closing_connections(action: Callable[[], None]) -> Callable[[], None]:
    """`action`, then closing the database connections of the worker thread it ran in (the
    test database cannot be dropped while one is open)."""

    def run() -> None:
        try:
            action()
        finally:
            connections.close_all()

    return run


def _after_call(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, action: Callable[[], None]
) -> None:
    """Run `action` right after the first call of `owner.name` returns (a lookup)."""
    original = getattr(owner, name)

    def hooked(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        action()  # a Deletion runs once
        return result

    monkeypatch.setattr(owner, name, hooked)


# --- single-file routes ---


@dataclass
class Route:
    """One download route: which file it serves, its URL, where its row lookup happens, and
    how to get the file's bytes back out of a response."""

    kind: str
    lookup: tuple[Any, str]
    url: Callable[[Stored], str]
    headers: dict[str, str] | None = None
    span: tuple[int, int] | None = None  # the Range asked for, inclusive
    decode: Callable[[httpx.Response], bytes] = lambda response: response.content


def _signed_url(file: Stored) -> str:
    token = storage.sign_download({"a": file.pk, "x": int(time.time()) + 300})
    return reverse("signed-download", kwargs={"token": token})


def _content_document(response: httpx.Response) -> bytes:
    import base64

    document = response.json()
    assert document["content_encoding"] == "base64"  # random bytes are not UTF-8
    return base64.b64decode(document["content"])


ROUTES = {
    "seed000-attachment": Route(
        "attachment",
        (attachment_selectors, "attachment_find"),
        lambda f: f"/api/sessions/{SESSION}/artifacts/{f.public_id}?mode=stream",
    ),
    "seed000-attachment-range": Route(
        "attachment",
        (attachment_selectors, "attachment_find"),
        lambda f: f"/api/sessions/{SESSION}/artifacts/{f.public_id}?mode=stream",
        headers={"Range": "bytes=1000-2500000"},
        span=(1000, 2500000),
    ),
    "seed000-artifact": Route(
        "artifact",
        (artifact_selectors, "artifact_get"),
        lambda f: f"/api/sessions/{SESSION}/artifacts/{f.public_id}?mode=stream&download=true",
    ),
    "seed001-file": Route(
        "artifact",
        (artifact_selectors, "artifact_get"),
        lambda f: f"/api/artifacts/{f.public_id}/file",
    ),
    "seed001-content": Route(
        "artifact",
        (artifact_selectors, "artifact_get"),
        lambda f: f"/api/artifacts/{f.public_id}/content",
        decode=_content_document,
    ),
    "signed-download": Route("artifact", (signed_downloads, "artifact_file"), _signed_url),
}


def _stored_for(route: Route, asgi_owner: AsgiClient) -> Stored:
    content = os.urandom(SIZE)
    return (
        _attachment(asgi_owner, content)
        if route.kind == "attachment"
        else _artifact(asgi_owner, content)
    )


def _assert_whole(response: httpx.Response, route: Route, file: Stored) -> None:
    expected = file.content
    if route.span is not None:
        expected = expected[route.span[0] : route.span[1] + 1]
    assert response.status_code == (206 if route.span else 200), response.text[:200]
    body = response.content
    if "content-length" in response.headers:
        assert len(body) == int(response.headers["content-length"]), (
            f"cut off: {len(body)} of {response.headers['content-length']} bytes"
        )
    got = route.decode(response)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(expected).hexdigest()


def _assert_gone(response: httpx.Response) -> None:
    assert response.status_code in (404, 410), (response.status_code, response.content[:200])
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["detail"], str)


@pytest.mark.parametrize("name", list(ROUTES))
def test_deleted_after_the_lookup_is_a_404(
    name: str, asgi_owner: AsgiClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    route = ROUTES[name]
    file = _stored_for(route, asgi_owner)
    deletion = Deletion(file)
    _after_call(monkeypatch, *route.lookup, deletion)
    response = _get(route.url(file), headers=route.headers, key=tenant.owner_key)
    deletion.check()
    _assert_gone(response)


@pytest.mark.parametrize("name", list(ROUTES))
def test_deleted_after_the_headers_is_sent_whole(
    name: str, asgi_owner: AsgiClient, tenant: Tenant
) -> None:
    route = ROUTES[name]
    file = _stored_for(route, asgi_owner)
    deletion = Deletion(file)
    app = _deleting_after_headers(deletion)
    response = _get(route.url(file), app=app, headers=route.headers, key=tenant.owner_key)
    deletion.check()
    _assert_whole(response, route, file)


def test_meta_of_a_file_deleted_after_the_lookup_is_a_404(
    asgi_owner: AsgiClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    # The data URI reads the bytes while the answer is built: a vanished file is a 404 there
    # too, not a 500.
    settings.DEPOT_DATA_URI_MAX_BYTES = 64 * 1024
    file = _attachment(asgi_owner, os.urandom(1000))
    deletion = Deletion(file)
    _after_call(monkeypatch, attachment_selectors, "attachment_find", deletion)
    response = _get(f"/api/sessions/{SESSION}/artifacts/{file.public_id}", key=tenant.owner_key)
    deletion.check()
    _assert_gone(response)


# --- the session zip ---


@dataclass
class ZipSession:
    first: Stored  # the first entry of the zip
    second: Stored
    blob_artifact: Stored
    inline_artifact: Stored  # inline text: no bytes in storage


def _zip_session(asgi_owner: AsgiClient, owner: Any) -> ZipSession:
    first = _attachment(asgi_owner, os.urandom(SIZE), name="first.bin")
    second = _attachment(asgi_owner, os.urandom(200_000), name="second.bin")
    blob_artifact = _artifact(asgi_owner, os.urandom(SIZE), name="result.bin")
    made = owner.post(
        f"{NS}/artifacts",
        {
            "name": "notes.txt",
            "content": "inline notes",
            "content_type": "text/plain",
            "session_id": SESSION,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    row = Artifact.objects.get(artifact_id=made.json()["artifact_id"])
    inline = Stored("artifact", row.artifact_id, b"inline notes", "", row.pk)
    return ZipSession(first, second, blob_artifact, inline)


def _entries(response: httpx.Response) -> dict[str, bytes]:
    assert response.status_code == 200, response.text[:200]
    if "content-length" in response.headers:
        assert len(response.content) == int(response.headers["content-length"]), (
            f"cut off: {len(response.content)} of {response.headers['content-length']} bytes"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(response.content))
    except zipfile.BadZipFile as error:
        raise AssertionError(f"not a well-formed zip ({len(response.content)} bytes)") from error
    assert archive.testzip() is None
    return {name: archive.read(name) for name in archive.namelist()}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_zip_leaves_out_entries_deleted_after_the_headers(
    asgi_owner: AsgiClient, owner: Any, tenant: Tenant
) -> None:
    files = _zip_session(asgi_owner, owner)
    deletion = Deletion(files.second, files.blob_artifact)
    app = _deleting_after_headers(deletion)
    response = _get(f"/api/sessions/{SESSION}/download", app=app, key=tenant.owner_key)
    deletion.check()
    entries = _entries(response)
    # Not yet opened when they went: left out. The others are whole.
    assert set(entries) == {"attachments/first.bin", "artifacts/notes.txt"}
    assert _sha(entries["attachments/first.bin"]) == _sha(files.first.content)
    assert entries["artifacts/notes.txt"] == b"inline notes"


def test_zip_entry_being_sent_when_deleted_is_whole(
    asgi_owner: AsgiClient, owner: Any, tenant: Tenant
) -> None:
    files = _zip_session(asgi_owner, owner)
    everything = (files.first, files.second, files.blob_artifact, files.inline_artifact)
    # The first body bytes are the first entry's header: that entry is open by then.
    deletion = Deletion(*everything)
    app = _deleting_after_headers(deletion, first_body=True)
    response = _get(f"/api/sessions/{SESSION}/download", app=app, key=tenant.owner_key)
    deletion.check()
    entries = _entries(response)
    assert _sha(entries.pop("attachments/first.bin")) == _sha(files.first.content)
    assert "attachments/second.bin" not in entries and "artifacts/result.bin" not in entries
    # Inline text was read with the listing; if it is there, it is whole.
    assert entries in ({}, {"artifacts/notes.txt": b"inline notes"})


def test_zip_holds_one_stored_file_open_at_a_time(
    asgi_owner: AsgiClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opening every entry up front would hold one file (or S3 connection) per entry, and a
    # session may have 10,000: each entry is opened at its turn and closed after it.
    contents = [os.urandom(5000 + index) for index in range(12)]
    for index, content in enumerate(contents):
        _attachment(asgi_owner, content, name=f"part-{index}.bin")
    open_now, most = 0, 0
    original = storage.open_blob

    def counting_open(*args: Any, **kwargs: Any) -> storage.OpenedBlob:
        nonlocal open_now, most
        opened = original(*args, **kwargs)
        open_now += 1
        most = max(most, open_now)
        close = opened.close

        def counted_close() -> None:
            nonlocal open_now
            if not opened._closed:
                open_now -= 1
            close()

        opened.close = counted_close  # type: ignore[method-assign]
        return opened

    monkeypatch.setattr(storage, "open_blob", counting_open)
    entries = _entries(_get(f"/api/sessions/{SESSION}/download", key=tenant.owner_key))
    assert sorted(entries.values()) == sorted(contents)
    assert (most, open_now) == (1, 0)


# --- a real uvicorn and a real HTTP client ---


class PausingServer(Server):
    """uvicorn serving tests.pausing_asgi (Depot, with a pause after the headers of requests
    that ask for one) on the embedded profile, in its own folder."""

    def __init__(self, data_dir: Path) -> None:
        self.release = data_dir / "release"
        super().__init__(
            data_dir,
            worker="0",
            app="tests.pausing_asgi:application",
            DEPOT_TEST_RELEASE_FILE=str(self.release),
        )
        self.key = self.credentials["api_key"]
        self.blobs = data_dir / "blobs"

    def upload(self, content: bytes, name: str) -> dict[str, Any]:
        response = requests.post(
            f"{self.base}/api/uploads/{SESSION}",
            files={"file": (name, content)},
            headers={"X-API-Key": self.key},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()


@pytest.fixture
def pausing_server(tmp_path: Path) -> Iterator[PausingServer]:
    running = PausingServer(tmp_path / "server")
    try:
        yield running
    finally:
        running.stop()


def _read_through(response: requests.Response) -> bytes:
    try:
        return b"".join(response.iter_content(1024 * 1024))
    except requests.exceptions.ChunkedEncodingError as error:
        raise AssertionError(f"the body was cut off: {error}") from error


def test_a_real_server_sends_a_download_deleted_mid_response_whole(
    pausing_server: PausingServer,
) -> None:
    server = pausing_server
    auth = {"X-API-Key": server.key}
    content = os.urandom(SIZE)
    uploaded = server.upload(content, "big.bin")
    other = os.urandom(150_000)
    second = server.upload(other, "second.bin")
    blob_file = server.blobs / blob_key(uploaded["sha256"].removeprefix("sha256:"))
    assert blob_file.exists()

    with (
        requests.get(
            f"{server.base}/api/sessions/{SESSION}/artifacts/{uploaded['attachment_id']}?mode=stream",
            headers={**auth, "X-Test-Pause": "1"},
            stream=True,
            timeout=30,
        ) as download,
        requests.get(
            f"{server.base}/api/sessions/{SESSION}/download",
            headers={**auth, "X-Test-Pause": "1"},
            stream=True,
            timeout=30,
        ) as zipped,
    ):
        # Both answers' headers are out; their bodies wait. Delete both files meanwhile.
        assert download.status_code == 200 and zipped.status_code == 200
        for attachment in (uploaded, second):
            deleted = requests.delete(
                f"{server.base}/api/uploads/{SESSION}/{attachment['attachment_id']}",
                headers=auth,
                timeout=30,
            )
            assert deleted.status_code == 204, deleted.text
        assert not blob_file.exists(), "the delete left the bytes on disk"
        server.release.touch()
        body = _read_through(download)
        zip_body = _read_through(zipped)

    assert len(body) == int(download.headers["Content-Length"])
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(content).hexdigest()
    # The zip: both files went before its stream reached them, so it is a well-formed empty
    # zip (not a cut-off one).
    try:
        archive = zipfile.ZipFile(io.BytesIO(zip_body))
    except zipfile.BadZipFile as error:
        raise AssertionError(f"not a well-formed zip ({len(zip_body)} bytes)") from error
    assert archive.testzip() is None
    assert archive.namelist() == []
