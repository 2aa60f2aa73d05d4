"""Handshake rules for /ws/sessions/{id} (product.md §6): key or cookie, and our origins only.
A refusal is visible to the client: the socket is accepted, then closed with 4401 or 4403."""

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from config.asgi import application
from sessions_app.models import Membership
from tests.support import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


async def _close_code(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> int | None:
    """Connects (the handshake must be accepted) and returns the code of the close that follows
    at once, or None when the socket stays open."""
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
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
    headers = [(b"x-api-key", tenant.owner_key.encode()), (b"origin", b"http://localhost:8000")]
    assert await _close_code("/ws/sessions/s1", headers) is None


def _session_cookie(tenant: Tenant) -> bytes:
    user = get_user_model().objects.create_user("wsuser", password="pw-123-long")
    Membership.objects.create(user=user, organization=tenant.organization)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def test_session_cookie_needs_our_origin(tenant: Tenant) -> None:
    from asgiref.sync import sync_to_async

    cookie = await sync_to_async(_session_cookie)(tenant)
    with_origin = [(b"cookie", cookie), (b"origin", b"http://127.0.0.1:8000")]
    assert await _close_code("/ws/sessions/s1", with_origin) is None
    # A cookie alone (no Origin) could be a cross-site page in an old browser: refused.
    assert await _close_code("/ws/sessions/s1", [(b"cookie", cookie)]) == 4401
