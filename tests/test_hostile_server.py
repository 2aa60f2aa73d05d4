"""A hostile client against a real uvicorn, as `make run` starts it (issue 14, holes 2 and 3).

Raw sockets, so the test controls framing and can see *when* the server answers: an answer
that only comes after the whole body was sent means the body was read. The server's temporary
folder and resident memory are measured from outside, through /proc."""

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_embedded_worker import Server, linux_only

MIB = 1024 * 1024

pytestmark = linux_only


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("hostile")
    temp = root / "tmp"
    temp.mkdir()
    running = Server(root, worker="0", TMPDIR=str(temp))
    running.temp = temp  # type: ignore[attr-defined]
    try:
        yield running
    finally:
        running.stop()


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _temp_bytes(server: Server) -> int:
    return sum(p.stat().st_size for p in server.temp.rglob("*") if p.is_file())  # type: ignore[attr-defined]


class Exchange:
    """Send a request head, then body pieces until the server answers or closes."""

    def __init__(self, server: Server, head: str) -> None:
        port = int(server.base.rsplit(":", 1)[1])
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(head.encode("latin-1"))
        self.sent = 0
        self.response = b""

    def feed(
        self, pieces: Iterator[bytes], *, until_bytes: int, watch_temp: Server | None = None
    ) -> None:
        """Send pieces while the server keeps reading, stopping at `until_bytes`, at an answer
        or when the server stops reading for 10 s; then wait up to 10 s for the answer."""
        self.peak_temp = 0
        for piece in pieces:
            if self.sent >= until_bytes:
                break
            readable, writable, _ = select.select([self.sock], [self.sock], [], 10)
            if readable or not writable:
                break  # an answer (or a close) came, or the server stopped reading
            try:
                self.sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            self.sent += len(piece)
            if watch_temp is not None:
                self.peak_temp = max(self.peak_temp, _temp_bytes(watch_temp))
        self.sock.settimeout(10)
        try:
            while not self._complete():
                data = self.sock.recv(65536)
                if not data:
                    break
                self.response += data
        except (TimeoutError, ConnectionResetError):
            pass

    def _complete(self) -> bool:
        head, separator, body = self.response.partition(b"\r\n\r\n")
        if not separator:
            return False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return len(body) >= int(value)
        return True

    @property
    def status(self) -> int:
        return int(self.response.split(b" ", 2)[1]) if self.response else 0

    def close(self) -> None:
        self.sock.close()


def _chunks(piece: bytes) -> Iterator[bytes]:
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    while True:
        yield frame


def _head(method: str, path: str, headers: dict[str, str]) -> str:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return "\r\n".join(lines) + "\r\n\r\n"


def test_an_anonymous_chunked_body_is_refused_before_it_is_read(server: Server) -> None:
    before = _temp_bytes(server)
    exchange = Exchange(
        server,
        _head(
            "POST",
            "/api/sessions",
            {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        ),
    )
    exchange.feed(_chunks(b" " * 256 * 1024), until_bytes=200 * MIB, watch_temp=server)
    exchange.close()
    assert exchange.status == 401
    # The old server spooled all 200 MiB to its temp folder and answered after the last chunk.
    assert exchange.sent < 64 * MIB
    assert exchange.peak_temp - before < MIB


def test_a_declared_gigabyte_on_healthz_is_answered_at_once(server: Server) -> None:
    exchange = Exchange(server, _head("POST", "/healthz", {"Content-Length": str(1024**3)}))
    started = time.monotonic()
    exchange.feed(iter([]), until_bytes=0)
    exchange.close()
    assert exchange.status == 413
    assert time.monotonic() - started < 5


def _fields_body(boundary: str, field_bytes: int, count: int, fill: bytes) -> Iterator[bytes]:
    for number in range(count):
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="f{number}"\r\n\r\n'.encode()
            + fill * field_bytes
            + b"\r\n"
        )
    yield f"--{boundary}--\r\n".encode()


def _post_fields(server: Server, credentials: dict[str, str], fields: int) -> Exchange:
    """A chunked multipart POST of `fields` text fields of 1 MiB of invalid UTF-8 each."""
    boundary = "hostile"
    exchange = Exchange(
        server,
        _head(
            "POST",
            "/api/uploads/s1",
            {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Transfer-Encoding": "chunked",
                **credentials,
            },
        ),
    )
    frames = (
        f"{len(p):x}\r\n".encode() + p + b"\r\n"
        for p in _fields_body(boundary, MIB, fields, b"\xff")
    )
    exchange.feed(frames, until_bytes=(fields + 10) * MIB)
    exchange.close()
    return exchange


def test_text_fields_under_a_fake_session_cookie_cost_no_memory(server: Server) -> None:
    rss_before = _rss(server.process.pid)
    exchange = _post_fields(server, {"Cookie": "theme=mysessionidisfake"}, 10)
    assert exchange.status == 401
    assert _rss(server.process.pid) - rss_before < 20 * MIB


def test_keyed_text_fields_are_cut_off_at_their_cap(server: Server) -> None:
    """50 MiB of fields with a key took the old server from 140 MiB to 1.16 GB, then a 500."""
    key = server.credentials["api_key"]
    rss_before = _rss(server.process.pid)
    exchange = _post_fields(server, {"X-API-Key": key}, 50)
    assert exchange.status in {400, 413}
    body = exchange.response.split(b"\r\n\r\n", 1)[1]
    assert json.loads(body[: body.rindex(b"}") + 1])["detail"]
    assert _rss(server.process.pid) - rss_before < 40 * MIB
    # Nothing was made, and the server still answers.
    listing = Exchange(server, _head("GET", "/api/uploads/s1", {"X-API-Key": key}))
    listing.feed(iter([]), until_bytes=0)
    listing.close()
    assert listing.status == 404


def test_a_keyed_chunked_json_body_stops_at_the_body_cap(server: Server) -> None:
    key = server.credentials["api_key"]
    exchange = Exchange(
        server,
        _head(
            "POST",
            "/api/sessions",
            {"Content-Type": "application/json", "Transfer-Encoding": "chunked", "X-API-Key": key},
        ),
    )
    exchange.feed(_chunks(b" " * 256 * 1024), until_bytes=200 * MIB, watch_temp=server)
    exchange.close()
    assert exchange.status == 413
    assert exchange.sent < 64 * MIB
    # The 10 MiB cap may spool to Django's temp file, never more.
    assert exchange.peak_temp <= 11 * MIB


def test_an_endless_header_line_is_431_and_costs_no_memory(server: Server) -> None:
    """Plain uvicorn accepted a 50 MiB header line (+90 MiB RSS)."""
    rss_before = _rss(server.process.pid)
    port = int(server.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        response = b""
        try:
            while sent < 50 * MIB:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while chunk := sock.recv(65536):
                response += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert response.startswith(b"HTTP/1.1 431 ")
    assert b"limit" in response
    # What the kernel's socket buffers took before the server's answer was seen is counted
    # too (several MiB on loopback); plain uvicorn read all 50 MiB.
    assert sent < 16 * MIB
    assert _rss(server.process.pid) - rss_before < 10 * MIB


def test_a_head_that_trickles_in_is_cut_off(tmp_path: Path) -> None:
    slow = Server(tmp_path, worker="0", DEPOT_HEADER_TIMEOUT_SECONDS="1")
    try:
        port = int(slow.base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            response = b""
            try:
                for _ in range(40):
                    sock.sendall(b"X-Slow: 1\r\n")
                    time.sleep(0.25)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                while chunk := sock.recv(65536):
                    response += chunk
            except (ConnectionResetError, TimeoutError):
                pass
        assert response.startswith(b"HTTP/1.1 408 ")
        # The head would have taken 10 s; the 1 s limit cut it (with room for a loaded machine).
        assert time.monotonic() - started < 8
        # A normal request on a new connection still works.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    finally:
        slow.stop()
