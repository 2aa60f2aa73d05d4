"""The event log, the long-poll and the WebSocket (product.md §2.1, §6)."""

import asyncio
import random
import threading
import time

import httpx
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connection, transaction

from config.asgi import application
from sessions_app import events as event_log
from sessions_app.models import Event, EventKind, Namespace, Session
from tests.support import AsgiClient, Stranger, Tenant, client_with, http_scope

pytestmark = pytest.mark.django_db(transaction=True)

EVENTS = "/api/sessions/{sid}/artifact-events"
SEED_000_KEYS = {
    "artifact_id",
    "attachment_id",
    "node_id",
    "path",
    "size",
    "mime",
    "hash",
    "timestamp",
}


def _upload(client: AsgiClient, session: str, content: bytes, name: str, **fields: str) -> dict:
    response = client.upload(f"/api/uploads/{session}", content, name=name, **fields)
    assert response.status_code == 201, response.text
    return response.json()


async def _get(path: str, key: str, **params: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", timeout=30
    ) as client:
        return await client.get(path, params=params, headers={"X-API-Key": key})


# --- long-poll ---


def test_answers_at_once_with_every_seed_000_key(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    made = _upload(
        asgi_owner,
        "lp",
        b'{"a": 1}',
        "result.json",
        node_id="python_runner",
        path="out/result.json",
    )
    started = time.monotonic()
    response = asgi_owner.get(EVENTS.format(sid="lp"), params={"wait_seconds": 30})
    assert time.monotonic() - started < 5
    body = response.json()
    assert set(body) == {"events", "next_cursor", "has_more", "timed_out"}
    assert (body["next_cursor"], body["has_more"], body["timed_out"]) == (1, False, False)
    event = body["events"][0]
    assert set(event) >= SEED_000_KEYS
    assert event["attachment_id"] == made["attachment_id"] and event["artifact_id"] is None
    assert (event["node_id"], event["path"], event["size"], event["mime"]) == (
        "python_runner",
        "out/result.json",
        8,
        "application/json",
    )
    assert event["hash"] == f"sha256:{made['sha256']}"
    assert isinstance(event["timestamp"], int) and event["created_at"].endswith("Z")
    assert event["event_id"].startswith("evt_") and event["sequence"] == 1
    assert (event["kind"], event["change_type"], event["session_id"]) == (
        "attachment.created",
        "created",
        "lp",
    )


def test_wait_seconds_zero_times_out_at_once(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    _upload(asgi_owner, "t0", b"x", "a.txt")
    body = asgi_owner.get(EVENTS.format(sid="t0"), params={"after": 1, "wait_seconds": 0}).json()
    assert (body["events"], body["next_cursor"], body["timed_out"], body["has_more"]) == (
        [],
        1,
        True,
        False,
    )


def test_an_unknown_session_is_waited_on_not_refused(tenant: Tenant) -> None:
    started = time.monotonic()
    response = AsgiClient(tenant.owner_key).get(
        EVENTS.format(sid="not-yet"), params={"wait_seconds": 0.3}
    )
    assert response.status_code == 200
    assert response.json() == {"events": [], "next_cursor": 0, "has_more": False, "timed_out": True}
    assert time.monotonic() - started >= 0.3


async def test_a_waiting_poll_wakes_as_soon_as_an_event_commits(tenant: Tenant) -> None:
    asgi = AsgiClient(tenant.owner_key)
    poll = asyncio.create_task(_get(EVENTS.format(sid="wake"), tenant.owner_key, wait_seconds=20))
    await asyncio.sleep(0.5)
    assert not poll.done()
    written = time.monotonic()
    await sync_to_async(_upload, thread_sensitive=False)(asgi, "wake", b"hello", "hi.txt")
    response = await asyncio.wait_for(poll, 10)
    assert time.monotonic() - written < 3  # woken, not timed out (the poll timer is 5 s)
    body = response.json()
    assert body["timed_out"] is False and [e["sequence"] for e in body["events"]] == [1]


def test_filters_come_before_limit_and_the_cursor_passes_filtered_events(
    tenant: Tenant, asgi_owner: AsgiClient
) -> None:
    for index in range(6):
        _upload(asgi_owner, "flt", f"text {index}".encode(), f"n{index}.txt")
        _upload(asgi_owner, "flt", b"\x89PNG\r\n\x1a\n" + bytes([index]) * 2000, f"img{index}.png")
    url = EVENTS.format(sid="flt")
    images = asgi_owner.get(
        url, params={"include_mime": "image/", "limit": 4, "wait_seconds": 0}
    ).json()
    assert [e["name"] for e in images["events"]] == ["img0.png", "img1.png", "img2.png", "img3.png"]
    assert images["has_more"] is True and images["next_cursor"] == 8
    rest = asgi_owner.get(
        url, params={"include_mime": "image/", "after": 8, "wait_seconds": 0}
    ).json()
    assert [e["name"] for e in rest["events"]] == ["img4.png", "img5.png"]
    assert rest["has_more"] is False and rest["next_cursor"] == 12
    by_ext = asgi_owner.get(
        url, params={"include_ext": "txt,md", "limit": 50, "wait_seconds": 0}
    ).json()
    assert len(by_ext["events"]) == 6 and all(e["name"].endswith(".txt") for e in by_ext["events"])
    small = asgi_owner.get(url, params={"max_size": 10, "wait_seconds": 0}).json()
    assert {e["mime"] for e in small["events"]} == {"text/plain"}
    combined = asgi_owner.get(
        url,
        params={"include_mime": "IMAGE/", "include_ext": ".png", "max_size": 10, "wait_seconds": 0},
    ).json()
    # Nothing matches: nothing returned, the wait ran out, and the cursor moved past all 12.
    assert (combined["events"], combined["timed_out"], combined["next_cursor"]) == ([], True, 12)


def test_has_more_without_filters(tenant: Tenant, asgi_owner: AsgiClient) -> None:
    for index in range(3):
        _upload(asgi_owner, "more", f"{index}".encode(), f"{index}.txt")
    first = asgi_owner.get(EVENTS.format(sid="more"), params={"limit": 2, "wait_seconds": 0}).json()
    assert (len(first["events"]), first["has_more"], first["next_cursor"]) == (2, True, 2)
    second = asgi_owner.get(
        EVENTS.format(sid="more"), params={"after": 2, "wait_seconds": 0}
    ).json()
    assert (len(second["events"]), second["has_more"], second["next_cursor"]) == (1, False, 3)


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"wait_seconds": 61}, "wait_seconds"),
        ({"wait_seconds": -1}, "wait_seconds"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"after": -1}, "after"),
        ({"after": "x"}, "after"),
        ({"max_size": -1}, "max_size"),
        ({"colour": 1}, "colour"),
    ],
)
def test_bad_parameters_are_422(tenant: Tenant, params: dict, loc: str) -> None:
    response = AsgiClient(tenant.owner_key).get(EVENTS.format(sid="s"), params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", loc]


def test_auth_and_tenancy(tenant: Tenant, stranger: Stranger, asgi_owner: AsgiClient) -> None:
    _upload(asgi_owner, "mine", b"secret", "s.txt")
    no_key = AsgiClient().get(EVENTS.format(sid="mine"))
    assert no_key.status_code == 401 and no_key.headers["www-authenticate"].startswith("Bearer")
    assert AsgiClient("dpt_bad_key").get(EVENTS.format(sid="mine")).status_code == 401
    assert AsgiClient(tenant.owner_key).get(EVENTS.format(sid="bad id")).status_code == 422
    # Another organization waits on its own (empty) session of the same id.
    theirs = (
        AsgiClient(stranger.key).get(EVENTS.format(sid="mine"), params={"wait_seconds": 0.2}).json()
    )
    assert theirs == {"events": [], "next_cursor": 0, "has_more": False, "timed_out": True}
    # A key limited to another workspace cannot read this workspace's session either.
    limited = (
        AsgiClient(tenant.limited_key)
        .get(EVENTS.format(sid="mine"), params={"wait_seconds": 0})
        .json()
    )
    assert limited["events"] == []
    # A read-only key may read.
    assert (
        AsgiClient(tenant.read_only_key)
        .get(EVENTS.format(sid="mine"), params={"wait_seconds": 0})
        .json()["events"]
    )
    assert AsgiClient(tenant.owner_key).post(EVENTS.format(sid="mine")).status_code == 405


def test_every_kind_of_write_is_logged_in_commit_order(
    tenant: Tenant, asgi_owner: AsgiClient, owner
) -> None:  # type: ignore[no-untyped-def]
    made = _upload(asgi_owner, "all", b"one", "1.txt")
    ns = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
    art = owner.post(
        f"{ns}/artifacts", {"name": "A", "content": "v1", "session_id": "all"}, format="json"
    ).json()
    owner.put(f"{ns}/artifacts/{art['artifact_id']}", {"content": "v2"}, format="json")
    owner.put(f"{ns}/artifacts/{art['artifact_id']}", {"summary": "s"}, format="json")
    owner.delete(f"{ns}/artifacts/{art['artifact_id']}")
    asgi_owner.delete(f"/api/uploads/all/{made['attachment_id']}")
    owner.post("/api/sessions/all/complete")
    body = asgi_owner.get(EVENTS.format(sid="all"), params={"wait_seconds": 0}).json()
    assert [(e["sequence"], e["kind"], e["change_type"]) for e in body["events"]] == [
        (1, "attachment.created", "created"),
        (2, "artifact.created", "created"),
        (3, "artifact.version_created", "created"),
        (4, "artifact.updated", "updated"),
        (5, "artifact.deleted", "deleted"),
        (6, "attachment.deleted", "deleted"),
        (7, "session.completed", "updated"),
    ]
    for event in body["events"]:
        assert set(event) >= SEED_000_KEYS


def test_a_rolled_back_write_leaves_no_event(tenant: Tenant) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    session = Session.objects.create(
        organization=tenant.organization, namespace=namespace, session_id="rb"
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        event_log.event_append(
            session=session, kind=EventKind.ATTACHMENT_CREATED, attachment_id="gone"
        )
        raise RuntimeError("the writer failed")
    with transaction.atomic():
        event_log.event_append(
            session=session, kind=EventKind.ATTACHMENT_CREATED, attachment_id="kept"
        )
    assert list(Event.objects.values_list("attachment_id", "sequence")) == [("kept", 1)]
    with pytest.raises(RuntimeError, match="inside the writer"):
        event_log.event_append(session=session, kind=EventKind.ATTACHMENT_CREATED)


# --- namespace feed ---

FEED = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default/events"


def test_namespace_feed_spans_sessions_and_sessionless_artifacts(
    tenant: Tenant, asgi_owner: AsgiClient, owner
) -> None:  # type: ignore[no-untyped-def]
    _upload(asgi_owner, "s1", b"a", "a.txt")
    _upload(asgi_owner, "s2", b"b", "b.txt")
    owner.post(
        "/api/v1/orgs/acme/workspaces/alpha/namespaces/default/artifacts",
        {"name": "loose", "content": "x"},
        format="json",
    )
    body = asgi_owner.get(FEED, params={"wait_seconds": 0}).json()
    assert [(e["namespace_sequence"], e["session_id"], e["sequence"]) for e in body["events"]] == [
        (1, "s1", 1),
        (2, "s2", 1),
        (3, None, None),
    ]
    assert body["next_cursor"] == 3
    assert [e["kind"] for e in body["events"]] == [
        "attachment.created",
        "attachment.created",
        "artifact.created",
    ]
    later = asgi_owner.get(FEED, params={"after": 2, "wait_seconds": 0}).json()
    assert [e["name"] for e in later["events"]] == ["loose"]


def test_namespace_feed_tenancy(tenant: Tenant, stranger: Stranger) -> None:
    assert AsgiClient(stranger.key).get(FEED, params={"wait_seconds": 0}).status_code == 404
    assert AsgiClient(tenant.limited_key).get(FEED, params={"wait_seconds": 0}).status_code == 404
    assert AsgiClient().get(FEED).status_code == 401


async def test_namespace_feed_wakes_on_a_write(tenant: Tenant) -> None:
    asgi = AsgiClient(tenant.owner_key)
    poll = asyncio.create_task(_get(FEED, tenant.owner_key, wait_seconds=20))
    await asyncio.sleep(0.3)
    await sync_to_async(_upload, thread_sensitive=False)(asgi, "any", b"x", "x.txt")
    body = (await asyncio.wait_for(poll, 10)).json()
    assert body["timed_out"] is False and len(body["events"]) == 1


# --- WebSocket ---


async def _socket(path: str, key: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=[(b"x-api-key", key.encode())])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _receive_events(
    communicator: WebsocketCommunicator, count: int, timeout: float = 10
) -> list[tuple[str, dict]]:
    received: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    while sum(len(m["data"]["events"]) for _, m in received) < count:
        message = await communicator.receive_json_from(
            timeout=max(deadline - time.monotonic(), 0.01)
        )
        received.append((message["type"], message))
    return received


async def test_socket_pushes_new_events_with_seed_000_types(tenant: Tenant) -> None:
    asgi = AsgiClient(tenant.owner_key)
    await sync_to_async(_upload, thread_sensitive=False)(asgi, "ws1", b"before", "before.txt")
    communicator = await _socket("/ws/sessions/ws1", tenant.owner_key)
    try:
        made = await sync_to_async(_upload, thread_sensitive=False)(
            asgi, "ws1", b"after", "after.txt"
        )
        messages = await _receive_events(communicator, 1)
        message_type, message = messages[0]
        assert message_type == "artifact_created"
        assert message["data"]["session_id"] == "ws1"
        event = message["data"]["events"][0]
        # Without `after`, only what happened after connecting.
        assert (event["sequence"], event["attachment_id"], event["kind"]) == (
            2,
            made["attachment_id"],
            "attachment.created",
        )
        await sync_to_async(asgi.delete, thread_sensitive=False)(
            f"/api/uploads/ws1/{made['attachment_id']}"
        )
        owner = client_with(tenant.owner_key)
        await sync_to_async(owner.post, thread_sensitive=False)("/api/sessions/ws1/complete")
        later = await _receive_events(communicator, 2)
        kinds = [(kind, m["data"]["events"][0]["kind"]) for kind, m in later]
        assert kinds == [
            ("artifact_deleted", "attachment.deleted"),
            ("session_completed", "session.completed"),
        ]
        assert await communicator.receive_nothing(timeout=0.3)
    finally:
        await communicator.disconnect()


async def test_socket_replays_from_after_then_goes_live(tenant: Tenant) -> None:
    asgi = AsgiClient(tenant.owner_key)
    for index in range(3):
        await sync_to_async(_upload, thread_sensitive=False)(
            asgi, "ws2", f"{index}".encode(), f"{index}.txt"
        )
    communicator = await _socket("/ws/sessions/ws2?after=1", tenant.owner_key)
    try:
        replayed = await _receive_events(communicator, 2)
        assert [e["sequence"] for _, m in replayed for e in m["data"]["events"]] == [2, 3]
        await sync_to_async(_upload, thread_sensitive=False)(asgi, "ws2", b"new", "new.txt")
        live = await _receive_events(communicator, 1)
        assert live[0][1]["data"]["events"][0]["sequence"] == 4
    finally:
        await communicator.disconnect()


async def test_socket_before_the_session_exists(tenant: Tenant) -> None:
    communicator = await _socket("/ws/sessions/born-later", tenant.owner_key)
    try:
        asgi = AsgiClient(tenant.owner_key)
        await sync_to_async(_upload, thread_sensitive=False)(asgi, "born-later", b"x", "x.txt")
        messages = await _receive_events(communicator, 1)
        assert messages[0][1]["data"]["events"][0]["sequence"] == 1
    finally:
        await communicator.disconnect()


@pytest.fixture
def wake_ups_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every channel-layer group message is lost, as channels-redis may do over capacity."""

    async def drop(group: str, message: dict) -> None:
        return None

    monkeypatch.setattr(get_channel_layer(), "group_send", drop)


async def test_dropped_wake_ups_cost_latency_not_events(
    tenant: Tenant, settings, wake_ups_dropped: None
) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_EVENTS_POLL_SECONDS = 0.2
    communicator = await _socket("/ws/sessions/lossy", tenant.owner_key)
    asgi = AsgiClient(tenant.owner_key)
    for index in range(5):
        await sync_to_async(_upload, thread_sensitive=False)(
            asgi, "lossy", f"{index}".encode(), f"{index}.txt"
        )
    received = await _receive_events(communicator, 5, timeout=10)
    sequences = [e["sequence"] for _, m in received for e in m["data"]["events"]]
    assert sequences == [1, 2, 3, 4, 5]
    await communicator.disconnect()


async def test_another_organization_sees_nothing(tenant: Tenant, stranger: Stranger) -> None:
    theirs = await _socket("/ws/sessions/shared", stranger.key)
    try:
        asgi = AsgiClient(tenant.owner_key)
        await sync_to_async(_upload, thread_sensitive=False)(asgi, "shared", b"ours", "ours.txt")
        assert await theirs.receive_nothing(timeout=1)
        # Their own session of the same id works as usual.
        await sync_to_async(_upload, thread_sensitive=False)(
            AsgiClient(stranger.key), "shared", b"t", "t.txt"
        )
        messages = await _receive_events(theirs, 1)
        assert messages[0][1]["data"]["events"][0]["name"] == "t.txt"
    finally:
        await theirs.disconnect()


async def test_malformed_socket_requests_are_closed(tenant: Tenant) -> None:
    for path in ("/ws/sessions/bad.id", "/ws/sessions/ok?after=minus"):
        communicator = WebsocketCommunicator(
            application, path, headers=[(b"x-api-key", tenant.owner_key.encode())]
        )
        connected, _ = await communicator.connect(timeout=5)
        # Accepted, then closed, so the client can read the code (product.md §6).
        assert connected
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 4422,
        }
        await communicator.disconnect()


# --- completeness under concurrency ---


@pytest.mark.postgres
def test_a_reader_sees_every_committed_event_once_in_order(tenant: Tenant) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    session = Session.objects.create(
        organization=tenant.organization, namespace=namespace, session_id="busy"
    )
    feed = event_log.Feed(workspace_id=tenant.workspace.pk, session_id="busy")
    target = 2000
    committed: list[str] = []
    rolled_back: list[str] = []
    lock = threading.Lock()
    stop_reading = threading.Event()
    failures: list[BaseException] = []
    seen: list[tuple[int, str]] = []

    def writer(number: int) -> None:
        rng = random.Random(number)
        step = 0
        try:
            while True:
                with lock:
                    if len(committed) >= target:
                        return
                step += 1
                label = f"w{number}-{step}"
                fail = rng.random() < 0.1
                try:
                    with transaction.atomic():
                        # The transaction is held open 0–300 ms, as real writes are.
                        time.sleep(rng.uniform(0, 0.3))
                        event_log.event_append(
                            session=session, kind=EventKind.ATTACHMENT_CREATED, attachment_id=label
                        )
                        if fail:
                            raise RuntimeError("rolled back")
                        with lock:
                            if len(committed) >= target:
                                raise RuntimeError("enough")
                            committed.append(label)
                except RuntimeError:
                    if fail:
                        with lock:
                            rolled_back.append(label)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    def reader() -> None:
        cursor = 0
        try:
            while not stop_reading.is_set() or cursor < target:
                page = event_log.events_read(feed=feed, after=cursor, limit=50)
                seen.extend((e["sequence"], e["attachment_id"]) for e in page.events)
                cursor = page.next_cursor
                if not page.events:
                    time.sleep(0.01)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    reading = threading.Thread(target=reader)
    reading.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=600)
    stop_reading.set()
    reading.join(timeout=120)
    assert not failures, failures[:3]
    assert [sequence for sequence, _ in seen] == list(range(1, target + 1))
    assert sorted(label for _, label in seen) == sorted(committed)
    assert rolled_back and not set(rolled_back) & {label for _, label in seen}


async def test_waiting_polls_hold_no_threads(tenant: Tenant) -> None:
    """Every middleware is async-capable, so a waiting long-poll parks on the event loop
    instead of a worker thread (a sync-only middleware once cost a thread per poll)."""
    import threading

    before = threading.active_count()
    polls = [
        asyncio.create_task(
            _get(EVENTS.format(sid=f"idle-{index}"), tenant.owner_key, wait_seconds=3)
        )
        for index in range(40)
    ]
    await asyncio.sleep(1.5)
    during = threading.active_count()
    responses = await asyncio.gather(*polls)
    assert all(response.json()["timed_out"] for response in responses)
    assert during - before < 10, (before, during)


def test_static_files_are_still_served() -> None:
    response = AsgiClient().get("/static/admin/css/base.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]


async def test_a_long_poll_survives_dropped_wake_ups(
    tenant: Tenant, settings, wake_ups_dropped: None
) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_LONGPOLL_RECHECK_SECONDS = 0.3
    poll = asyncio.create_task(
        _get(EVENTS.format(sid="lossy-lp"), tenant.owner_key, wait_seconds=20)
    )
    await asyncio.sleep(0.5)
    asgi = AsgiClient(tenant.owner_key)
    await sync_to_async(_upload, thread_sensitive=False)(asgi, "lossy-lp", b"x", "x.txt")
    started = time.monotonic()
    body = (await asyncio.wait_for(poll, 10)).json()
    assert body["timed_out"] is False and len(body["events"]) == 1
    assert time.monotonic() - started < 3  # found by the re-read, long before wait_seconds


async def test_an_abandoned_long_poll_stops_waiting(tenant: Tenant) -> None:
    """A client that goes away cancels its wait: no re-reads and no subscription until the
    deadline (Channels would otherwise read the disconnect only after the wait)."""
    from config.asgi import application as app

    layer = get_channel_layer()
    group = event_log.session_group(tenant.workspace.pk, "gone-away")
    sent: list[dict] = []
    messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

    async def receive() -> dict:
        try:
            return next(messages)
        except StopIteration:
            await asyncio.sleep(0.5)  # the client waits a little, then hangs up
            return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = http_scope(
        "GET",
        "/api/sessions/gone-away/artifact-events",
        query_string=b"wait_seconds=30",
        headers=[(b"host", b"testserver"), (b"x-api-key", tenant.owner_key.encode())],
    )

    def subscribed() -> bool:
        # Both layers keep `groups` as a dict; Redis pub/sub prefixes the group's name.
        return any(group in str(name) and members for name, members in layer.groups.items())

    started = time.monotonic()
    task = asyncio.create_task(app(scope, receive, send))
    await asyncio.sleep(0.3)
    assert subscribed()  # while waiting
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 3
    assert not subscribed()  # and not any more once the client left
    assert not any(m["type"] == "http.response.start" for m in sent)
