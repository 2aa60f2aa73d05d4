"""A hostile or careless client on /ws/sessions/{id}: malformed handshakes are accepted and
closed with a 44xx code (product.md §6), odd frames get an answer or an RFC 6455 close, and
nothing the client sends makes the server log a traceback. What each frame gets is written in
sessions_app/consumers.py's docstring."""

import json
import logging
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from config.asgi import application
from tests.support import AsgiClient, Tenant
from tests.support.live_server import live_uvicorn

pytestmark = pytest.mark.django_db(transaction=True)


def _key(tenant: Tenant) -> list[tuple[bytes, bytes]]:
    return [(b"x-api-key", tenant.owner_key.encode())]


async def _close_code(path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """Connects, expects the handshake to be accepted, and returns the close code that follows."""
    communicator = WebsocketCommunicator(application, path, headers=headers)
    try:
        connected, _ = await communicator.connect(timeout=5)
        assert connected, f"{path}: the handshake was refused instead of accepted and closed"
        message = await communicator.receive_output(timeout=5)
        assert message["type"] == "websocket.close", message
        return message["code"]
    finally:
        await communicator.disconnect()


@pytest.fixture
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test when anything logged an error (a traceback included) while it ran."""
    with caplog.at_level(logging.WARNING):
        yield
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors, [record.getMessage() for record in errors]


# --- the handshake ---


@pytest.mark.parametrize(
    "after",
    [
        "%C2%B2",  # "²": str.isdigit() says yes, int() says no
        "%D9%A3",  # "٣", an Arabic-Indic digit: the same
        "9" * 5000,  # past int()'s 4,300-digit limit
        "9" * 19,  # more than a sequence number can be
        "-1",
        "%2B1",  # "+1"
        "1e3",
        "1.0",
        "0x10",
        "%201",  # " 1"
        "1%0A",  # "1\n"
        "",  # `after=` names a cursor and gives none
        "1&after=2",  # two cursors
    ],
)
async def test_a_malformed_after_is_accepted_then_closed_4422(
    tenant: Tenant, no_error_logged: None, after: str
) -> None:
    assert await _close_code(f"/ws/sessions/s1?after={after}", _key(tenant)) == 4422


async def test_after_is_a_decimal_of_at_most_18_digits(tenant: Tenant) -> None:
    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/s1?after={'9' * 18}", headers=_key(tenant)
    )
    try:
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        assert await communicator.receive_nothing(timeout=0.5)
    finally:
        await communicator.disconnect()
    assert await _close_code(f"/ws/sessions/s1?after={'9' * 19}", _key(tenant)) == 4422


@pytest.mark.parametrize("session_id", ["bad.id", "a" * 129, "bad%20id", "%E2%80%AEx", "%FF"])
async def test_a_malformed_session_id_is_accepted_then_closed_4422(
    tenant: Tenant, no_error_logged: None, session_id: str
) -> None:
    assert await _close_code(f"/ws/sessions/{session_id}", _key(tenant)) == 4422


@pytest.mark.parametrize(
    "path", ["/ws/nope", "/ws/sessions/s1/extra", "/ws/sessions/", "/", "/api/sessions"]
)
async def test_an_unknown_path_is_accepted_then_closed_4404(
    tenant: Tenant, no_error_logged: None, path: str
) -> None:
    assert await _close_code(path, _key(tenant)) == 4404


# --- frames from the client ---


async def _open_socket(tenant: Tenant, session: str = "s1") -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, f"/ws/sessions/{session}", headers=_key(tenant)
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _upload(tenant: Tenant, session: str, name: str) -> dict[str, Any]:
    def upload() -> dict[str, Any]:
        response = AsgiClient(tenant.owner_key).upload(f"/api/uploads/{session}", b"x", name=name)
        assert response.status_code == 201, response.text
        return response.json()

    return await sync_to_async(upload, thread_sensitive=False)()


GARBAGE = [
    ("not json", "a message must be a JSON object"),
    ("", "a message must be a JSON object"),
    ("[" * 50_000, "a message must be a JSON object"),  # deep enough to hit RecursionError
    ("[1, 2]", "a message must be a JSON object"),
    ('"ping"', "a message must be a JSON object"),
    ("null", "a message must be a JSON object"),
    ('{"type": "subscribe"}', 'unknown message type; a client sends only {"type": "ping"}'),
    ('{"type": ["ping"]}', 'unknown message type; a client sends only {"type": "ping"}'),
    ('{"no": "type"}', 'unknown message type; a client sends only {"type": "ping"}'),
]


@pytest.mark.parametrize(("frame", "detail"), GARBAGE, ids=[str(i) for i in range(len(GARBAGE))])
async def test_a_text_frame_we_do_not_understand_gets_an_error_and_the_socket_stays(
    tenant: Tenant, no_error_logged: None, frame: str, detail: str
) -> None:
    communicator = await _open_socket(tenant)
    try:
        # send_input, not send_to: the communicator refuses to send an empty text frame.
        await communicator.send_input({"type": "websocket.receive", "text": frame})
        assert await communicator.receive_json_from(timeout=5) == {
            "type": "error",
            "detail": detail,
        }
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=5) == {"type": "pong", "cursor": 0}
    finally:
        await communicator.disconnect()


async def test_events_keep_coming_after_garbage(tenant: Tenant, no_error_logged: None) -> None:
    communicator = await _open_socket(tenant, "garbage")
    try:
        await communicator.send_to(text_data="{oops")
        assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
        made = await _upload(tenant, "garbage", "after-garbage.txt")
        message = await communicator.receive_json_from(timeout=10)
        assert message["type"] == "artifact_created"
        assert message["data"]["events"][0]["attachment_id"] == made["attachment_id"]
    finally:
        await communicator.disconnect()


@pytest.mark.parametrize("frame", [b"\x00\x01", b'{"type": "ping"}', b"\xff\xfe"])
async def test_a_binary_frame_closes_1003_and_nothing_is_sent_after(
    tenant: Tenant, no_error_logged: None, frame: bytes
) -> None:
    communicator = await _open_socket(tenant, "binary")
    try:
        await communicator.send_to(bytes_data=frame)
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1003,
        }
        # A write after the close must not make the consumer send on a closed socket (the
        # server would raise), nor another client frame make it answer.
        await _upload(tenant, "binary", "late.txt")
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_nothing(timeout=1)
    finally:
        await communicator.disconnect()


async def test_an_oversized_text_frame_closes_1009_before_it_is_parsed(
    tenant: Tenant, no_error_logged: None
) -> None:
    communicator = await _open_socket(tenant)
    try:
        # A valid ping, only padded: the size alone decides.
        await communicator.send_json_to({"type": "ping", "pad": "x" * 70_000})
        assert await communicator.receive_output(timeout=5) == {
            "type": "websocket.close",
            "code": 1009,
        }
    finally:
        await communicator.disconnect()


# --- the same through a real uvicorn and a real client library ---


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str

    def log(self) -> str:
        """Stops the server (so everything is flushed) and returns what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """uvicorn as `make run` starts it (default WebSocket settings), on this test's own
    database (committed rows, as `transaction=True` leaves them)."""
    with live_uvicorn(tmp_path, name="ws-hostile", env={}) as (process, base, log_path):
        running = Server(process, log_path, base.removeprefix("http://"))
        try:
            yield running
        finally:
            running.log()


# uvicorn's own entry, not Depot's: its default WebSocket protocol (websockets-sansio) decodes a
# text frame before any application sees it, and logs a bad one with a traceback before closing
# it with 1007 (uvicorn/protocols/websockets/websockets_sansio_impl.py). Nothing in Depot can
# reach that; every other traceback or error line counts.
UVICORN_INVALID_UTF8 = "ERROR:    Invalid UTF-8 sequence received from client."


def _errors_in(log: str) -> list[str]:
    """The log's error entries (a level line and the traceback under it), uvicorn's one above
    excepted. Lines are JSON objects (config/logs.py) or, from before logging is set up, text."""
    structured = []
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        text = f"{entry.get('level', '').upper()}:    {entry.get('event', '')}"
        structured.append(text + ("\n" + entry["exception"] if entry.get("exception") else ""))
        log = log.replace(line, "")
    entries = [*structured, *re.split(r"(?m)^(?=[A-Z]+: )", log)]
    return [
        entry
        for entry in entries
        if (entry.startswith(("ERROR", "CRITICAL")) or "Traceback" in entry)
        and not (
            entry.startswith(UVICORN_INVALID_UTF8)
            and entry.rstrip().splitlines()[-1].startswith("UnicodeDecodeError: ")
        )
    ]


def _closed_with(client: ClientConnection) -> int:
    """Waits for the server's close frame and returns its code (a dropped TCP connection, with
    no close frame, leaves `rcvd` empty and fails here)."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            client.recv(timeout=5)
    assert closed.value.rcvd is not None, "the server dropped the socket without a close frame"
    return closed.value.rcvd.code


def test_a_real_server_answers_garbage_frames_with_close_frames_and_logs_no_traceback(
    tenant: Tenant, server: Server
) -> None:
    url, headers = f"ws://{server.url}/ws/sessions/hostile", {"X-API-Key": tenant.owner_key}
    with connect(url, additional_headers=headers, open_timeout=10) as client:
        client.send("not json")
        assert json.loads(client.recv(timeout=5))["type"] == "error"
        client.send('{"type": "ping"}')
        assert json.loads(client.recv(timeout=5)) == {"type": "pong", "cursor": 0}
        client.send(b"\x00\x01binary")
        assert _closed_with(client) == 1003
    with connect(url, additional_headers=headers, open_timeout=10) as client:
        client.send(json.dumps({"type": "ping", "pad": "x" * 200_000}))
        assert _closed_with(client) == 1009
    with connect(url, additional_headers=headers, open_timeout=10) as client:
        # A text frame that is not UTF-8: uvicorn closes it itself, Depot never sees it.
        client.send(b"\xff\xfe", text=True)
        assert _closed_with(client) == 1007
    assert _errors_in(server.log()) == []


def test_a_real_server_accepts_then_closes_refused_handshakes_and_logs_no_traceback(
    tenant: Tenant, server: Server
) -> None:
    key = {"X-API-Key": tenant.owner_key}
    refused = [
        (f"/ws/sessions/s1?after={'9' * 5000}", key, None, 4422),
        ("/ws/sessions/s1?after=%C2%B2", key, None, 4422),
        ("/ws/sessions/s1?after=-1", key, None, 4422),
        ("/ws/sessions/bad.id", key, None, 4422),
        ("/ws/nope", key, None, 4404),
        ("/ws/sessions/s1", {}, None, 4401),
        ("/ws/sessions/s1?api_key=dpt_%00_x", {}, None, 4401),
        ("/ws/sessions/s1", key, "https://evil.example", 4403),
        ("/ws/sessions/s1", key, "http://[::1", 4403),
    ]
    for path, headers, origin, code in refused:
        with connect(
            f"ws://{server.url}{path}", additional_headers=headers, origin=origin, open_timeout=10
        ) as client:
            assert _closed_with(client) == code, path
    assert _errors_in(server.log()) == []
