"""Handshake rules for /ws/sessions/{id} (product.md §6): key or cookie, and our origins only,
compared by scheme, host and port (sessions_app/ws_auth.py). A refusal is visible to the client:
the socket is accepted, then closed with 4401 or 4403. Through Channels' communicator; the same
through a real uvicorn is in test_websocket_origins_live.py."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from config.asgi import application
from sessions_app.models import Membership
from tests.support import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


async def _close_code(
    path: str, headers: list[tuple[bytes, bytes]] | None = None, scheme: str = "ws"
) -> int | None:
    """Connects (the handshake must be accepted) and returns the code of the close that follows
    at once, or None when the socket stays open."""
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    communicator.scope["scheme"] = scheme  # the application has not run yet: it reads this
    try:
        connected, _ = await communicator.connect(timeout=3)
        assert connected, "a refusal must be accepted and then closed, not refused at handshake"
        if await communicator.receive_nothing(timeout=0.3):
            return None
        message = await communicator.receive_output()
        assert message["type"] == "websocket.close", message
        return message["code"]
    finally:
        await communicator.disconnect()


async def test_no_key_is_refused_with_4401(tenant: Tenant) -> None:
    assert await _close_code("/ws/sessions/s1") == 4401


@pytest.mark.parametrize(
    "headers",
    [
        [(b"x-api-key", b"dpt_nope_nope")],
        [(b"authorization", b"Bearer dpt_nope_nope")],
        [(b"authorization", b"Basic dXNlcjpwYXNz")],  # not a scheme we read: no credentials
    ],
)
async def test_a_bad_key_is_refused_with_4401(
    tenant: Tenant, headers: list[tuple[bytes, bytes]]
) -> None:
    assert await _close_code("/ws/sessions/s1", headers) == 4401


# A NUL reaches the key lookup only through the query string; PostgreSQL would refuse the query.
@pytest.mark.parametrize(
    "api_key", ["dpt_nope_nope", "dpt_%00_x", "%FF" * 300, "dpt_" + "a" * 5000]
)
async def test_a_bad_or_implausible_query_key_is_refused_with_4401(
    tenant: Tenant, api_key: str
) -> None:
    assert await _close_code(f"/ws/sessions/s1?api_key={api_key}") == 4401


async def test_key_header_without_origin_is_accepted(tenant: Tenant) -> None:
    headers = [(b"x-api-key", tenant.owner_key.encode())]
    assert await _close_code("/ws/sessions/s1", headers) is None
    bearer = [(b"authorization", f"Bearer {tenant.owner_key}".encode())]
    assert await _close_code("/ws/sessions/s1", bearer) is None


async def test_key_in_query_string_is_accepted(tenant: Tenant) -> None:
    assert await _close_code(f"/ws/sessions/s1?api_key={tenant.owner_key}") is None


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example",
        b"http://localhost.evil.example:8000",
        b"null",  # sandboxed iframes and file:// pages
        b"http://[::1",  # unparseable: urlsplit raises
        b"http://",
        b"",
    ],
)
async def test_a_foreign_origin_is_refused_with_4403_even_with_a_key(
    tenant: Tenant, origin: bytes
) -> None:
    headers = [(b"x-api-key", tenant.owner_key.encode()), (b"origin", origin)]
    assert await _close_code("/ws/sessions/s1", headers) == 4403


async def test_own_origin_with_a_key_is_accepted(tenant: Tenant) -> None:
    headers = [
        (b"x-api-key", tenant.owner_key.encode()),
        (b"host", b"localhost:8000"),
        (b"origin", b"http://localhost:8000"),
    ]
    assert await _close_code("/ws/sessions/s1", headers) is None


def _session_cookie(tenant: Tenant) -> bytes:
    user = get_user_model().objects.create_user("wsuser", password="pw-123-long")
    Membership.objects.create(user=user, organization=tenant.organization)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def test_session_cookie_needs_our_origin(tenant: Tenant) -> None:
    cookie = await sync_to_async(_session_cookie)(tenant)
    with_origin = [
        (b"cookie", cookie),
        (b"host", b"127.0.0.1:8000"),
        (b"origin", b"http://127.0.0.1:8000"),
    ]
    assert await _close_code("/ws/sessions/s1", with_origin) is None
    # A cookie alone (no Origin) could be a cross-site page in an old browser: refused.
    assert await _close_code("/ws/sessions/s1", [(b"cookie", cookie)]) == 4401


# --- origins are (scheme, host, port) ---


def _with(
    credentials: list[tuple[bytes, bytes]], host: str, origin: str
) -> list[tuple[bytes, bytes]]:
    return [*credentials, (b"host", host.encode()), (b"origin", origin.encode())]


@pytest.fixture
def key(tenant: Tenant) -> list[tuple[bytes, bytes]]:
    return [(b"x-api-key", tenant.owner_key.encode())]


@pytest.fixture
def cookie(tenant: Tenant) -> list[tuple[bytes, bytes]]:
    return [(b"cookie", _session_cookie(tenant))]


@pytest.fixture(params=["key", "cookie"])
def credentials(request: pytest.FixtureRequest, tenant: Tenant) -> list[tuple[bytes, bytes]]:
    """Each test twice: with a key, and with a signed-in browser's session cookie."""
    if request.param == "key":
        return [(b"x-api-key", tenant.owner_key.encode())]
    return [(b"cookie", _session_cookie(tenant))]


@pytest.mark.parametrize(
    ("scheme", "host", "origin"),
    [
        ("ws", "localhost:8000", "http://localhost:8001"),  # another port of an allowed host
        ("ws", "localhost:8000", "http://localhost"),  # ... the default one
        ("ws", "localhost", "http://localhost:8000"),
        ("ws", "localhost:8000", "https://localhost:8000"),  # the other scheme
        ("wss", "localhost:8000", "http://localhost:8000"),
        ("wss", "localhost", "http://localhost"),
        ("ws", "localhost:8000", "http://127.0.0.1:8000"),  # another allowed host
        # A host that is not ours, as after DNS rebinding: its own origin is not ours either.
        ("ws", "rebound.example:8000", "http://rebound.example:8000"),
        ("ws", "", "http://localhost:8000"),  # no Host header at all
        ("ws", "localhost:8000", "http://localhost:8000/path"),  # not an origin
        ("ws", "localhost:8000", "http://user@localhost:8000"),
    ],
)
async def test_another_port_scheme_or_host_is_a_foreign_origin(
    credentials: list[tuple[bytes, bytes]], scheme: str, host: str, origin: str
) -> None:
    headers = _with(credentials, host, origin)
    if not host:
        headers = [(name, value) for name, value in headers if name != b"host"]
    assert await _close_code("/ws/sessions/s1", headers, scheme) == 4403


@pytest.mark.parametrize(
    ("scheme", "host", "origin"),
    [
        ("ws", "localhost:8000", "http://localhost:8000"),
        ("wss", "localhost:8443", "https://localhost:8443"),
        ("ws", "LOCALHOST:8000", "http://localhost:8000"),  # names are case-insensitive
        # An explicit default port is the implied one, on either side.
        ("ws", "localhost", "http://localhost:80"),
        ("ws", "localhost:80", "http://localhost"),
        ("wss", "localhost", "https://localhost:443"),
        ("wss", "localhost:443", "https://localhost"),
        ("ws", "[::1]:8000", "http://[::1]:8000"),
    ],
)
async def test_the_sockets_own_origin_is_ours(
    credentials: list[tuple[bytes, bytes]], scheme: str, host: str, origin: str
) -> None:
    headers = _with(credentials, host, origin)
    assert await _close_code("/ws/sessions/s1", headers, scheme) is None


async def test_configured_origins_match_by_scheme_host_and_port(
    settings: Any, key: list[tuple[bytes, bytes]], cookie: list[tuple[bytes, bytes]]
) -> None:
    settings.DEPOT_ALLOWED_ORIGINS = ["https://app.example.test", "http://tools.example.test:443"]
    for credentials in (key, cookie):
        for origin in ("https://app.example.test", "https://app.example.test:443"):
            assert (
                await _close_code("/ws/sessions/s1", _with(credentials, "localhost", origin))
                is None
            )
        assert (
            await _close_code(
                "/ws/sessions/s1", _with(credentials, "localhost", "http://tools.example.test:443")
            )
            is None
        )
        for origin in (
            "https://app.example.test:8443",
            "http://app.example.test",
            "https://tools.example.test",
            "http://tools.example.test",
        ):
            assert (
                await _close_code("/ws/sessions/s1", _with(credentials, "localhost", origin))
                == 4403
            )


async def test_csrf_trusted_origins_are_ours_as_for_cookie_writes_over_http(
    settings: Any, cookie: list[tuple[bytes, bytes]]
) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://exact.example.test", "https://*.wild.example.test"]
    for origin in ("https://exact.example.test:443", "https://a.wild.example.test"):
        assert await _close_code("/ws/sessions/s1", _with(cookie, "localhost", origin)) is None
    for origin in ("https://exact.example.test:8443", "http://a.wild.example.test"):
        assert await _close_code("/ws/sessions/s1", _with(cookie, "localhost", origin)) == 4403


async def test_a_cors_origin_may_open_a_socket_with_a_key_but_never_with_the_cookie(
    settings: Any, key: list[tuple[bytes, bytes]], cookie: list[tuple[bytes, bytes]]
) -> None:
    settings.CORS_ALLOWED_ORIGINS = ["https://ui.example.test"]
    origin = "https://ui.example.test"
    assert await _close_code("/ws/sessions/s1", _with(key, "localhost", origin)) is None
    assert await _close_code("/ws/sessions/s1", _with(cookie, "localhost", origin)) == 4403
    other_port = "https://ui.example.test:8443"
    assert await _close_code("/ws/sessions/s1", _with(key, "localhost", other_port)) == 4403


async def test_behind_a_trusted_proxy_the_forwarded_scheme_is_the_sockets(
    settings: Any, key: list[tuple[bytes, bytes]]
) -> None:
    forwarded = [*key, (b"x-forwarded-proto", b"https")]
    https = _with(forwarded, "depot.example.test", "https://depot.example.test")
    http = _with(forwarded, "depot.example.test", "http://depot.example.test")
    settings.ALLOWED_HOSTS = ["depot.example.test"]
    # Not trusted (DJANGO_TRUST_X_FORWARDED_PROTO unset): the header changes nothing.
    assert await _close_code("/ws/sessions/s1", https) == 4403
    assert await _close_code("/ws/sessions/s1", http) is None
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await _close_code("/ws/sessions/s1", https) is None
    assert await _close_code("/ws/sessions/s1", http) == 4403
    # Trusted but absent: the connection's own scheme.
    plain = _with(key, "depot.example.test", "https://depot.example.test")
    assert await _close_code("/ws/sessions/s1", plain, "wss") is None
    assert await _close_code("/ws/sessions/s1", plain) == 4403


# --- the same rule for the cookie over HTTP: Django's CSRF origin check ---


@pytest.mark.parametrize(
    ("origin", "trusted", "status"),
    [
        ("http://testserver", [], 201),
        ("http://testserver:8001", [], 403),  # another port
        ("https://testserver", [], 403),  # the other scheme
        ("https://ui.example.test", ["https://ui.example.test"], 201),
        ("https://ui.example.test:8443", ["https://ui.example.test"], 403),
    ],
)
def test_cookie_writes_over_http_compare_origins_the_same_way(
    tenant: Tenant, settings: Any, origin: str, trusted: list[str], status: int
) -> None:
    """A signed-in browser's write (the web pages' uploads) passes Django's CSRF check only from
    the request's own scheme, host and port or `CSRF_TRUSTED_ORIGINS`, which sockets trust too."""
    settings.CSRF_TRUSTED_ORIGINS = trusted
    token = _get_new_csrf_string()
    cookie = f"{_session_cookie(tenant).decode()}; {settings.CSRF_COOKIE_NAME}={token}"
    browser = AsgiClient(headers={"Cookie": cookie, "X-CSRFToken": token, "Origin": origin})
    answer = browser.post("/api/sessions", json={"session_id": "csrf-origin"})
    assert answer.status_code == status, answer.text
    if status == 403:
        assert "Origin checking failed" in answer.text
