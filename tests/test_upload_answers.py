"""The upload middleware's own answer to `POST /api/uploads/{sid}` (config/upload_answers.py,
issue 11): what Django's view stores and sends, without Django, and Django for everything else.

Requests go through the real ASGI application in process. Whether Django answered is seen by
its `request_started` signal; the Django answers compared with are the same requests with the
middleware's shortcut switched off."""

import json
import uuid
from typing import Any

import pytest
from asgiref import sync
from django.test import override_settings

from attachments import services, storage
from attachments.api.serializers import AttachmentUploadResponse
from attachments.models import Attachment
from config import upload_answers
from config.upload_answers import plain_fields, upload_item
from sessions_app.models import Event, Session
from tests.conftest import AsgiClient, DjangoRequests, Tenant
from tests.support import stored_keys
from tests.support.multipart import multipart_body

pytestmark = pytest.mark.django_db(transaction=True)


def _session_id() -> str:
    return f"direct-{uuid.uuid4().hex[:10]}"


def _headers(response: Any) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]


def _through_django(monkeypatch: pytest.MonkeyPatch, send: Any) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(upload_answers, "session_id_of", lambda scope: None)
        return send()


def _stored_answer(response: Any) -> bytes:
    """The bytes DRF's serializer makes of the row the answer names."""
    row = Attachment.objects.get(uid=response.json()["attachment_id"].removeprefix("att_"))
    return upload_answers.listing.render(AttachmentUploadResponse(row).data)


def _nothing_left() -> None:
    assert not Attachment.objects.exists()
    assert not Event.objects.exists()
    assert stored_keys() == set()


FIELD_SETS = [
    {},
    {"description": "a report", "node_id": "n-1", "path": "out/report.txt"},
    {"metadata": '{"k": [1, "\\u00e9"]}', "description": 'r\u00e9sum\u00e9 \u2028 "quoted"'},
    {"description": "", "metadata": "", "node_id": "", "path": ""},
    {"description": "x" * 10000, "node_id": "n" * 255, "path": "p" * 1024},
]


@pytest.mark.parametrize("fields", FIELD_SETS, ids=range(len(FIELD_SETS)))
def test_the_direct_answer_is_djangos(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    fields: dict[str, str],
) -> None:
    name = "r\u00e9sum\u00e9 \u2028.txt"
    expected = _through_django(
        monkeypatch,
        lambda: asgi_owner.upload(f"/api/uploads/{_session_id()}", b"a", name, **fields),
    )
    before = django_requests.count
    session_id = _session_id()
    direct = asgi_owner.upload(f"/api/uploads/{session_id}", b"b", name, **fields)
    assert django_requests.count == before, "the middleware should have answered"
    assert direct.status_code == expected.status_code == 201, direct.text
    # Same headers in the same order; each body is what the serializer makes of its row.
    assert _headers(direct) == [
        (k, str(len(direct.content)) if k == "content-length" else v) for k, v in _headers(expected)
    ]
    assert direct.content == _stored_answer(direct)
    assert expected.content == _stored_answer(expected)
    # And the rows are alike: what the view stores of the fields, the event, the session.
    row = Attachment.objects.get(uid=direct.json()["attachment_id"].removeprefix("att_"))
    twin = Attachment.objects.get(uid=expected.json()["attachment_id"].removeprefix("att_"))
    for column in ("name", "original_name", "description", "metadata", "node_id", "path"):
        assert getattr(row, column) == getattr(twin, column), column
    assert row.session.session_id == session_id and row.session.file_count == 1
    assert Event.objects.filter(session=row.session, kind="attachment.created").count() == 1


@pytest.mark.parametrize("microsecond", [0, 1, 123456])
def test_upload_item_is_the_serializers_data(tenant: Tenant, microsecond: int) -> None:
    """Whole seconds and microseconds, on either database's time."""
    client = AsgiClient(tenant.owner_key)
    answer = client.upload(f"/api/uploads/{_session_id()}", b"time").json()
    row = Attachment.objects.get(uid=answer["attachment_id"].removeprefix("att_"))
    row.created_at = row.created_at.replace(microsecond=microsecond)
    row.save(update_fields=["created_at"])
    row.refresh_from_db()
    assert upload_item(row) == AttachmentUploadResponse(row).data


def _raw_upload(client: AsgiClient, url: str, parts: list[tuple[str, str | None, bytes]], **kw):  # type: ignore[no-untyped-def]
    """A multipart body of `parts` (name, file name or None for a text field, bytes)."""
    boundary = "depotboundary"
    body = b""
    for name, file_name, data in parts:
        disposition = f'form-data; name="{name}"'
        if file_name is not None:
            disposition += f'; filename="{file_name}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **kw.pop("headers", {})}
    return client.post(url, content=body, headers=headers, **kw)


FILE = ("file", "f.txt", b"bytes")
TO_DJANGO = [
    ([FILE, ("colour", None, b"red")], {}, "", 422),  # a field the serializer refuses
    ([FILE, ("description", None, b"a"), ("description", None, b"b")], {}, "", 422),
    ([FILE, ("description", None, b" padded ")], {}, "", 201),  # trimmed by DRF
    ([FILE, ("node_id", None, b"n" * 256)], {}, "", 422),
    ([FILE, ("path", None, b"a\x00b")], {}, "", 422),
    ([FILE, ("metadata", None, b"[1]")], {}, "", 422),
    ([FILE, ("metadata", None, b"{not json")], {}, "", 422),
    ([("other", "f.txt", b"bytes")], {}, "", 422),  # no part named `file`
    ([FILE, ("file", None, b"text")], {}, "", 201),
    ([FILE], {"Accept": "text/html"}, "", 201),
    ([FILE], {"Cookie": "theme=dark"}, "", 201),
    ([FILE], {}, "?x=1", 201),
]


@pytest.mark.parametrize(("parts", "headers", "query", "status"), TO_DJANGO)
def test_anything_else_is_djangos(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    django_requests: DjangoRequests,
    parts: list[tuple[str, str | None, bytes]],
    headers: dict[str, str],
    query: str,
    status: int,
) -> None:
    before = django_requests.count
    url = f"/api/uploads/{_session_id()}{query}"
    response = _raw_upload(asgi_owner, url, parts, headers=headers)
    assert django_requests.count == before + 1
    assert response.status_code == status, response.text
    if status != 201:
        _nothing_left()


def test_bad_session_ids_and_other_routes_are_djangos(
    tenant: Tenant, asgi_owner: AsgiClient, django_requests: DjangoRequests
) -> None:
    for url, status in (
        ("/api/uploads/" + "x" * 300, 422),
        ("/api/uploads/bad%20id", 422),
        (f"/api/uploads/{_session_id()}/", 404),
    ):
        before = django_requests.count
        response = asgi_owner.upload(url, b"bytes")
        assert django_requests.count == before + 1, url
        assert response.status_code == status, (url, response.text)
    _nothing_left()


def test_plain_fields_takes_only_what_the_serializer_passes_as_is() -> None:
    assert plain_fields([("description", "a"), ("path", "p/q")]) == {
        "description": "a",
        "path": "p/q",
    }
    assert plain_fields([("description", "a\n")]) is None
    assert plain_fields([("description", "\u00a0a")]) is None  # str.strip() takes NBSP too
    assert plain_fields([("description", "x" * 10001)]) is None
    assert plain_fields([("metadata", "m" * 100000)]) == {"metadata": "m" * 100000}
    assert plain_fields([("file", "text")]) is None


ERRORS = ["files", "quota", "mime", "storage", "database", "bug"]


def _error_setup(kind: str, monkeypatch: pytest.MonkeyPatch, stack: Any) -> None:
    from django.db import OperationalError

    if kind == "files":
        stack.enter_context(override_settings(DEPOT_MAX_FILES_PER_SESSION=1))
    elif kind == "quota":
        stack.enter_context(override_settings(DEPOT_STORAGE_QUOTA_BYTES=3))
    elif kind == "mime":
        stack.enter_context(override_settings(DEPOT_ALLOWED_MIME_TYPES=["image/"]))
    elif kind == "storage":

        def failing(staged: Any) -> bool:
            raise OSError("disk gone")

        monkeypatch.setattr(storage, "promote", failing)
    elif kind == "database":

        def refused(**kwargs: Any) -> Any:
            raise OperationalError("server closed the connection")

        monkeypatch.setattr(services, "attachment_create", refused)
    else:

        def broken(**kwargs: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(services, "attachment_create", broken)


@pytest.mark.parametrize("kind", ERRORS)
def test_errors_are_djangos_and_leave_nothing(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    import contextlib

    session_id = _session_id()
    url = f"/api/uploads/{session_id}"
    if kind == "files":
        assert asgi_owner.upload(url, b"the one file").status_code == 201
    keys = stored_keys()
    answers = []
    with contextlib.ExitStack() as stack:
        _error_setup(kind, monkeypatch, stack)
        answers.append(_through_django(monkeypatch, lambda: asgi_owner.upload(url, b"more bytes")))
        before = django_requests.count
        answers.append(asgi_owner.upload(url, b"more bytes"))
        assert django_requests.count == before
    expected, direct = answers
    status = {"files": 409, "quota": 413, "mime": 422, "storage": 503, "database": 503}
    assert direct.status_code == expected.status_code == status.get(kind, 500)
    assert _headers(direct) == _headers(expected)
    assert direct.content == expected.content
    assert "detail" in direct.json()
    if kind in ("storage", "database"):
        assert direct.headers["retry-after"] == "5"
    files = 1 if kind == "files" else 0
    assert Attachment.objects.count() == files
    assert Session.objects.filter(session_id=session_id).count() == files
    assert Event.objects.count() == files  # the first file's event only
    assert stored_keys() == keys


def test_a_direct_upload_is_one_trip_to_the_requests_thread(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service call (the key is read on the event loop, config/loop_keys.usable_key);
    Django's path added its request signals, the middleware chain and the response's close."""
    hops: list[Any] = []
    original = sync.SyncToAsync.__call__

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(self.func)
        return await original(self, *args, **kwargs)

    from config import loop_reads

    # The loop's reader belongs to one running loop at a time (loop_reads.current_reader): an
    # in-process server an earlier test left running would keep it, and this client's requests
    # would read their key on the thread (the production CI run of 641c4e1).
    loop_reads.close_all()
    url = f"/api/uploads/{_session_id()}"
    assert asgi_owner.upload(url, b"warm-up").status_code == 201
    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    assert asgi_owner.upload(url, b"counted").status_code == 201
    assert len(hops) == 1, hops


def test_an_idempotent_direct_upload_replays_its_answer(
    tenant: Tenant, asgi_owner: AsgiClient, django_requests: DjangoRequests
) -> None:
    url = f"/api/uploads/{_session_id()}"
    body, content_type = multipart_body("file", "f.txt", b"once", {"description": "d"})
    headers = {"Content-Type": content_type, "Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    first = asgi_owner.post(url, content=body, headers=headers)
    second = asgi_owner.post(url, content=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert json.loads(second.content) == json.loads(first.content)
    assert django_requests.count == 0
    assert Attachment.objects.count() == 1


MIB = 1024 * 1024


def _worker_trips(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The middleware's trips to a worker thread for file pieces (asyncio.to_thread)."""
    from attachments.uploads import middleware

    trips: list[Any] = []
    real = middleware.asyncio.to_thread

    async def counting(func: Any, /, *args: Any, **kwargs: Any) -> Any:
        trips.append(args[2:] if func is middleware._write else func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(middleware.asyncio, "to_thread", counting)
    return trips


@pytest.mark.parametrize("size", [5, 3 * MIB + 5])
def test_a_direct_upload_writes_its_last_piece_in_the_service_trip(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """The file's last piece and its fdatasync go in the same trip to the request's thread as
    the service call: no trip of their own (a small file: no trip at all; a big one: only the
    1 MiB batches written while the body streams). Django's path keeps the middleware's own."""
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    trips = _worker_trips(monkeypatch)
    response = asgi_owner.upload(f"/api/uploads/{_session_id()}", content)
    assert response.status_code == 201, response.content
    direct = len(trips)
    row = Attachment.objects.get(uid=response.json()["attachment_id"].removeprefix("att_"))
    assert row.size == size
    assert b"".join(storage.read_chunks(row.blob.storage_key)) == content
    trips.clear()
    answer = _through_django(
        monkeypatch, lambda: asgi_owner.upload(f"/api/uploads/{_session_id()}", content)
    )
    assert answer.status_code == 201
    # Django's path: the same batches (if any) and the finish on a trip of its own.
    assert len(trips) == direct + 1
    assert size > MIB or direct == 0


@pytest.mark.parametrize("size", [5, 3 * MIB + 5])
def test_storage_failing_on_the_last_piece_is_the_middlewares_503(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """The last piece's write or fdatasync failing in the service's trip is the 503 the
    middleware answers for storage (Retry-After, the connection closed), before any row: no
    attachment, no session, no event, no bytes."""
    probe = storage.open_writer()
    writer_class = type(probe)
    probe.abort()

    def failing(self: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_class, "finish", failing)
    session_id = _session_id()
    response = asgi_owner.upload(f"/api/uploads/{session_id}", b"y" * size)
    assert response.status_code == 503, response.content
    assert response.headers["retry-after"] == "5"
    assert response.headers["connection"] == "close"
    assert response.json()["detail"] == "Storage is unavailable; nothing was stored. Retry later."
    assert not Session.objects.filter(session_id=session_id).exists()
    _nothing_left()
