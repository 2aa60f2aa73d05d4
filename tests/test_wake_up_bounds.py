"""A channel layer that hangs must not hang writes (sessions_app/events/log.py): a Redis that
accepts connections and never answers (here a real TCP listener on loopback that reads and
never writes) delays a write's end by at most WAKE_UP_SECONDS, and never holds more than
MAX_WAKE_UPS_IN_FLIGHT wake-up tasks; the write itself is kept, with its event."""

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers

from attachments.models import Attachment
from sessions_app.events import log
from sessions_app.models import Event
from tests.conftest import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """redis://… of a listener that accepts, reads and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)  # kept open, never answered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    listener.close()


@pytest.fixture
def hanging_layer(settings, silent_redis: str) -> Iterator[None]:  # type: ignore[no-untyped-def]
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [silent_redis]},
        }
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def test_a_hanging_layer_delays_a_write_by_the_bound_only(
    tenant: Tenant, hanging_layer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "WAKE_UP_SECONDS", 0.5)
    session_id = f"hang-{uuid.uuid4().hex[:8]}"
    started = time.monotonic()
    response = AsgiClient(tenant.owner_key).upload(f"/api/uploads/{session_id}", b"kept")
    took = time.monotonic() - started
    assert response.status_code == 201, response.text
    assert took < 5, f"the write waited {took:.1f} s on a layer that never answers"
    assert Attachment.objects.filter(session__session_id=session_id).count() == 1
    assert Event.objects.filter(session__session_id=session_id).exists()
    assert not log._in_flight  # given up, not left behind


def test_wake_ups_in_flight_are_capped(
    tenant: Tenant, hanging_layer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log, "WAKE_UP_SECONDS", 2.0)
    monkeypatch.setattr(log, "MAX_WAKE_UPS_IN_FLIGHT", 3)
    dropped: list[list[str]] = []
    monkeypatch.setattr(log, "_wake_failed", lambda groups, error: dropped.append(groups))
    import asyncio

    async def many_writes() -> int:
        for number in range(5):
            log._wake([f"depot.test.{number}"])
        most = len(log._in_flight)
        await asyncio.gather(*list(log._in_flight), return_exceptions=True)
        return most

    assert asyncio.run(many_writes()) == 3
    assert len(dropped) >= 2  # the two past the cap, at once (then the three given up)
