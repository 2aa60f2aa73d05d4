"""Faults in the parts Depot stands on, with real processes (issue 14, "Faults"): a real uvicorn
serving Depot, a real client, and the dependency itself stopped under it.

- S3 gone in the middle of a streamed upload: a JSON 503, nothing kept, and once S3 is back
  `collect_orphans` leaves no bytes and the next upload works.
- Redis stopped: HTTP keeps working, events still reach a long-poll and a WebSocket by their
  timers, and `/readyz` says Redis is down.
- SIGKILL during 50 concurrent uploads (PostgreSQL and S3): after a restart and
  `collect_orphans`, every committed row has its bytes and nothing else is stored.

The in-process fault tests (a disk that fills, storage failing at promotion, the database
failing after the bytes land) are in tests/test_faults.py.
"""

import contextlib
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import IN_CI, multipart_body
from tests.test_embedded_worker import ROOT, _free_port
from tests.test_settings_profiles import _clean_env

MIB = 1024 * 1024
S3_KEYS = {
    "S3_ACCESS_KEY_ID": "testing",
    "S3_SECRET_ACCESS_KEY": "testing",
    "S3_REGION": "us-east-1",
}


def _binary(name: str, path: str | None = None) -> str:
    """The path of a server binary; a missing one skips the test, but fails it in CI, where
    the binaries are part of the image and a skip would hide a broken one."""
    found = path if path and Path(path).is_file() else shutil.which(name)
    if found is None:
        message = f"{name} is not installed; this fault test needs a real {name}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port}")


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


class DepotServer:
    """Depot under a real uvicorn, as `make run` starts it, with its output kept in a log file
    so a test can read what the server said about a fault."""

    def __init__(self, data_dir: Path, *, setup: bool = True, **extra_env: str) -> None:
        self.env = _clean_env(
            data_dir,
            DEPOT_EMBEDDED_WORKER="0",
            DEPOT_SEMANTIC_SEARCH="off",
            # No task worker here: /readyz reports it without failing on it.
            DEPOT_READYZ_REQUIRE_WORKER="0",
            **extra_env,
        )
        if setup:
            for command in (["migrate", "--noinput"], ["bootstrap"]):
                self.manage(*command)
        self.credentials = json.loads((data_dir / "bootstrap.json").read_text())
        self.headers = {"X-API-Key": self.credentials["api_key"]}
        self.log_path = data_dir / "server.log"
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.start()

    def manage(self, *command: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
                    *("--http", "config.http_protocol:BoundedHttpToolsProtocol"),
                    *("--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60  # a shared 2-core machine can be slow to import
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"the server did not start:\n{self.log()}")
            time.sleep(0.1)

    def stop(self) -> None:
        _kill(self.process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def upload(self, session_id: str, content: bytes, name: str = "file.bin") -> requests.Response:
        body, content_type = multipart_body("file", name, content)
        return requests.post(
            f"{self.base}/api/uploads/{session_id}",
            data=body,
            headers={**self.headers, "Content-Type": content_type},
            timeout=30,
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers=self.headers, timeout=30, **kwargs)


# --- Redis stopped ---


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    binary = _binary("redis-server")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(port, process)
    return process


@pytest.fixture
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = _free_port()
    process = _start_redis(port)
    try:
        yield process, port
    finally:
        _kill(process)


def _traceback_headlines(log: str) -> list[str]:
    """The log line above each traceback: the message that carried it (chained tracebacks,
    "During handling of the above exception", count once)."""
    lines = log.splitlines()
    # A structured line (config/logs.py) carries its traceback in `exception`: its headline is
    # the line's own message.
    structured = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "Traceback" in str(entry.get("exception", "")):
            structured.append(str(entry.get("event", "")).strip())
    return structured + [
        lines[index - 1].strip() if index else ""
        for index, line in enumerate(lines)
        if line.startswith("Traceback (most recent call last)")
        and not (index >= 2 and lines[index - 2].startswith("During handling"))
    ]


# channels-redis's own background reader logs each failed read of the pub/sub connection with a
# traceback, at most once a second while anything is subscribed: a fact of the outage, not of
# any request, and out of Depot's reach.
LAYER_READER_TRACEBACK = "Unexpected exception in receive task"


class LongPoll(threading.Thread):
    """`GET /api/sessions/<sid>/artifact-events` waiting in a thread."""

    def __init__(self, server: DepotServer, session_id: str, after: int) -> None:
        super().__init__(daemon=True)
        self.server, self.session_id, self.after = server, session_id, after
        self.response: requests.Response | None = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.response = self.server.get(
                f"/api/sessions/{self.session_id}/artifact-events",
                params={"after": self.after, "wait_seconds": 30},
            )
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error

    def names(self, seconds: float) -> list[str]:
        self.join(timeout=seconds)
        assert not self.is_alive(), "the long-poll did not answer"
        assert self.error is None, repr(self.error)
        assert self.response is not None and self.response.status_code == 200, (
            self.response.text if self.response is not None else None
        )
        return [event["name"] for event in self.response.json()["events"]]


def _pushed_names(websocket: Any, seconds: float) -> tuple[list[str], int]:
    """The names in the next event message on `websocket`, and the last sequence."""
    message = json.loads(websocket.recv(timeout=seconds))
    assert message["type"] == "artifact_created", message
    events = message["data"]["events"]
    return [event["name"] for event in events], events[-1]["sequence"]


def test_with_redis_stopped_http_works_and_events_arrive_by_polling(
    tmp_path: Path, redis_server: tuple[subprocess.Popen[bytes], int]
) -> None:
    from websockets.sync.client import connect

    redis_process, redis_port = redis_server
    server = DepotServer(
        tmp_path,
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        # The timers that carry the events once no wake-up comes.
        DEPOT_EVENTS_POLL_SECONDS="1",
        DEPOT_LONGPOLL_RECHECK_SECONDS="1",
        DEPOT_READYZ_TIMEOUT_SECONDS="2",
    )
    ws_url = f"ws://127.0.0.1:{server.port}/ws/sessions/s1"
    try:
        assert server.get("/readyz").status_code == 200
        assert server.upload("s1", b"before the fault", "before.txt").status_code == 201
        with connect(f"{ws_url}?after=0", additional_headers=server.headers) as watcher:
            names, cursor = _pushed_names(watcher, 10)
            assert names == ["before.txt"]
            waiting = LongPoll(server, "s1", cursor)
            time.sleep(1)  # the long-poll is now subscribed to its wake-up group

            redis_process.kill()
            redis_process.wait()
            outage_log_start = len(server.log())

            started = time.monotonic()
            during = server.upload("s1", b"while redis is down", "during.txt")
            assert during.status_code == 201, during.text
            assert time.monotonic() - started < 5
            listed = server.get("/api/uploads/s1")
            assert listed.status_code == 200, listed.text
            assert {a["name"] for a in listed.json()["attachments"]} == {"before.txt", "during.txt"}

            ready = server.get("/readyz")
            assert ready.status_code == 503, ready.text
            checks = ready.json()["checks"]
            assert (checks["database"], checks["storage"]) == ("ok", "ok")
            assert checks["channel_layer"].startswith("unavailable"), checks
            assert "Redis" in checks["channel_layer"], checks
            assert "Redis" in ready.json()["detail"], ready.json()

            # Both readers that were subscribed when Redis went find the event by their timers.
            assert waiting.names(10) == ["during.txt"]
            names, cursor = _pushed_names(watcher, 10)
            assert names == ["during.txt"]

            # Readers that arrive during the outage cannot subscribe, and still get answers.
            steady_log_start = len(server.log())
            at_once = server.get(
                "/api/sessions/s1/artifact-events", params={"after": 0, "wait_seconds": 0}
            )
            assert at_once.status_code == 200, at_once.text
            assert len(at_once.json()["events"]) == 2
            late_poll = LongPoll(server, "s1", cursor)
            with connect(
                f"{ws_url}?after={cursor}", additional_headers=server.headers, open_timeout=10
            ) as late_watcher:
                time.sleep(0.5)
                assert server.upload("s1", b"later", "late.txt").status_code == 201
                assert late_poll.names(10) == ["late.txt"]
                assert _pushed_names(late_watcher, 10)[0] == ["late.txt"]
                assert _pushed_names(watcher, 10)[0] == ["late.txt"]
            time.sleep(0.5)  # the late socket's disconnect is handled
            steady = _traceback_headlines(server.log()[steady_log_start:])
            assert set(steady) <= {LAYER_READER_TRACEBACK}, server.log()[steady_log_start:]
        time.sleep(0.5)
        outage = _traceback_headlines(server.log()[outage_log_start:])
        # Only what was subscribed when Redis went may say so with a traceback once, on leaving.
        assert all(
            line in {LAYER_READER_TRACEBACK, "Unexpected exception while cleaning-up channel:"}
            for line in outage
        ), server.log()[outage_log_start:]
        assert outage.count("Unexpected exception while cleaning-up channel:") <= 2, outage
    finally:
        server.stop()


# --- S3 gone in the middle of an upload ---


class Link:
    """A TCP relay between Depot and a private moto server. Cutting it is S3 going away, as
    Depot sees it: open connections are reset and new ones refused. moto itself keeps running,
    so the test can still ask it what the failed upload left behind (a moto that is killed
    forgets its whole state, which would make "nothing is left" true of anything)."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = _free_port()
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.up()

    def up(self) -> None:
        self.running = True
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while self.running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.connections |= {client, upstream}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def cut(self) -> None:
        self.running = False
        self.listener.close()
        with self.lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                # Linger 0: the close resets the connection, as a dead peer's kernel does.
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@pytest.fixture
def moto() -> Iterator[tuple[int, Any]]:
    """A private moto S3 server; yields its port and a boto3 client talking to it directly."""
    import boto3

    binary = _binary("moto_server", str(Path(sys.executable).parent / "moto_server"))
    port = _free_port()
    process = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, process)
        client = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        yield port, client
    finally:
        _kill(process)


def _stored(client: Any, bucket: str) -> tuple[list[str], list[str]]:
    """Every object key in `bucket`, and every multipart upload still open in it (its parts
    are stored bytes too, though no object listing shows them)."""
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    uploads = [
        item["Key"] for item in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    ]
    return keys, uploads


def _rows(data_dir: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(data_dir / "depot.sqlite3")) as database:
        return {
            table: database.execute(query).fetchone()[0]
            for table, query in (
                ("attachments_attachment", "SELECT count(*) FROM attachments_attachment"),
                ("attachments_blob", "SELECT count(*) FROM attachments_blob"),
                ("sessions_app_event", "SELECT count(*) FROM sessions_app_event"),
            )
        }


class SlowUpload:
    """One multipart upload sent by hand over a socket, a piece at a time, watching for an
    answer between pieces: a server that answers early is heard, not mistaken for a reset."""

    def __init__(self, server: DepotServer, session_id: str, size: int) -> None:
        body, content_type = multipart_body("file", "big.bin", b"\0" * size)
        self.body = body
        head = (
            f"POST /api/uploads/{session_id} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-API-Key: {server.credentials['api_key']}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.sock.sendall(head.encode())
        self.sent = 0
        self.answered = False
        self.response = b""

    def send(self, until: int, piece: int = 256 * 1024, pause: float = 0.01) -> None:
        while self.sent < min(until, len(self.body)) and not self.answered:
            readable, _, _ = select.select([self.sock], [], [], 0)
            if readable:
                self.answered = True
                return
            end = min(self.sent + piece, len(self.body))
            try:
                self.sock.sendall(self.body[self.sent : end])
            except (BrokenPipeError, ConnectionResetError):
                # The server answered and stopped reading between our look and this piece:
                # its answer is still to be read.
                self.answered = True
                return
            self.sent = end
            time.sleep(pause)

    def answer(self, seconds: float) -> tuple[int, dict[str, str], bytes]:
        self.sock.settimeout(seconds)
        while True:
            head, separator, body = self.response.partition(b"\r\n\r\n")
            if separator:
                lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:])
                }
                if len(body) >= int(headers.get("content-length", "0")):
                    return int(lines[0].split()[1]), headers, body
            data = self.sock.recv(65536)
            if not data:
                raise AssertionError(f"the connection closed without an answer: {self.response!r}")
            self.response += data


def _open_multipart_parts(client: Any, bucket: str) -> int:
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return sum(
        len(client.list_parts(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts", []))
        for u in uploads
    )


def test_s3_gone_mid_upload_is_a_503_that_leaves_nothing(
    tmp_path: Path, moto: tuple[int, Any]
) -> None:
    moto_port, s3 = moto
    bucket = "depot-faults"
    s3.create_bucket(Bucket=bucket)
    link = Link(moto_port)
    server = DepotServer(
        tmp_path,
        STORAGE_BACKEND="s3",
        S3_BUCKET=bucket,
        S3_ENDPOINT_URL=f"http://127.0.0.1:{link.port}",
        DEPOT_READYZ_TIMEOUT_SECONDS="2",
        **S3_KEYS,
    )
    try:
        upload = SlowUpload(server, "s1", 40 * MIB)
        upload.send(until=20 * MIB)
        # Two 8 MiB parts are in moto: the upload is well under way when S3 goes.
        deadline = time.monotonic() + 20
        while _open_multipart_parts(s3, bucket) < 2:
            assert time.monotonic() < deadline, "the upload never reached S3"
            upload.send(until=upload.sent + 256 * 1024)
        link.cut()
        upload.send(until=len(upload.body))
        status, headers, body = upload.answer(30)
        assert status == 503, body
        assert headers["content-type"] == "application/json"
        assert int(headers["retry-after"]) > 0
        assert "unavailable" in json.loads(body)["detail"]
        upload.sock.close()

        assert _rows(tmp_path) == {
            "attachments_attachment": 0,
            "attachments_blob": 0,
            "sessions_app_event": 0,
        }
        assert server.get("/api/uploads/s1").json().get("attachments", []) == []
        ready = server.get("/readyz")
        assert (ready.status_code, ready.json()["checks"]["database"]) == (503, "ok")
        assert ready.json()["checks"]["storage"].startswith("unavailable"), ready.json()

        link.up()
        server.manage("collect_orphans", "--grace-seconds", "0")
        assert _stored(s3, bucket) == ([], [])

        assert server.get("/readyz").status_code == 200
        content = os.urandom(9 * MIB)  # two parts: the multipart path works again
        created = server.upload("s1", content, "after.bin")
        assert created.status_code == 201, created.text
        streamed = server.get(
            f"/api/sessions/s1/artifacts/{created.json()['attachment_id']}",
            params={"mode": "stream"},
        )
        assert hashlib.sha256(streamed.content).hexdigest() == hashlib.sha256(content).hexdigest()
    finally:
        server.stop()
        link.cut()


# --- SIGKILL during 50 concurrent uploads (PostgreSQL, S3) ---


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """The URL of a database of its own on the PostgreSQL server at DATABASE_URL, dropped
    afterwards: the killed server must not share a database with anything else."""
    import uuid
    from urllib.parse import urlsplit

    import psycopg

    url = os.environ["DATABASE_URL"]
    name = f"depot_kill_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, dbname="postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(url, dbname="postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _paced(content: bytes, name: str, piece: int = 64 * 1024) -> Iterator[bytes]:
    """A multipart body sent a piece at a time, slowly enough that 50 of them are all still
    arriving when the server is killed."""
    body, _ = multipart_body("file", name, content)
    for start in range(0, len(body), piece):
        yield body[start : start + piece]
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.s3
def test_sigkill_during_50_uploads_leaves_whole_rows_and_no_stray_bytes(
    tmp_path: Path, scratch_database: str
) -> None:
    import uuid

    import boto3
    import psycopg

    database_url = scratch_database
    prefix = f"kill-{uuid.uuid4().hex}"
    bucket = os.environ.get("S3_BUCKET", "depot")
    s3 = boto3.client(
        "s3",
        endpoint_url=os.environ["S3_ENDPOINT_URL"],
        aws_access_key_id=os.environ.get("S3_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY", "testing"),
        region_name=os.environ.get("S3_REGION", "us-east-1"),
    )
    env = {
        "DATABASE_URL": database_url,
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": os.environ["S3_ENDPOINT_URL"],
        "S3_BUCKET": bucket,
        "S3_PREFIX": prefix,
    }
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    started = time.monotonic()
    server = DepotServer(tmp_path, **env)

    # Distinct random content; every tenth upload is over one 8 MiB part, so some die in the
    # middle of an S3 multipart upload.
    contents = [os.urandom((9 if index % 10 == 0 else 2) * MIB) for index in range(50)]
    expected = {f"k{index}.bin": hashlib.sha256(c).hexdigest() for index, c in enumerate(contents)}
    answers: dict[str, int | str] = {}

    def upload(index: int) -> None:
        name = f"k{index}.bin"
        _, content_type = multipart_body("file", name, b"")
        try:
            response = requests.post(
                f"{server.base}/api/uploads/kill",
                data=_paced(contents[index], name),
                headers={**server.headers, "Content-Type": content_type},
                timeout=60,
            )
            answers[name] = response.status_code
        except requests.RequestException as error:
            answers[name] = type(error).__name__

    threads = [threading.Thread(target=upload, args=(index,), daemon=True) for index in range(50)]
    try:
        for thread in threads:
            thread.start()
            time.sleep(0.02)
        # Kill once some uploads are committed and the rest are on their way.
        deadline = time.monotonic() + 30
        while sum(status == 201 for status in answers.values()) < 10:
            assert time.monotonic() < deadline, answers
            time.sleep(0.01)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=30)
        acknowledged = {name for name, status in answers.items() if status == 201}
        assert len(acknowledged) < 50, "the kill came after every upload had finished"
        assert set(answers.values()) <= {201, "ConnectionError", "ChunkedEncodingError"}, answers

        server.start()
        report = server.manage("collect_orphans", "--grace-seconds", "0")

        with psycopg.connect(database_url) as database:
            rows = database.execute(
                "SELECT a.uid, a.name, a.sha256, b.sha256 FROM attachments_attachment a"
                " JOIN attachments_blob b ON b.id = a.blob_id"
            ).fetchall()
            events = database.execute("SELECT count(*) FROM sessions_app_event").fetchone()
            blobs = {sha for (sha,) in database.execute("SELECT sha256 FROM attachments_blob")}
        committed = {name for _, name, _, _ in rows}
        # Every answered upload is committed; some more may be (killed after the commit).
        assert acknowledged <= committed, (acknowledged - committed, report)
        assert events == (len(rows),)  # one event per attachment, none for the others
        for uid, name, sha256, blob_sha256 in rows:
            assert sha256 == blob_sha256 == expected[name]
            streamed = server.get(
                f"/api/sessions/kill/artifacts/att_{uid.hex}", params={"mode": "stream"}
            )
            assert streamed.status_code == 200, (name, streamed.text)
            assert hashlib.sha256(streamed.content).hexdigest() == sha256, name

        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
        keys = {item["Key"][len(prefix) + 1 :] for item in listed.get("Contents", [])}
        assert keys == {f"blobs/{sha[:2]}/{sha[2:4]}/{sha}" for sha in blobs}, report
        unfinished = s3.list_multipart_uploads(Bucket=bucket, Prefix=f"{prefix}/")
        assert unfinished.get("Uploads", []) == [], report
        print(
            f"killed with {len(acknowledged)} answered, {len(committed)} committed, "
            f"{50 - len(committed)} lost, {time.monotonic() - started:.0f} s in all; "
            f"collect_orphans: {report.strip().splitlines()[-1]}"
        )
    finally:
        server.stop()
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")
        for item in listed.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
        for unfinished_upload in s3.list_multipart_uploads(Bucket=bucket, Prefix=f"{prefix}/").get(
            "Uploads", []
        ):
            s3.abort_multipart_upload(
                Bucket=bucket, Key=unfinished_upload["Key"], UploadId=unfinished_upload["UploadId"]
            )
