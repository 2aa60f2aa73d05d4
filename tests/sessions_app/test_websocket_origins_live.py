"""WebSocket origins through a real uvicorn (issue 12): an `Origin` is ours only when scheme,
host and port match the socket's own (or a configured origin), so another port or the other
scheme of an allowed host is refused with 4403, for keys and for the session cookie alike; an
explicit default port is the implied one. The client is the `websockets` library, as a
non-browser client; test_websocket_auth.py has the same rules through Channels' communicator,
and test_websocket_hostile.py every other refusal's close code (4401, 4404, 4422)."""

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from sessions_app.models import Membership
from tests.support import Tenant
from tests.support.live_server import live_uvicorn

pytestmark = pytest.mark.django_db(transaction=True)

CONFIGURED = "https://app.example.test"


@pytest.fixture(scope="module")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """host:port of a uvicorn with one configured origin."""
    root = tmp_path_factory.mktemp("ws-origins")
    # This process's secret key, so the server accepts the sessions the tests sign in here.
    env = {"DEPOT_ALLOWED_ORIGINS": CONFIGURED, "DJANGO_SECRET_KEY": settings.SECRET_KEY}
    with live_uvicorn(root, name="ws-origins", env=env) as (
        _process,
        base,
        _log,
    ):
        yield urlsplit(base).netloc


def _outcome(client: ClientConnection) -> int | str:
    """ "open" when the socket answers a ping, else the code of the server's close frame."""
    try:
        client.send('{"type": "ping"}')
        assert json.loads(client.recv(timeout=5))["type"] == "pong"
        return "open"
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server dropped the socket without a close frame"
        return closed.rcvd.code


def _socket(
    server: str, *, origin: str | None, headers: dict[str, str], host: str | None = None
) -> int | str:
    """Connects to `server` (sending `Host: host` when given) and returns `_outcome`."""
    sock = None
    if host is not None:
        address, port = server.rsplit(":", 1)
        sock = socket.create_connection((address, int(port)), timeout=10)
    url = f"ws://{host or server}/ws/sessions/live-origins"
    with connect(
        url,
        sock=sock,
        origin=origin,  # type: ignore[arg-type]  # websockets types it as its Origin NewType
        additional_headers=headers,
        open_timeout=10,
    ) as client:
        return _outcome(client)


def _cookie(tenant: Tenant) -> str:
    user = get_user_model().objects.create_user("wslive", password="pw-123-long")
    Membership.objects.create(user=user, organization=tenant.organization)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture(params=["key", "cookie"])
def credentials(request: pytest.FixtureRequest, tenant: Tenant) -> dict[str, str]:
    if request.param == "key":
        return {"X-API-Key": tenant.owner_key}
    return {"Cookie": _cookie(tenant)}


def test_only_the_sockets_own_scheme_host_and_port_are_ours(
    server: str, credentials: dict[str, str]
) -> None:
    port = int(server.rsplit(":", 1)[1])
    assert _socket(server, origin=f"http://{server}", headers=credentials) == "open"
    assert _socket(server, origin=CONFIGURED, headers=credentials) == "open"
    for foreign in (
        f"http://127.0.0.1:{port + 1}",  # another port of an allowed host
        "http://127.0.0.1",
        f"https://127.0.0.1:{port}",  # the other scheme
        f"http://localhost:{port}",  # another allowed host
        f"{CONFIGURED}:8443",  # another port of the configured origin
        "http://app.example.test",  # ... its other scheme
    ):
        assert _socket(server, origin=foreign, headers=credentials) == 4403, foreign


def test_an_explicit_default_port_is_the_implied_one(
    server: str, credentials: dict[str, str]
) -> None:
    # The client connects to the server's port but sends `Host: 127.0.0.1` (port 80 implied).
    for origin in ("http://127.0.0.1", "http://127.0.0.1:80"):
        assert _socket(server, origin=origin, headers=credentials, host="127.0.0.1") == "open"
    assert _socket(server, origin=f"http://{server}", headers=credentials, host="127.0.0.1") == 4403
    assert (
        _socket(server, origin="https://127.0.0.1:443", headers=credentials, host="127.0.0.1")
        == 4403
    )


def test_the_scheme_is_the_connections(server: str, credentials: dict[str, str]) -> None:
    """uvicorn's proxy headers (trusted from 127.0.0.1 by default) make this socket `wss`:
    then only the https origin is its own."""
    forwarded = {**credentials, "X-Forwarded-Proto": "https"}
    assert _socket(server, origin=f"https://{server}", headers=forwarded) == "open"
    assert _socket(server, origin=f"http://{server}", headers=forwarded) == 4403


def test_without_an_origin_a_key_is_accepted_and_the_cookie_is_not(
    server: str, tenant: Tenant
) -> None:
    assert _socket(server, origin=None, headers={"X-API-Key": tenant.owner_key}) == "open"
    cookie = {"Cookie": _cookie(tenant)}
    assert _socket(server, origin=None, headers=cookie) == 4401
