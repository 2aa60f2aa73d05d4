"""Wake-ups after a write's commit (sessions_app/events/log.py `_wake`): a request's thread hands
them to the event loop and does not wait for them (issue 11); they are sent in commit order, a
failure is one warning line, and where no loop serves the thread they are sent before `_wake`
returns."""

import asyncio
import logging
import time

import httpx
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from config.asgi import application
from sessions_app import events as event_log
from sessions_app.events import log as event_writes
from sessions_app.models import Namespace
from tests.support import AsgiClient, Tenant, http_scope, multipart_body

pytestmark = pytest.mark.django_db(transaction=True)


async def _upload(key: str, session_id: str, name: str) -> httpx.Response:
    """An upload through the whole ASGI application on this test's event loop, so the view's
    thread is served by this loop, as under uvicorn."""
    body, content_type = multipart_body("file", name, b"woken\n")
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(
            f"/api/uploads/{session_id}",
            content=body,
            headers={"X-API-Key": key, "Content-Type": content_type},
        )


def _expected_groups(tenant: Tenant, session_id: str) -> list[str]:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    return [
        event_log.session_group(tenant.workspace.pk, session_id),
        event_log.namespace_group(namespace.pk),
    ]


async def test_a_write_does_not_wait_for_its_wake_up(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The channel layer holds every wake-up until released: the upload's answer is sent
    anyway (the request's thread used to wait on the loop for the layer, and this upload hung),
    the request ends only once its wake-ups went out, session then namespace."""
    release = asyncio.Event()
    sent: list[str] = []

    async def held(group: str, message: dict) -> None:
        await release.wait()
        sent.append(group)

    monkeypatch.setattr(get_channel_layer(), "group_send", held)
    body, content_type = multipart_body("file", "a.txt", b"woken\n")
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])
    answered = asyncio.Event()
    statuses: list[int] = []

    async def receive() -> dict:
        try:
            return next(messages)
        except StopIteration:
            await asyncio.Event().wait()  # the client stays connected
            raise AssertionError("unreachable") from None

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        if message["type"] == "http.response.body" and not message.get("more_body"):
            answered.set()

    scope = http_scope(
        "POST",
        "/api/uploads/held-wake",
        headers=[
            (b"host", b"testserver"),
            (b"x-api-key", tenant.owner_key.encode()),
            (b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    )
    request = asyncio.create_task(application(scope, receive, send))
    try:
        await asyncio.wait_for(answered.wait(), 10)
        assert statuses == [201]
        assert sent == [] and not request.done()  # answered while its wake-ups wait
    finally:
        release.set()
    await asyncio.wait_for(request, 5)
    assert sent == await sync_to_async(_expected_groups)(tenant, "held-wake")


def test_a_request_on_a_loop_of_its_own_ends_after_its_wake_ups(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test client runs each request on a loop of its own (asyncio.run), which cancels
    what is still running when it ends: the request waits for its wake-ups, so a slow layer
    (Redis) still gets them."""
    sent: list[str] = []

    async def slow(group: str, message: dict) -> None:
        await asyncio.sleep(0.1)
        sent.append(group)

    monkeypatch.setattr(get_channel_layer(), "group_send", slow)
    response = AsgiClient(tenant.owner_key).upload("/api/uploads/own-loop", b"x", name="x.txt")
    assert response.status_code == 201, response.text
    assert sent == _expected_groups(tenant, "own-loop")


async def test_wake_ups_go_out_in_commit_order(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, str]] = []
    layer = get_channel_layer()
    original = layer.group_send

    async def recording(group: str, message: dict) -> None:
        sent.append((group, message["type"]))
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", recording)
    for session_id in ("first-wake", "second-wake", "first-wake"):
        assert (await _upload(tenant.owner_key, session_id, "x.txt")).status_code == 201
    for _ in range(100):
        if len(sent) == 6:
            break
        await asyncio.sleep(0.02)
    groups = [group for group, _ in sent]
    assert {kind for _, kind in sent} == {event_log.WAKEUP_TYPE}
    first = event_log.session_group(tenant.workspace.pk, "first-wake")
    second = event_log.session_group(tenant.workspace.pk, "second-wake")
    assert [g for g in groups if g in (first, second)] == [first, second, first]


async def test_a_failed_wake_up_is_one_warning_line(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def down(group: str, message: dict) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(get_channel_layer(), "group_send", down)
    with caplog.at_level(logging.WARNING, logger=event_writes.__name__):
        response = await _upload(tenant.owner_key, "down-wake", "a.txt")
        assert response.status_code == 201, response.text
        for _ in range(100):
            if any("event wake-up failed" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.02)
    failed = [r for r in caplog.records if "event wake-up failed" in r.getMessage()]
    assert len(failed) == 1
    assert "ConnectionError: redis is down" in failed[0].getMessage()
    assert failed[0].exc_info is None  # one line, not a traceback


def test_without_a_serving_loop_wake_ups_are_sent_before_returning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A management command or the task worker has no loop behind its thread: `_wake` sends
    and waits, as it always did."""
    sent: list[str] = []

    async def slow(group: str, message: dict) -> None:
        await asyncio.sleep(0.05)
        sent.append(group)

    monkeypatch.setattr(get_channel_layer(), "group_send", slow)
    started = time.monotonic()
    event_writes._wake(["depot.namespace.1", "depot.namespace.2"])
    assert sent == ["depot.namespace.1", "depot.namespace.2"]
    assert time.monotonic() - started >= 0.1
