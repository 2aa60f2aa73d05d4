"""No body is read before its caller is authenticated, and none past a limit (issue 14, holes
2, 3 and 5): the request gate and the upload middleware, driven through the real ASGI
application by hand, so each test sees exactly how much of the body was read."""

import asyncio
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from attachments.models import Attachment
from sessions_app.models import Event, Membership, Session
from tests.support import Tenant, http_scope, multipart_body, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024


class Drive:
    """One request through `config.asgi.application`; the body is fed in chunks on demand and
    every `receive` counted."""

    def __init__(self, method: str, path: str, headers: dict[str, str], chunks: list[bytes]):
        self.scope = http_scope(
            method,
            path,
            headers=[(b"host", b"testserver")]
            + [(name.lower().encode(), value.encode("latin-1")) for name, value in headers.items()],
        )
        self.chunks = list(chunks) or [b""]  # a request without a body still sends one message
        self.bytes_read = 0
        self.receives = 0
        self.sent: list[dict[str, Any]] = []

    async def _receive(self) -> dict[str, Any]:
        self.receives += 1
        if not self.chunks:
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        chunk = self.chunks.pop(0)
        self.bytes_read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def run(self, timeout: float = 20) -> "Drive":
        from config.asgi import application

        async def go() -> None:
            await asyncio.wait_for(application(self.scope, self._receive, self._send), timeout)

        asyncio.run(go())
        return self

    @property
    def status(self) -> int | None:
        start = next((m for m in self.sent if m["type"] == "http.response.start"), None)
        return start["status"] if start else None

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def chunked(size: int, piece: int = 64 * 1024, fill: bytes = b" ") -> list[bytes]:
    return [fill * min(piece, size - offset) for offset in range(0, size, piece)]


CHUNKED_JSON = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}


def _nothing_written() -> None:
    assert not Session.objects.exists()
    assert not Attachment.objects.exists()
    assert not Event.objects.exists()
    assert stored_keys() == set()


# --- hole 2: bodies before authentication, bodies past a limit ---


def test_an_anonymous_chunked_json_body_gets_401_before_one_byte_is_read(tenant: Tenant) -> None:
    drive = Drive("POST", "/api/sessions", CHUNKED_JSON, chunked(200 * MIB)).run()
    assert drive.status == 401
    assert drive.bytes_read == 0
    assert b"credentials" in drive.body
    _nothing_written()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_anonymous_write_under_api_is_401_unread(tenant: Tenant, method: str) -> None:
    drive = Drive(method, "/api/sessions/s1", {"Content-Length": "1000"}, [b"x" * 1000]).run()
    assert (drive.status, drive.bytes_read) == (401, 0)


def test_a_bad_key_is_401_before_anything_is_read(tenant: Tenant) -> None:
    headers = {**CHUNKED_JSON, "X-API-Key": "dpt_nothere_" + "x" * 40}
    drive = Drive("POST", "/api/sessions", headers, chunked(10 * MIB)).run()
    assert (drive.status, drive.bytes_read) == (401, 0)
    assert drive.body == b'{"detail": "Invalid, revoked or expired API key."}'


def test_a_declared_body_over_the_anonymous_cap_is_413_unread(db: None) -> None:
    drive = Drive("POST", "/healthz", {"Content-Length": str(1024**3)}, [b"x"]).run(timeout=5)
    assert (drive.status, drive.bytes_read) == (413, 0)


def test_an_anonymous_chunked_body_outside_api_stops_at_its_cap(db: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_MAX_ANONYMOUS_BODY_BYTES = 64 * 1024
    drive = Drive(
        "POST", "/admin/login/", {"Transfer-Encoding": "chunked"}, chunked(50 * MIB, 16 * 1024)
    ).run()
    assert drive.status == 413
    assert drive.bytes_read <= 64 * 1024 + 16 * 1024
    assert b"limit" in drive.body


def test_a_keyed_json_body_over_the_cap_is_413_and_creates_nothing(
    tenant: Tenant,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.DEPOT_MAX_BODY_BYTES = 1 * MIB
    headers = {**CHUNKED_JSON, "X-API-Key": tenant.owner_key}
    body = b'{"session_id": "big", "metadata": {"pad": "' + b"x" * (2 * MIB) + b'"}}'
    pieces = [body[offset : offset + 256 * 1024] for offset in range(0, len(body), 256 * 1024)]
    drive = Drive("POST", "/api/sessions", headers, pieces).run()
    assert drive.status == 413
    assert drive.bytes_read <= MIB + 256 * 1024
    _nothing_written()
    declared = {"Content-Type": "application/json", "Content-Length": str(2 * MIB)}
    drive = Drive("POST", "/api/sessions", {**declared, "X-API-Key": tenant.owner_key}, [body])
    assert (drive.run().status, drive.bytes_read) == (413, 0)


def test_a_long_poll_never_buffers_a_body(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    """Channels' HTTP consumer keeps a whole body in memory; the gate caps it first."""
    settings.DEPOT_MAX_BODY_BYTES = 256 * 1024
    headers = {"Transfer-Encoding": "chunked", "X-API-Key": tenant.owner_key}
    drive = Drive("GET", "/api/sessions/s1/artifact-events", headers, chunked(20 * MIB)).run()
    assert drive.status == 413
    assert drive.bytes_read <= 256 * 1024 + 64 * 1024
    anonymous = Drive(
        "GET", "/api/sessions/s1/artifact-events", {"Transfer-Encoding": "chunked"}, [b"x"]
    ).run()
    assert (anonymous.status, anonymous.bytes_read) == (401, 0)


def test_a_body_under_the_cap_but_over_djangos_default_is_accepted(tenant: Tenant) -> None:
    """Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) used to make these a 500 (hole 5)."""
    content = "word " * (700 * 1024)  # 3.5 MB of inline text
    import json

    body = json.dumps(
        {"workflow_id": "wf", "artifact_type": "report", "title": "big", "content": content}
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "X-API-Key": tenant.owner_key,
    }
    drive = Drive("POST", "/api/artifacts", headers, [body]).run(timeout=60)
    assert drive.status == 201, drive.body[:300]


def test_a_body_over_djangos_own_cap_is_a_json_413(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    """Through Django's test client (no gate in front): Django's own check still answers, and
    as a JSON 413 rather than a 500, for a JSON body and for a multipart text field."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = Client(headers={"X-API-Key": tenant.owner_key})
    body = '{"reference": "' + "x" * 5000 + '"}'
    response = client.post("/api/sessions", body, content_type="application/json")
    assert response.status_code == 413, response.content
    assert response.json() == {"detail": "Request body is too large."}
    upload = client.post(
        "/api/uploads/s1",
        {"file": SimpleUploadedFile("a.txt", b"hi"), "description": "x" * 5000},
    )
    assert upload.status_code == 413, upload.content
    assert upload["Content-Type"] == "application/json"
    assert not Session.objects.exists()


# --- hole 3: multipart text fields, cookies that only look like sessions ---


def _multipart(
    fields: list[tuple[str, bytes]], files: list[tuple[str, bytes]] = ()
) -> tuple[list[bytes], str]:  # type: ignore[assignment]
    boundary = "gate-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value
        + b"\r\n"
        for name, value in fields
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="f.bin"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
        for name, content in files
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    pieces = [body[offset : offset + 64 * 1024] for offset in range(0, len(body), 64 * 1024)]
    return pieces, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    "cookie",
    [
        "theme=mysessionidisfake",
        "sessionid=",
        "sessionid=notarealsessionkeyatall0000000000",
        "sessionid=../../etc/passwd",
    ],
)
def test_a_cookie_that_is_not_a_live_session_is_401_unread(tenant: Tenant, cookie: str) -> None:
    pieces, content_type = _multipart([("description", b"x" * MIB)] * 10)
    headers = {"Content-Type": content_type, "Cookie": cookie}
    drive = Drive("POST", "/api/uploads/s1", headers, pieces).run()
    assert (drive.status, drive.bytes_read) == (401, 0)
    _nothing_written()


def test_a_logged_in_member_passes_the_gate(tenant: Tenant) -> None:
    user = get_user_model().objects.create_user("ana", password="pw-ana-123456")
    Membership.objects.create(user=user, organization=tenant.organization)
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    body, content_type = multipart_body("file", "a.txt", b"hello")
    headers = {"Content-Type": content_type, "Cookie": cookie, "Content-Length": str(len(body))}
    drive = Drive("POST", "/api/uploads/s1", headers, [body]).run()
    # Past the gate: Django's CSRF check for cookie-authenticated writes answers now.
    assert drive.status == 403 and b"CSRF" in drive.body
    user.is_active = False
    user.save()
    drive = Drive("POST", "/api/uploads/s1", headers, [body]).run()
    assert (drive.status, drive.bytes_read) == (401, 0)


def test_text_fields_are_bounded_in_total(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_MAX_FORM_TEXT_BYTES = 256 * 1024
    pieces, content_type = _multipart(
        [("description", b"x" * 100 * 1024)] * 5, [("file", b"content")]
    )
    headers = {"Content-Type": content_type, "X-API-Key": tenant.owner_key}
    drive = Drive("POST", "/api/uploads/s1", headers, pieces).run()
    assert drive.status == 413
    assert b"text fields" in drive.body
    assert drive.bytes_read <= 256 * 1024 + 2 * 64 * 1024
    _nothing_written()


def test_invalid_utf8_in_a_text_field_is_400_not_amplified(tenant: Tenant) -> None:
    pieces, content_type = _multipart([("description", b"\xff" * 1000)], [("file", b"content")])
    headers = {"Content-Type": content_type, "X-API-Key": tenant.owner_key}
    drive = Drive("POST", "/api/uploads/s1", headers, pieces).run()
    assert drive.status == 400
    assert b"UTF-8" in drive.body
    _nothing_written()


def test_file_parts_are_bounded_in_number_and_in_total(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    pieces, content_type = _multipart([], [(f"file{n}", b"x") for n in range(50)])
    headers = {"Content-Type": content_type, "X-API-Key": tenant.owner_key}
    drive = Drive("POST", "/api/uploads/s1", headers, pieces).run()
    assert drive.status == 400 and b"Too many files" in drive.body
    _nothing_written()

    settings.DEPOT_MAX_UPLOAD_BYTES = 100_000
    pieces, content_type = _multipart([], [("file", b"a" * 60_000), ("extra", b"b" * 60_000)])
    headers = {"Content-Type": content_type, "X-API-Key": tenant.owner_key}
    drive = Drive("POST", "/api/uploads/s1", headers, pieces).run()
    assert drive.status == 413
    _nothing_written()


def test_a_keyed_upload_still_works_and_is_looked_up_once(tenant: Tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The key the gate authenticated travels in the scope; DRF does not look it up again."""
    from config import request_gate
    from sessions_app import auth

    lookups: list[str] = []
    real = auth.authenticate_raw_key

    def counting(raw_key: str):  # type: ignore[no-untyped-def]
        lookups.append(raw_key)
        return real(raw_key)

    monkeypatch.setattr(auth, "authenticate_raw_key", counting)
    monkeypatch.setattr(request_gate, "authenticate_raw_key", counting)
    body, content_type = multipart_body(
        "file", "a.txt", b"hello", {"description": "d\u00e9j\u00e0"}
    )
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "X-API-Key": tenant.owner_key,
    }
    drive = Drive("POST", "/api/uploads/s1", headers, [body]).run()
    assert drive.status == 201, drive.body
    assert Attachment.objects.get().description == "d\u00e9j\u00e0"
    assert lookups == [tenant.owner_key]
    lookups.clear()
    # The list reads the key inside its one statement on the event loop (config/loop_reads.py).
    from config import loop_reads

    on_the_loop = loop_reads.list_page

    async def counting_page(raw_key: str, wanted):  # type: ignore[no-untyped-def]
        lookups.append(raw_key)
        return await on_the_loop(raw_key, wanted)

    monkeypatch.setattr(loop_reads, "list_page", counting_page)
    listing = Drive("GET", "/api/uploads/s1", {"X-API-Key": tenant.owner_key}, []).run()
    assert listing.status == 200
    assert lookups == [tenant.owner_key]


# --- slow clients ---


class Trickle(Drive):
    """A client that sends the first chunk, then nothing."""

    async def _receive(self) -> dict[str, Any]:
        self.receives += 1
        if self.receives == 1:
            chunk = self.chunks[0]
            self.bytes_read += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": True}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}


@pytest.mark.parametrize("kind", ["json", "upload"])
def test_a_body_that_stops_arriving_is_408_and_leaves_nothing(
    tenant: Tenant,
    settings,  # type: ignore[no-untyped-def]
    kind: str,
) -> None:
    settings.DEPOT_BODY_IDLE_SECONDS = 0.5
    if kind == "json":
        path, headers, first = "/api/sessions", dict(CHUNKED_JSON), b'{"reference": '
    else:
        pieces, content_type = _multipart([], [("file", b"x" * 300_000)])
        path, first = "/api/uploads/s1", pieces[0]
        headers = {"Content-Type": content_type, "Transfer-Encoding": "chunked"}
    headers["X-API-Key"] = tenant.owner_key
    drive = Trickle("POST", path, headers, [first]).run(timeout=10)
    assert drive.status == 408
    assert b"stopped arriving" in drive.body
    _nothing_written()


def test_a_long_answer_after_the_body_is_not_cut(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    """After the body, waiting is the application's business (a long-poll waits for events)."""
    from tests.support import AsgiClient

    settings.DEPOT_BODY_IDLE_SECONDS = 0.2
    response = AsgiClient(tenant.owner_key).get(
        "/api/sessions/idle/artifact-events", params={"wait_seconds": 1}
    )
    assert response.status_code == 200
    assert response.json()["timed_out"] is True
