"""Hostile review of the upload middleware's own answer to `POST /api/uploads/{sid}`
(config/upload_answers.py): for each request, the direct answer is compared with the one
Django's view gives to the same request (the shortcut switched off, as
tests/test_upload_answers.py does), in status, headers and their order, body, stored row,
events, session and file counter; and a failure leaves nothing behind."""

import asyncio
import datetime
import functools
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.test import override_settings
from django.utils import timezone

from attachments import services
from attachments.api.serializers import AttachmentUploadResponse
from attachments.models import Attachment
from config import upload_answers
from sessions_app import services as session_services
from sessions_app.events import log as event_log
from sessions_app.models import ApiKey, Event, Session
from sessions_app.principals import SCOPE_API_KEY
from tests.conftest import AsgiClient, DjangoRequests, Stranger, Tenant
from tests.support import http_scope, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

BOUNDARY = "hostile8-boundary"
Part = tuple[str, str | None, bytes]  # (name, file name or None for a text field, bytes)
FILE: Part = ("file", "f.txt", b"bytes")


def _sid() -> str:
    return f"h8-{uuid.uuid4().hex[:12]}"


def _body(parts: list[Part]) -> bytes:
    body = b""
    for name, file_name, data in parts:
        disposition = f'form-data; name="{name}"'
        if file_name is not None:
            disposition += f'; filename="{file_name}"'
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
        if file_name is not None:
            head += "Content-Type: application/octet-stream\r\n"
        body += head.encode() + b"\r\n" + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def _call(
    path: str,
    parts: list[Part],
    headers: list[tuple[str, str]],
    *,
    base_url: str = "http://testserver",
    root_path: str = "",
) -> httpx.Response:
    """A multipart POST through the real ASGI application, headers as given (in order)."""
    from config.asgi import application

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=application, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            return await client.post(
                path,
                content=_body(parts),
                headers=[
                    ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"),
                    *headers,
                ],
            )

    return asyncio.run(send())


# Values that differ between any two requests: a fresh CSRF cookie, a rate counter.
VOLATILE = {"ratelimit-remaining", "ratelimit-reset"}
SID_RE = re.compile(r"h8-[0-9a-f]{12}")


def _header_value(name: str, value: str) -> str:
    if name == "set-cookie":
        return value.split("=")[0]
    if name == "location":  # a redirect names the request's session id
        return SID_RE.sub("SID", value)
    return "*" if name in VOLATILE else value


def _headers(response: httpx.Response) -> list[tuple[str, str]]:
    return [
        (k, _header_value(k, v)) for k, v in response.headers.multi_items() if k != "x-request-id"
    ]


def _through_django(monkeypatch: pytest.MonkeyPatch, send: Callable[[], Any]) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(upload_answers, "session_id_of", lambda scope: None)
        return send()


def _row(response: httpx.Response) -> Attachment:
    return Attachment.objects.get(uid=response.json()["attachment_id"].removeprefix("att_"))


ROW_COLUMNS: tuple[str, ...] = (
    "name",
    "original_name",
    "description",
    "metadata",
    "node_id",
    "path",
    "size",
    "sha256",
    "mime_type",
)


def _assert_alike(direct: httpx.Response, expected: httpx.Response) -> None:
    """The same answer in status and headers (their order too); for a 201 each body is what
    DRF's serializer makes of its own row, and the rows are alike; otherwise the same bytes."""
    assert direct.status_code == expected.status_code, (direct.text, expected.text)
    if direct.headers.get("content-type") != "application/json":
        # DRF's browsable API or Django's debug page: the same kind of answer.
        assert _headers(direct) == [
            (k, str(len(direct.content)) if k == "content-length" else v)
            for k, v in _headers(expected)
        ]
    elif direct.status_code == 201:
        assert _headers(direct) == [
            (k, str(len(direct.content)) if k == "content-length" else v)
            for k, v in _headers(expected)
        ]
        row, twin = _row(direct), _row(expected)
        for response, stored in ((direct, row), (expected, twin)):
            rendered = upload_answers.listing.render(AttachmentUploadResponse(stored).data)
            assert response.content == rendered
        for column in ROW_COLUMNS:
            assert getattr(row, column) == getattr(twin, column), column
        for stored in (row, twin):
            events = Event.objects.filter(session=stored.session, kind="attachment.created")
            assert events.count() == stored.session.file_count
    else:
        assert _headers(direct) == _headers(expected)
        assert direct.content == expected.content


def _nothing_left(keys: set[str] | None = None) -> None:
    assert not Attachment.objects.exists()
    assert not Event.objects.filter(kind="attachment.created").exists()
    assert stored_keys() == (keys or set())


def _compare(
    monkeypatch: pytest.MonkeyPatch,
    django_requests: DjangoRequests,
    key: str,
    parts: list[Part],
    headers: list[tuple[str, str]] | None = None,
    *,
    direct_expected: bool,
    **call: Any,
) -> tuple[httpx.Response, httpx.Response]:
    """The same request through Django, then as it goes now (each into a new session);
    `direct_expected`: whether the middleware should answer it itself."""
    keyed = [("X-API-Key", key), *(headers or [])]
    expected = _through_django(
        monkeypatch, lambda: _call(f"/api/uploads/{_sid()}", parts, keyed, **call)
    )
    before = django_requests.count
    direct = _call(f"/api/uploads/{_sid()}", parts, keyed, **call)
    assert django_requests.count == before + (0 if direct_expected else 1)
    _assert_alike(direct, expected)
    return direct, expected


# --- Accept: what the shortcut takes is what DRF answers with JSON; the rest is Django's ---

ACCEPTS = [
    ("*/*", True),
    ("application/json", True),
    ("", False),  # DRF: 406 (a missing header is `*/*`, an empty one is not)
    ("application/json; charset=utf-8", False),
    ("application/*", False),
    ("application/json, text/html", False),
    ("text/html, application/json", False),
    ("application/json;q=0.5, */*;q=0.1", False),
    ("APPLICATION/JSON", False),
    ("text/html", False),
    ("image/png", False),  # DRF: 406
]


@pytest.mark.parametrize(("accept", "direct_expected"), ACCEPTS)
def test_accept_variants(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    accept: str,
    direct_expected: bool,
) -> None:
    _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        [("Accept", accept)],
        direct_expected=direct_expected,
    )


def test_no_accept_header_at_all(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    from config.asgi import application

    def send() -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                request = c.build_request(
                    "POST",
                    f"/api/uploads/{_sid()}",
                    content=_body([FILE]),
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "X-API-Key": tenant.owner_key,
                    },
                )
                del request.headers["accept"]
                return await c.send(request)

        return asyncio.run(go())

    expected = _through_django(monkeypatch, send)
    before = django_requests.count
    direct = send()
    assert django_requests.count == before
    _assert_alike(direct, expected)


# --- hosts, HTTPS, proxies, script prefixes ---

HOSTS = [
    ([("Host", "testserver")], True, 201),
    ([("Host", "TESTSERVER")], True, 201),
    ([("Host", "testserver:8000")], True, 201),
    ([("Host", "testserver.")], True, 201),
    ([("Host", "evil.example")], False, 400),  # DisallowedHost
    ([("Host", "testserver"), ("Host", "testserver")], False, 400),
    ([("Host", "testserver@evil.example")], False, 400),
    ([("Host", "")], False, 400),
]


@pytest.mark.parametrize(("host", "direct_expected", "status"), HOSTS)
def test_hosts(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    host: list[tuple[str, str]],
    direct_expected: bool,
    status: int,
) -> None:
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        host,
        direct_expected=direct_expected,
    )
    assert direct.status_code == status
    if status != 201:
        _nothing_left()


def test_https_and_proxy_settings_are_djangos(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over HTTPS (where Django would add HSTS when it is set): Django's.
    _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        direct_expected=False,
        base_url="https://testserver",
    )
    # A proxy header Django may trust: the answer is Django's.
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        _compare(
            monkeypatch,
            django_requests,
            tenant.owner_key,
            [FILE],
            [("X-Forwarded-Proto", "https")],
            direct_expected=False,
        )
    # SSL redirect (SecurityMiddleware reads it once, so the scope check is what is tested).
    scope = {
        "method": "POST",
        "path": f"/api/uploads/{_sid()}",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        SCOPE_API_KEY: ApiKey.objects.first(),
    }
    assert upload_answers.session_id_of(scope) is not None
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert upload_answers.session_id_of(scope) is None
    with override_settings(DEBUG=True):
        assert upload_answers.session_id_of(scope) is None
    assert upload_answers.session_id_of({**scope, "scheme": "https"}) is None
    assert upload_answers.session_id_of({**scope, "root_path": "/depot"}) is None
    _nothing_left_but_201s()


def _nothing_left_but_201s() -> None:
    """Every stored row is one of the 201s' (none of a redirect or refusal)."""
    for row in Attachment.objects.all():
        assert row.session.file_count >= 1


def test_a_root_path_is_djangos(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a root path of /api, Django routes `/api/uploads/x` as `/uploads/x` (a 404)."""
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        direct_expected=False,
        root_path="/api",
    )
    assert direct.status_code == 404
    _nothing_left()


def test_force_script_name_is_djangos(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    with override_settings(FORCE_SCRIPT_NAME="/api"):
        direct, _ = _compare(
            monkeypatch, django_requests, tenant.owner_key, [FILE], direct_expected=False
        )
    assert direct.status_code == 404
    _nothing_left()


def test_debug_500_is_djangos(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under DEBUG Django answers a bug with its technical 500, not the JSON one."""

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "attachment_create", broken)
    with override_settings(DEBUG=True, DEBUG_PROPAGATE_EXCEPTIONS=False):
        direct, _ = _compare(
            monkeypatch, django_requests, tenant.owner_key, [FILE], direct_expected=False
        )
    assert direct.status_code == 500
    _nothing_left()


# --- CORS from an allowed origin, rate limits ---


@override_settings(CORS_ALLOWED_ORIGINS=["https://ui.example"])
def test_cors_from_an_allowed_origin(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        [("Origin", "https://ui.example")],
        direct_expected=True,
    )
    assert direct.headers["access-control-allow-origin"] == "https://ui.example"
    assert direct.headers["vary"] == "Accept, origin"


@override_settings(CORS_ALLOWED_ORIGINS=["https://ui.example"])
def test_cors_errors_from_an_allowed_origin(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    with override_settings(DEPOT_ALLOWED_MIME_TYPES=["image/"]):
        direct, _ = _compare(
            monkeypatch,
            django_requests,
            tenant.owner_key,
            [FILE],
            [("Origin", "https://ui.example")],
            direct_expected=True,
        )
    assert direct.status_code == 422
    assert direct.headers["access-control-allow-origin"] == "https://ui.example"
    _nothing_left()


@pytest.mark.usefixtures("rate_window")
def test_rate_limit_headers(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    from config.rate_limits import Rate

    settings.DEPOT_RATE_LIMIT_WRITES = Rate(50, 60)
    direct, _ = _compare(
        monkeypatch, django_requests, tenant.owner_key, [FILE], direct_expected=True
    )
    assert any(k.startswith("ratelimit") or k.startswith("x-ratelimit") for k in direct.headers)


@pytest.mark.usefixtures("rate_window")
def test_rate_limited_upload_reads_nothing(
    tenant: Tenant, django_requests: DjangoRequests, settings: Any
) -> None:
    from config.rate_limits import Rate

    settings.DEPOT_RATE_LIMIT_WRITES = Rate(1, 60)
    client = AsgiClient(tenant.owner_key)
    assert client.upload(f"/api/uploads/{_sid()}", b"one").status_code == 201
    keys = stored_keys()
    refused = client.upload(f"/api/uploads/{_sid()}", b"two")
    assert refused.status_code == 429
    assert Attachment.objects.count() == 1
    assert stored_keys() == keys


# --- keys ---


def _key(tenant: Tenant, **changes: Any) -> str:
    key, raw = session_services.api_key_create(
        organization=tenant.organization, default_workspace=tenant.workspace
    )
    ApiKey.objects.filter(pk=key.pk).update(**changes)
    return raw


def _body_never_read(key: str, session_id: str) -> tuple[int, bool]:
    """(status, whether the application asked for the body) of an upload with `key`."""
    from config.asgi import application

    read = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read = True
        return {"type": "http.request", "body": _body([FILE]), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/api/uploads/{session_id}",
        "raw_path": f"/api/uploads/{session_id}".encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5555),
        "headers": [
            (b"host", b"testserver"),
            *([(b"x-api-key", key.encode())] if key else []),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(len(_body([FILE]))).encode()),
        ],
    }
    asyncio.run(application(scope, receive, send))
    return sent[0]["status"], read


def test_revoked_expired_read_only_and_unknown_keys_read_no_body(tenant: Tenant) -> None:
    revoked = _key(tenant, revoked_at=timezone.now())
    expired = _key(tenant, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    for key, status in (
        (revoked, 401),
        (expired, 401),
        (tenant.read_only_key, 403),
        ("dpt_nope_nope", 401),
        (tenant.owner_key[:-1] + ("a" if tenant.owner_key[-1] != "a" else "b"), 401),
    ):
        answered, read = _body_never_read(key, _sid())
        assert (answered, read) == (status, False), key
    _nothing_left()


def test_a_key_revoked_now_is_refused_next(tenant: Tenant, django_requests: DjangoRequests) -> None:
    raw = _key(tenant)
    client = AsgiClient(raw)
    assert client.upload(f"/api/uploads/{_sid()}", b"x").status_code == 201
    ApiKey.objects.filter(pk=ApiKey.objects.order_by("-id")[0].pk).update(revoked_at=timezone.now())
    assert client.upload(f"/api/uploads/{_sid()}", b"y").status_code == 401
    assert Attachment.objects.count() == 1


def test_bearer_key(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    def send() -> httpx.Response:
        return _call(
            f"/api/uploads/{_sid()}", [FILE], [("Authorization", f"Bearer {tenant.owner_key}")]
        )

    expected = _through_django(monkeypatch, send)
    before = django_requests.count
    direct = send()
    assert django_requests.count == before
    _assert_alike(direct, expected)


def test_two_different_keys(
    tenant: Tenant,
    stranger: Stranger,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """X-API-Key wins over Authorization in both the gate and DRF."""
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        [("Authorization", f"Bearer {stranger.key}")],
        direct_expected=True,
    )
    assert _row(direct).session.organization_id == tenant.organization.pk


# --- sessions of others ---


def _upload_as(key: str, session_id: str, data: bytes = b"x") -> httpx.Response:
    return _call(f"/api/uploads/{session_id}", [("file", "f.txt", data)], [("X-API-Key", key)])


def test_a_session_of_another_organization(
    tenant: Tenant,
    stranger: Stranger,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    theirs = [_sid(), _sid()]
    for session_id in theirs:
        assert _upload_as(stranger.key, session_id).status_code == 201
    keys = stored_keys()
    expected = _through_django(monkeypatch, lambda: _upload_as(tenant.owner_key, theirs[0]))
    before = django_requests.count
    direct = _upload_as(tenant.owner_key, theirs[1])
    assert django_requests.count == before
    _assert_alike(direct, expected) if direct.status_code != 201 else None
    assert direct.status_code == expected.status_code
    if direct.status_code == 201:
        # Each organization has its own sessions of that id: the stranger's keep one file.
        for session_id in theirs:
            mine = Session.objects.get(session_id=session_id, organization=tenant.organization)
            assert mine.file_count == 1
        assert _row(direct).session.organization_id == tenant.organization.pk
    else:
        assert stored_keys() == keys
    for session_id in theirs:
        their = Session.objects.get(session_id=session_id, organization=stranger.organization)
        assert their.file_count == 1


def test_a_session_in_another_workspace_with_a_limited_key(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner's sessions are in `alpha`; the key limited to `beta` gets a session of the
    same id in `beta` through either path, and `alpha`'s are left as they were."""
    in_alpha = [_sid(), _sid()]
    for session_id in in_alpha:
        assert _upload_as(tenant.owner_key, session_id).status_code == 201
    expected = _through_django(monkeypatch, lambda: _upload_as(tenant.limited_key, in_alpha[0]))
    before = django_requests.count
    direct = _upload_as(tenant.limited_key, in_alpha[1])
    assert django_requests.count == before
    _assert_alike(direct, expected)
    for response in (direct, expected):
        assert _row(response).session.namespace.workspace_id == tenant.other_workspace.pk
    for session_id in in_alpha:
        alpha = Session.objects.get(session_id=session_id, namespace__workspace=tenant.workspace)
        assert alpha.file_count == 1


def test_a_limited_key_in_its_own_workspace(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct, expected = _compare(
        monkeypatch, django_requests, tenant.limited_key, [FILE], direct_expected=True
    )
    assert _row(direct).session.namespace.workspace_id == tenant.other_workspace.pk
    assert _row(expected).session.namespace.workspace_id == tenant.other_workspace.pk


# --- text fields: odd unicode, CRLF, lengths, metadata ---

TEXTS = [
    ({"description": "a\r\nb\rc\nd"}, True),
    ({"description": "\u200bzero width\u200b"}, True),  # not whitespace to str.strip()
    ({"description": "\ufeffbom"}, True),
    ({"description": "rtl \u202e override"}, True),
    ({"description": "e\u0301 and \u00e9"}, True),  # no normalization either way
    ({"description": "\U0001f600" * 10000}, True),  # 10000 characters, 40000 bytes
    ({"description": "\U0001f600" * 10001}, False),  # DRF: 422
    ({"description": "x\x1fy\x1c"}, False),  # str.strip() takes U+001C..U+001F
    ({"description": "\u2028tail"}, False),
    ({"description": "tail\x85"}, False),
    ({"description": "   "}, False),
    ({"node_id": "a/b\\c", "path": "../../etc/passwd"}, True),
    ({"path": "/abs/path"}, True),
    ({"path": "p" * 1025}, False),
    ({"node_id": "\x00"}, False),
    ({"metadata": "{}"}, True),
    ({"metadata": '{"a": "\\u0000"}'}, False),  # stored_json_problem: 422
    ({"metadata": '{"a": NaN}'}, False),
    ({"metadata": '{"a": 1e999}'}, False),
    ({"metadata": '{"a": 1, "a": 2}'}, True),  # the last one wins in both
    ({"metadata": '{"deep": ' * 100 + "1" + "}" * 100}, False),
    ({"metadata": "[" * 100000 + "]" * 100000}, False),  # past Python's recursion limit
    ({"metadata": '{"\\ud800": 1}'}, False),  # a lone surrogate
    ({"metadata": " {}"}, False),
    ({"metadata": "null"}, False),
]


@pytest.mark.parametrize(("fields", "direct_expected"), TEXTS, ids=range(len(TEXTS)))
def test_text_fields(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    fields: dict[str, str],
    direct_expected: bool,
) -> None:
    parts: list[Part] = [(name, None, value.encode()) for name, value in fields.items()]
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [*parts, FILE],
        direct_expected=direct_expected,
    )
    if direct.status_code != 201:
        _nothing_left()


def test_fields_after_the_file_and_between_two_files(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts: list[Part] = [
        ("description", None, b"before"),
        ("file", "first.txt", b"first"),
        ("path", None, b"between"),
        ("file", "second.txt", b"second"),
        ("node_id", None, b"after"),
    ]
    direct, expected = _compare(
        monkeypatch, django_requests, tenant.owner_key, parts, direct_expected=True
    )
    for response in (direct, expected):
        row = _row(response)
        assert (row.name, row.description, row.path, row.node_id) == (
            "first.txt",
            "before",
            "between",
            "after",
        )
    # The second file part's staged bytes are gone: one blob, the first part's.
    assert len(stored_keys()) == 1


# --- file names and contents ---

NAMES = [
    "plain.txt",
    "../../etc/passwd",
    "a/b/c.txt",
    "C:\\\\windows\\\\evil.exe",  # escaped backslashes in the quoted string
    "nul\x00inside.txt",
    "x" * 1000 + ".txt",
    "\u00e9" * 1000,  # 2000 bytes
    "\U0001f600" * 300,
    "",  # an empty file name
    " spaced .txt ",
    ".hidden",
    "CON",
    "tab\tname.txt",
    "%2e%2e%2fencoded",
    "\u202egnp.exe",
]


@pytest.mark.parametrize("name", NAMES, ids=range(len(NAMES)))
def test_file_names(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [("file", name, b"content")],
        direct_expected=True,
    )
    if direct.status_code != 201:
        _nothing_left()


@pytest.mark.parametrize("content", [b"", b"\x00", b"%PDF-1.4 tiny", b"<html><script>"])
def test_contents(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    content: bytes,
) -> None:
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [("file", "f.bin", content)],
        direct_expected=True,
    )
    if direct.status_code != 201:
        _nothing_left()


def test_a_file_part_named_otherwise_and_a_text_part_named_file(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only a `File` part (seed 003's name): the view wants `file`, a 422; nothing kept.
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [("File", "f.txt", b"x")],
        direct_expected=False,
    )
    assert direct.status_code == 422
    _nothing_left()
    # A text part named `file` before the file part: the view skips it, Django answers.
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [("file", None, b"text"), FILE],
        direct_expected=False,
    )
    assert direct.status_code == 201


# --- limits at the edge ---


def test_the_file_limit_at_its_edge(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs, mine = _sid(), _sid()
    with override_settings(DEPOT_MAX_FILES_PER_SESSION=2):
        answers: dict[str, list[httpx.Response]] = {"django": [], "direct": []}
        for _ in range(3):
            answers["django"].append(
                _through_django(monkeypatch, lambda: _upload_as(tenant.owner_key, theirs))
            )
            answers["direct"].append(_upload_as(tenant.owner_key, mine))
    for expected, direct in zip(answers["django"], answers["direct"], strict=True):
        if direct.status_code == 201:
            _assert_alike(direct, expected)
        else:  # the 409 names the session
            assert direct.status_code == expected.status_code
            assert _headers(direct) == _headers(expected)
            assert direct.content.replace(mine.encode(), theirs.encode()) == expected.content
    assert [r.status_code for r in answers["direct"]] == [201, 201, 409]
    for session_id in (theirs, mine):
        session = Session.objects.get(session_id=session_id)
        assert session.file_count == 2
        assert session.attachments.count() == 2  # type: ignore[attr-defined]
        assert Event.objects.filter(session=session, kind="attachment.created").count() == 2


def test_the_quota_at_its_edge(
    tenant: Tenant,
    stranger: Stranger,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two organizations with the same quota: one through Django, one direct."""
    with override_settings(DEPOT_STORAGE_QUOTA_BYTES=10):
        for data, status in ((b"123456", 201), (b"7890", 201), (b"x", 413)):
            expected = _through_django(
                monkeypatch, functools.partial(_upload_as, stranger.key, _sid(), data)
            )
            keys = stored_keys()
            before = django_requests.count
            direct = _upload_as(tenant.owner_key, _sid(), data)
            assert django_requests.count == before
            _assert_alike(direct, expected)
            assert direct.status_code == status
            if status != 201:
                assert stored_keys() == keys
    assert Attachment.objects.filter(session__organization=tenant.organization).count() == 2
    assert Session.objects.filter(organization=tenant.organization).count() == 2


# --- Idempotency-Key ---


def _idempotent_sequence(key: str, session_id: str, idem: str) -> list[httpx.Response]:
    """The first request, its replay, and the same key with another body."""
    headers = [("X-API-Key", key), ("Idempotency-Key", idem)]
    url = f"/api/uploads/{session_id}"
    return [
        _call(url, [FILE], headers),
        _call(url, [FILE], headers),
        _call(url, [("file", "f.txt", b"other bytes")], headers),
    ]


@pytest.mark.parametrize("full", [False, True])
def test_idempotency_key_replays_alike(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    full: bool,
) -> None:
    """A 201, or a 409 of a full session (kept too): replayed alike; another body is a 422."""
    theirs, mine = _sid(), _sid()
    with override_settings(DEPOT_MAX_FILES_PER_SESSION=1 if full else 10000):
        if full:
            for session_id in (theirs, mine):
                assert _upload_as(tenant.owner_key, session_id).status_code == 201
        expected = _through_django(
            monkeypatch,
            lambda: _idempotent_sequence(tenant.owner_key, theirs, f"k-{uuid.uuid4().hex}"),
        )
        before = django_requests.count
        direct = _idempotent_sequence(tenant.owner_key, mine, f"k-{uuid.uuid4().hex}")
        assert django_requests.count == before
    assert [r.status_code for r in direct] == [r.status_code for r in expected]
    assert direct[0].status_code == (409 if full else 201)
    for got, want in zip(direct, expected, strict=True):
        assert _headers(got) == [
            (k, str(len(got.content)) if k == "content-length" else v) for k, v in _headers(want)
        ]
        if full:
            assert got.content.replace(mine.encode(), theirs.encode()) == want.content
    # The replay is the first answer, byte for byte.
    assert direct[1].content == direct[0].content
    assert direct[1].headers["idempotent-replayed"] == "true"
    assert direct[2].status_code == 422
    assert Attachment.objects.filter(session__session_id=mine).count() == 1
    assert Event.objects.filter(session__session_id=mine, kind="attachment.created").count() == 1


def test_idempotency_key_freed_by_a_refusal(
    tenant: Tenant, django_requests: DjangoRequests
) -> None:
    """A 422 of the service (a refused type) frees the key: the corrected request runs."""
    idem = f"k-{uuid.uuid4().hex}"
    headers = [("X-API-Key", tenant.owner_key), ("Idempotency-Key", idem)]
    url = f"/api/uploads/{_sid()}"
    with override_settings(DEPOT_ALLOWED_MIME_TYPES=["image/"]):
        assert _call(url, [FILE], headers).status_code == 422
    _nothing_left()
    assert _call(url, [FILE], headers).status_code == 201
    assert django_requests.count == 0
    assert Attachment.objects.count() == 1


# --- concurrency: many uploads into one new session ---


def _concurrent(
    key: str, session_id: str, count: int, extra: Any = lambda index: {}
) -> list[httpx.Response]:
    """`count` uploads at once into `session_id`; `extra(index)`: more headers for one."""
    from config.asgi import application

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return list(
                await asyncio.gather(
                    *(
                        c.post(
                            f"/api/uploads/{session_id}",
                            content=_body([("file", f"f{index}.txt", b"%d" % index)]),
                            headers={
                                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                                "X-API-Key": key,
                                **extra(index),
                            },
                        )
                        for index in range(count)
                    )
                )
            )

    return asyncio.run(go())


def test_concurrent_uploads_into_a_new_session(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 8
    theirs, mine = _sid(), _sid()
    expected = _through_django(monkeypatch, lambda: _concurrent(tenant.owner_key, theirs, count))
    before = django_requests.count
    direct = _concurrent(tenant.owner_key, mine, count)
    assert django_requests.count == before
    assert sorted(r.status_code for r in direct) == sorted(r.status_code for r in expected)
    assert {r.status_code for r in direct} == {201}, [r.text for r in direct]
    for session_id in (theirs, mine):
        session = Session.objects.get(session_id=session_id)
        assert session.file_count == count
        assert Attachment.objects.filter(session=session).count() == count
        assert Event.objects.filter(session=session, kind="attachment.created").count() == count
    assert Session.objects.filter(session_id=mine).count() == 1


def test_concurrent_uploads_at_the_file_limit(
    tenant: Tenant, django_requests: DjangoRequests
) -> None:
    """Eight at once into a new session that may hold three: three 201s, five 409s, and the
    refused leave nothing behind."""
    session_id = _sid()
    with override_settings(DEPOT_MAX_FILES_PER_SESSION=3):
        answers = _concurrent(tenant.owner_key, session_id, 8)
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 5
    assert django_requests.count == 0
    session = Session.objects.get(session_id=session_id)
    assert session.file_count == 3 == Attachment.objects.filter(session=session).count()
    assert Event.objects.filter(session=session, kind="attachment.created").count() == 3
    assert len(stored_keys()) == 3


# --- wake-ups: the watchers of the session learn of the upload either way ---


def test_wake_ups_are_sent_alike(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[list[str]] = []
    original = event_log._send_wake_ups

    async def recording(layer: Any, groups: list[str]) -> None:
        sent.append(list(groups))
        await original(layer, groups)

    monkeypatch.setattr(event_log, "_send_wake_ups", recording)
    theirs, mine = _sid(), _sid()
    assert (
        _through_django(monkeypatch, lambda: _upload_as(tenant.owner_key, theirs)).status_code
        == 201
    )
    via_django = list(sent)
    sent.clear()
    before = django_requests.count
    assert _upload_as(tenant.owner_key, mine).status_code == 201
    assert django_requests.count == before
    assert via_django and len(sent) == len(via_django)

    def shape(groups: list[list[str]]) -> list[list[str]]:
        return [
            ["session" if name.startswith("depot.session.") else name for name in group]
            for group in groups
        ]

    assert shape(sent) == shape(via_django)
    # Each to its own session's group.
    assert {n for g in sent for n in g} != {n for g in via_django for n in g}


# --- seed 003 and other routes still go to Django ---


def test_seed_003_app_uploads_are_djangos(tenant: Tenant, django_requests: DjangoRequests) -> None:
    for session_field in ({}, {"sessionId": _sid()}):
        fields = {"userReference": f"ref-{uuid.uuid4().hex[:6]}", "uploadType": "runtime"}
        parts: list[Part] = [
            (name, None, value.encode()) for name, value in {**fields, **session_field}.items()
        ]
        before = django_requests.count
        response = _call(
            "/api/v2/apps/alpha/environments/default/attachments/upload",
            [*parts, ("File", "app.txt", b"app bytes")],
            [("X-API-Key", tenant.owner_key)],
        )
        assert django_requests.count == before + 1
        assert response.status_code == 201, response.text
        assert response.json()["fileName"] == "app.txt"
    assert Attachment.objects.count() == 2


def test_other_methods_and_routes_are_djangos(
    tenant: Tenant, django_requests: DjangoRequests
) -> None:
    from config.asgi import application

    session_id = _sid()
    assert _upload_as(tenant.owner_key, session_id).status_code == 201
    row = Attachment.objects.get()
    for method, path, status in (
        ("PUT", f"/api/uploads/{session_id}", 405),
        ("PATCH", f"/api/uploads/{session_id}", 405),
        ("POST", f"/api/uploads/{session_id}/{row.attachment_id}", 405),
        ("POST", "/api/uploads/", 404),
        ("POST", f"/api/uploads//{session_id}", 404),
        ("POST", f"/api/uploads/{session_id}%2Fx", 405),  # the detail route
    ):

        async def go(method: str = method, path: str = path) -> httpx.Response:
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                return await c.request(
                    method,
                    path,
                    content=_body([FILE]),
                    headers={
                        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "X-API-Key": tenant.owner_key,
                    },
                )

        before = django_requests.count
        response = asyncio.run(go())
        assert django_requests.count == before + 1, (method, path)
        assert response.status_code == status, (method, path, response.text)
    assert Attachment.objects.count() == 1
    assert len(stored_keys()) == 1


# --- Django settings the shortcut must not step around ---


@pytest.mark.parametrize(
    ("setting", "headers", "direct_expected", "status"),
    [
        ({"ALLOWED_HOSTS": ["api.example"]}, [], False, 400),
        ({"ALLOWED_HOSTS": ["api.example"]}, [("Host", "api.example")], True, 201),
        ({"ALLOWED_HOSTS": [".example"]}, [("Host", "a.b.example")], True, 201),
        ({"ALLOWED_HOSTS": ["*"]}, [("Host", "anything.test")], True, 201),
        (
            {"USE_X_FORWARDED_HOST": True},
            [("X-Forwarded-Host", "evil.example")],
            False,
            400,
        ),
        (
            {"DISALLOWED_USER_AGENTS": [re.compile(r"^BadBot")]},
            [("User-Agent", "BadBot/1")],
            False,
            403,
        ),
        ({"PREPEND_WWW": True}, [], False, 301),
    ],
)
def test_django_settings_in_the_way(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    setting: dict[str, Any],
    headers: list[tuple[str, str]],
    direct_expected: bool,
    status: int,
) -> None:
    with override_settings(**setting):
        direct, _ = _compare(
            monkeypatch,
            django_requests,
            tenant.owner_key,
            [FILE],
            headers,
            direct_expected=direct_expected,
        )
    assert direct.status_code == status
    if status != 201:
        _nothing_left()


def test_no_key_reads_no_body(tenant: Tenant) -> None:
    answered, read = _body_never_read("", _sid())
    assert (answered, read) == (401, False)
    _nothing_left()


def test_a_file_part_named_like_a_text_field(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file part called `description`: neither path takes it as the description, and its
    staged bytes are dropped."""
    direct, expected = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [("description", "d.txt", b"not a description"), FILE],
        direct_expected=True,
    )
    assert _row(direct).description == _row(expected).description == ""
    assert len(stored_keys()) == 1  # FILE's blob only


def test_a_large_metadata_field(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    """900 kB of three-byte characters: the url-encoded form Django would get is 2.7 MB."""
    metadata = json.dumps({"k": "\u20ac" * 300000}, ensure_ascii=False)
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [("metadata", None, metadata.encode()), FILE],
        direct_expected=True,
    )
    assert direct.status_code == 201
    assert _row(direct).metadata == {"k": "\u20ac" * 300000}


def test_the_list_with_an_empty_accept_header(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the upload, but the same Accept rule (config/gate_reads.JSON_ACCEPTS): an empty
    Accept header is DRF's 406, and the gate's own list answered it with its page (a 200)
    until the rule told a missing header (`*/*`) from an empty one."""
    from config import gate_reads

    client = AsgiClient(tenant.owner_key)
    session_id = _sid()
    assert client.upload(f"/api/uploads/{session_id}", b"x").status_code == 201
    through = client.get(f"/api/uploads/{session_id}", headers={"Accept": ""})
    with monkeypatch.context() as patched:
        # Both of the list's shortcuts (the loop's and the gate's) ask gate_reads.
        patched.setattr(gate_reads, "list_request", lambda scope, headers: None)
        django = client.get(f"/api/uploads/{session_id}", headers={"Accept": ""})
    assert django.status_code == 406
    assert through.status_code == django.status_code


# --- background tasks: queued with the row, or not at all ---


def _tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.count()


def test_a_text_upload_queues_one_extraction_either_way(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _tasks() == 0
    expected = _through_django(
        monkeypatch,
        lambda: _call(f"/api/uploads/{_sid()}", [FILE], [("X-API-Key", tenant.owner_key)]),
    )
    after_django = _tasks()
    direct = _call(f"/api/uploads/{_sid()}", [FILE], [("X-API-Key", tenant.owner_key)])
    assert direct.status_code == expected.status_code == 201
    assert _tasks() - after_django == after_django == 1
    # A type nothing extracts queues nothing, either way.
    binary: list[Part] = [("file", "f.bin", b"\x00\x01\x02")]
    _compare(monkeypatch, django_requests, tenant.owner_key, binary, direct_expected=True)
    assert _tasks() == 2


@pytest.mark.parametrize("kind", ["files", "quota"])
def test_a_refused_text_upload_queues_nothing(
    tenant: Tenant, django_requests: DjangoRequests, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    setting = {"DEPOT_MAX_FILES_PER_SESSION": 1} if kind == "files" else {}
    setting = setting or {"DEPOT_STORAGE_QUOTA_BYTES": 3}
    session_id = _sid()
    if kind == "files":
        assert _upload_as(tenant.owner_key, session_id, b"one").status_code == 201
    tasks, keys, rows = _tasks(), stored_keys(), Attachment.objects.count()
    with override_settings(**setting):
        expected = _through_django(
            monkeypatch, lambda: _upload_as(tenant.owner_key, session_id, b"more bytes")
        )
        direct = _upload_as(tenant.owner_key, session_id, b"more bytes")
    assert direct.status_code == expected.status_code == (409 if kind == "files" else 413)
    assert direct.content == expected.content
    assert (_tasks(), stored_keys(), Attachment.objects.count()) == (tasks, keys, rows)
    assert Session.objects.filter(session_id=session_id).count() == (1 if kind == "files" else 0)


def test_mixed_concurrent_uploads_into_a_new_session(
    tenant: Tenant, django_requests: DjangoRequests
) -> None:
    """Half direct, half through Django (an Accept the shortcut leaves to it), at once, into
    one new session: one session, every file counted once, one event each."""
    session_id, count = _sid(), 8
    answers = _concurrent(
        tenant.owner_key,
        session_id,
        count,
        lambda index: {"Accept": "application/json; charset=utf-8" if index % 2 else "*/*"},
    )
    assert [r.status_code for r in answers] == [201] * count, [r.text for r in answers]
    assert django_requests.count == count // 2
    session = Session.objects.get(session_id=session_id)
    assert session.file_count == count == Attachment.objects.filter(session=session).count()
    assert Event.objects.filter(session=session, kind="attachment.created").count() == count
    assert len({_row(r).name for r in answers}) == count


@pytest.mark.usefixtures("rate_window")
def test_a_rate_limited_key_reads_no_body(tenant: Tenant, settings: Any) -> None:
    from config.rate_limits import Rate

    settings.DEPOT_RATE_LIMIT_WRITES = Rate(1, 60)
    assert _body_never_read(tenant.owner_key, _sid()) == (201, True)
    assert _body_never_read(tenant.owner_key, _sid()) == (429, False)
    assert Attachment.objects.count() == 1


# --- a failure late in the write: after the bytes were promoted and the rows written ---


@pytest.mark.parametrize("error", ["bug", "database", "integrity"])
def test_a_late_failure_leaves_nothing(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    error: str,
) -> None:
    """The event, the last write of the transaction, fails: the session, the row, the blob
    row, the task and the promoted bytes all go, and both paths answer alike."""
    from django.db import IntegrityError, OperationalError

    from sessions_app import events as session_events

    def failing(**kwargs: Any) -> Any:
        if error == "bug":
            raise RuntimeError("a bug after the insert")
        if error == "database":
            raise OperationalError("server closed the connection")
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(session_events, "event_append", failing)
    from attachments.models import Blob

    direct, _ = _compare(
        monkeypatch, django_requests, tenant.owner_key, [FILE], direct_expected=True
    )
    assert direct.status_code == {"bug": 500, "database": 503, "integrity": 500}[error]
    _nothing_left()
    assert not Session.objects.exists()
    assert not Blob.objects.exists()
    assert _tasks() == 0


@override_settings(CORS_ALLOWED_ORIGINS=["https://ui.example"])
@pytest.mark.parametrize("origin", ["https://evil.example", "https://ui.example:443", "null"])
def test_cors_from_other_origins(
    tenant: Tenant,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    origin: str,
) -> None:
    direct, _ = _compare(
        monkeypatch,
        django_requests,
        tenant.owner_key,
        [FILE],
        [("Origin", origin)],
        direct_expected=True,
    )
    allowed = origin == "https://ui.example:443"  # the same origin as no port
    assert ("access-control-allow-origin" in direct.headers) == allowed


def test_concurrent_uploads_at_the_quota(tenant: Tenant, django_requests: DjangoRequests) -> None:
    """A 10-byte quota and one-byte files, eight at once, twice: the first eight fit, then
    only two of the next eight (each alone would fit); the six 413s leave nothing."""
    with override_settings(DEPOT_STORAGE_QUOTA_BYTES=10):
        first = _concurrent(tenant.owner_key, _sid(), 8)
        assert sorted(r.status_code for r in first) == [201] * 8
        keys = stored_keys()
        more = _concurrent(tenant.owner_key, _sid(), 8)
    assert sorted(r.status_code for r in more) == [201] * 2 + [413] * 6, [r.text for r in more]
    assert django_requests.count == 0
    assert Attachment.objects.count() == 10
    assert sum(row.size for row in Attachment.objects.all()) == 10
    # The same eight contents the second time: no new blob, no bytes left by the 413s.
    assert stored_keys() == keys


def test_no_host_header_is_djangos(tenant: Tenant, django_requests: DjangoRequests) -> None:
    """HTTP/1.0 without Host: Django takes the server's name from the scope (allowed here)."""
    from config.asgi import application

    body = _body([FILE])
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = http_scope(
        "POST",
        f"/api/uploads/{_sid()}",
        http_version="1.0",
        headers=[
            (b"x-api-key", tenant.owner_key.encode()),
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    )
    asyncio.run(application(scope, receive, send))
    assert sent[0]["status"] == 201
    assert django_requests.count == 1
    assert Attachment.objects.count() == 1
