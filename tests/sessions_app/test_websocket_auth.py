"""Handshake rules for /ws/sessions/{id} (product.md §6): key or cookie, and our origins only."""

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from config.asgi import application
from sessions_app.models import Membership
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(
    path: str, headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, code = await communicator.connect(timeout=3)
    await communicator.disconnect()
    return connected, code


async def test_no_key_is_refused(tenant: Tenant) -> None:
    connected, code = await _connect("/ws/sessions/s1")
    assert not connected
    assert code == 4401


async def test_bad_key_is_refused(tenant: Tenant) -> None:
    connected, _ = await _connect("/ws/sessions/s1", [(b"x-api-key", b"dpt_nope_nope")])
    assert not connected


async def test_key_header_without_origin_is_accepted(tenant: Tenant) -> None:
    connected, _ = await _connect("/ws/sessions/s1", [(b"x-api-key", tenant.owner_key.encode())])
    assert connected
    bearer = [(b"authorization", f"Bearer {tenant.owner_key}".encode())]
    assert (await _connect("/ws/sessions/s1", bearer))[0]


async def test_key_in_query_string_is_accepted(tenant: Tenant) -> None:
    connected, _ = await _connect(f"/ws/sessions/s1?api_key={tenant.owner_key}")
    assert connected


async def test_foreign_origin_is_refused_even_with_a_key(tenant: Tenant) -> None:
    headers = [(b"x-api-key", tenant.owner_key.encode()), (b"origin", b"https://evil.example")]
    connected, _ = await _connect("/ws/sessions/s1", headers)
    assert not connected


async def test_own_origin_with_a_key_is_accepted(tenant: Tenant) -> None:
    headers = [(b"x-api-key", tenant.owner_key.encode()), (b"origin", b"http://localhost:8000")]
    assert (await _connect("/ws/sessions/s1", headers))[0]


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
    assert (await _connect("/ws/sessions/s1", with_origin))[0]
    # A cookie alone (no Origin) could be a cross-site page in an old browser: refused.
    assert not (await _connect("/ws/sessions/s1", [(b"cookie", cookie)]))[0]
