"""The `depot` command against a live server (uvicorn on loopback, in this process, so it runs
on the test's database and storage, on either profile). Every subcommand runs as a real
subprocess (`python -m depot_cli`, what the `depot` console script calls) and its --json
output is parsed. Connection drops are real: a loopback proxy cuts the first connection
partway through, and `watch` is taken through a server restart."""

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from attachments.models import Attachment
from sessions_app.models import Session
from tests.conftest import AsgiClient, Stranger, Tenant
from tests.web.live import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


@pytest.fixture
def live() -> Iterator[LiveServer]:
    server = LiveServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Depot:
    """Runs `depot` with DEPOT_URL / DEPOT_API_KEY / DEPOT_NAMESPACE in its environment."""

    def __init__(self, url: str, key: str) -> None:
        self.env = {
            **os.environ,
            "DEPOT_URL": url,
            "DEPOT_API_KEY": key,
            "DEPOT_NAMESPACE": "acme/alpha/default",
        }

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "depot_cli", *args]

    def run(self, *args: str, code: int = 0, stdin: str | None = None, **env: str) -> Any:
        done = subprocess.run(
            self.command("--json", *args),
            env={**self.env, **env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            input=stdin,
            timeout=120,
        )
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        if done.stdout.strip():  # the answer, or per-file results (also when one failed)
            return json.loads(done.stdout)
        if code:  # an error before any result: `{"error", "status"}` on stderr
            last = done.stderr.strip().splitlines()[-1]
            return json.loads(last) if last.startswith("{") else {"text": done.stderr}
        return None


@pytest.fixture
def depot(live: LiveServer, tenant: Tenant) -> Depot:
    return Depot(live.base, tenant.owner_key)


class CuttingProxy:
    """A loopback TCP proxy to `port` that cuts its first connection once `cut_after` bytes
    went through in the chosen direction ("up": client to server, "down": server to client);
    later connections pass untouched."""

    def __init__(self, port: int, cut_after: int, direction: str) -> None:
        self.port, self.cut_after, self.direction = port, cut_after, direction
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.port))
            budget = self.cut_after if self.connections == 1 else None
            for source, sink, direction in ((client, upstream, "up"), (upstream, client, "down")):
                limit = budget if direction == self.direction else None
                threading.Thread(
                    target=self._pipe, args=(source, sink, limit, (client, upstream)), daemon=True
                ).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, limit: int | None, both) -> None:  # type: ignore[no-untyped-def]
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: max(0, limit - sent)])
                    self.cut.set()
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for end in both:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- sessions and files ---


def test_upload_sessions_and_complete(depot: Depot, tmp_path: Path) -> None:
    first, second = tmp_path / "notes.md", tmp_path / "data.json"
    first.write_text("# notes\n")
    second.write_text('{"a": 1}')
    uploaded = depot.run("upload", "run-1", str(first), str(second), "-j", "2")
    assert [Path(u["file"]).name for u in uploaded] == ["notes.md", "data.json"]
    assert all(u["attachment_id"].startswith("att_") and u["retries"] == 0 for u in uploaded)
    assert uploaded[0]["sha256"] == _sha(b"# notes\n")

    listed = depot.run("sessions", "ls")
    assert [s["session_id"] for s in listed] == ["run-1"]
    shown = depot.run("sessions", "show", "run-1")
    assert {a["name"] for a in shown["attachments"]} == {"notes.md", "data.json"}
    assert depot.run("sessions", "complete", "run-1")["status"] == "completed"
    assert depot.run("sessions", "complete", "run-1")["status"] == "completed"  # idempotent
    assert depot.run("sessions", "ls", "--status", "active") == []


def test_an_upload_cut_off_midway_is_retried_once_and_stored_once(
    live: LiveServer, tenant: Tenant, tmp_path: Path
) -> None:
    body = os.urandom(512 * 1024)
    big = tmp_path / "big.bin"
    big.write_bytes(body)
    proxy = CuttingProxy(live.port, cut_after=200 * 1024, direction="up")
    try:
        (result,) = Depot(proxy.url, tenant.owner_key).run("upload", "run-2", str(big))
    finally:
        proxy.close()
    assert proxy.cut.is_set() and proxy.connections >= 2
    assert result["retries"] >= 1 and result["sha256"] == _sha(body)
    assert Attachment.objects.filter(session__session_id="run-2").count() == 1


def test_download_files_by_extension_and_as_zip(
    depot: Depot, asgi_owner: AsgiClient, tmp_path: Path
) -> None:
    for name, data in (("a.md", b"# a"), ("b.json", b"{}"), ("c.txt", b"c")):
        assert asgi_owner.upload("/api/uploads/run-3", data, name=name).status_code == 201
    made = asgi_owner.post(
        f"{NS}/artifacts", json={"name": "plan.md", "content": "v1", "session_id": "run-3"}
    )
    artifact_id = made.json()["artifact_id"]
    asgi_owner.request("PUT", f"{NS}/artifacts/{artifact_id}", json={"content": "v2"})

    everything = depot.run("download", "run-3", "-o", str(tmp_path / "all"))
    assert sorted(Path(r["file"]).name for r in everything) == [
        "a.md",
        "b.json",
        "c.txt",
        "plan.md",
    ]
    assert (tmp_path / "all" / "plan.md").read_text() == "v2"  # the latest version only
    some = depot.run("download", "run-3", "--ext", "md,json", "-o", str(tmp_path / "some"))
    assert sorted(Path(r["file"]).name for r in some) == ["a.md", "b.json", "plan.md"]
    for result in some:
        assert result["sha256"] == _sha(Path(result["file"]).read_bytes())
    (zipped,) = depot.run("download", "run-3", "--zip", "-o", str(tmp_path / "zip"))
    archive = zipfile.ZipFile(zipped["file"])
    assert archive.testzip() is None and len(archive.namelist()) == 4
    assert not list((tmp_path / "all").glob("*.part"))


def test_a_download_cut_off_halfway_resumes_to_the_right_sha256(
    live: LiveServer, tenant: Tenant, asgi_owner: AsgiClient, tmp_path: Path
) -> None:
    body = os.urandom(4 * 1024 * 1024)
    assert asgi_owner.upload("/api/uploads/run-4", body, name="big.bin").status_code == 201
    proxy = CuttingProxy(live.port, cut_after=2 * 1024 * 1024, direction="down")
    try:
        (cut,) = Depot(proxy.url, tenant.owner_key).run(
            "download", "run-4", "-o", str(tmp_path), code=1
        )
    finally:
        proxy.close()
    assert "connection lost" in cut["error"]
    partial = tmp_path / "big.bin.part"
    assert proxy.cut.is_set() and partial.exists()
    kept = partial.stat().st_size
    assert 0 < kept < len(body)
    assert not (tmp_path / "big.bin").exists()

    (resumed,) = Depot(live.base, tenant.owner_key).run("download", "run-4", "-o", str(tmp_path))
    assert resumed["resumed_from"] == kept
    assert resumed["sha256"] == _sha(body) == _sha((tmp_path / "big.bin").read_bytes())
    assert not partial.exists()


# --- watch ---


def _read_event(process: subprocess.Popen, seconds: float = 20) -> dict:  # type: ignore[type-arg]
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(process.stdout.readline()))  # type: ignore[union-attr]
    reader.start()
    reader.join(seconds)
    assert found and found[0], "no event from depot watch"
    return json.loads(found[0])


def test_watch_survives_a_server_restart_without_losing_or_repeating(
    depot: Depot, live: LiveServer, asgi_owner: AsgiClient
) -> None:
    assert asgi_owner.upload("/api/uploads/run-5", b"1", name="one.txt").status_code == 201
    process = subprocess.Popen(
        depot.command("--json", "watch", "run-5", "--count", "4", "--timeout", "90"),
        env=depot.env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seen = [_read_event(process)]
        assert asgi_owner.upload("/api/uploads/run-5", b"2", name="two.txt").status_code == 201
        seen.append(_read_event(process))
        live.stop()  # every socket closes; the watcher retries while the server is down
        for name in ("three.txt", "four.txt"):
            assert asgi_owner.upload("/api/uploads/run-5", b"x", name=name).status_code == 201
        time.sleep(0.5)
        live.start()
        seen += [_read_event(process), _read_event(process)]
        assert process.wait(30) == 0, process.stderr.read()  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [e["sequence"] for e in seen] == [1, 2, 3, 4]
    assert [e["name"] for e in seen] == ["one.txt", "two.txt", "three.txt", "four.txt"]


def test_watch_over_the_long_poll_and_from_a_cursor(depot: Depot, asgi_owner: AsgiClient) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        assert asgi_owner.upload("/api/uploads/run-6", b"x", name=name).status_code == 201
    done = subprocess.run(
        depot.command(
            "--json", "watch", "run-6", "--after", "1", "--count", "2", "--transport", "poll"
        ),
        env=depot.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["sequence"] for e in events] == [2, 3]
    session = Session.objects.get(session_id="run-6")
    assert session.last_event_sequence == 3


# --- artifacts and search ---


def test_artifacts_put_get_versions_diff_download_ls_and_search(
    depot: Depot, tmp_path: Path, settings: Any
) -> None:
    settings.DEPOT_SEMANTIC_SEARCH = "off"
    made = depot.run(
        "artifacts",
        "put",
        "--content",
        "line one\nline two\n",
        "--name",
        "plan",
        "--session",
        "run-7",
    )
    artifact_id = made["artifact_id"]
    assert made["version"] == 1
    second = depot.run(
        "artifacts", "put", "--id", artifact_id, "--content", "-", stdin="line one\nline 2\n"
    )
    assert second["version"] == 2
    report = tmp_path / "report.csv"
    report.write_text("name,score\nada,3\n")
    filed = depot.run("artifacts", "put", str(report), "--type", "report")
    assert filed["name"] == "report.csv" and filed["version"] == 1

    got = depot.run("artifacts", "get", artifact_id)
    assert got["version"] == 2 and got["content"] == "line one\nline 2\n"
    assert depot.run("artifacts", "get", artifact_id, "--version", "1")["content"].endswith("two\n")
    content = subprocess.run(
        depot.command("artifacts", "get", filed["artifact_id"], "--content"),
        env=depot.env,
        capture_output=True,
        timeout=60,
    )
    assert content.returncode == 0 and content.stdout == b"name,score\nada,3\n"

    versions = depot.run("artifacts", "versions", artifact_id)
    assert [v["version"] for v in versions["versions"]] == [2, 1]
    diff = depot.run("artifacts", "diff", artifact_id)
    assert (diff["from"], diff["to"]) == (1, 2)
    assert "-line two" in diff["diff"] and "+line 2" in diff["diff"]

    saved = depot.run(
        "artifacts", "download", filed["artifact_id"], "-o", str(tmp_path / "out.csv")
    )
    assert Path(saved["file"]).read_bytes() == report.read_bytes()
    assert saved["sha256"] == _sha(report.read_bytes())
    one = depot.run("artifacts", "download", artifact_id, "--version", "1", "-o", str(tmp_path))
    assert Path(one["file"]).read_text() == "line one\nline two\n" and one["version"] == 1

    # A file artifact's versions: diffed, and its first version downloaded by number.
    report.write_text("name,score\nada,4\n")
    assert depot.run("artifacts", "put", str(report), "--id", filed["artifact_id"])["version"] == 2
    file_diff = depot.run("artifacts", "diff", filed["artifact_id"])
    assert "-ada,3" in file_diff["diff"] and "+ada,4" in file_diff["diff"]
    first = depot.run(
        "artifacts", "download", filed["artifact_id"], "--version", "1", "-o", str(tmp_path / "v1")
    )
    assert Path(first["file"]).read_text() == "name,score\nada,3\n"

    listed = depot.run("artifacts", "ls")
    assert {a["root_artifact_id"] for a in listed} == {artifact_id, filed["artifact_id"]}
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", verbosity=0)
    found = depot.run("search", "ada", "score")
    assert [h["artifact"]["root_artifact_id"] for h in found["results"]] == [filed["artifact_id"]]


# --- exit codes ---


def test_exit_codes(
    depot: Depot,
    live: LiveServer,
    tenant: Tenant,
    stranger: Stranger,
    tmp_path: Path,
    settings: Any,
) -> None:
    small = tmp_path / "small.txt"
    small.write_text("hello")
    # 2: usage, as click sees it or as the server refused the request.
    missing = subprocess.run(depot.command("upload"), env=depot.env, capture_output=True)
    assert missing.returncode == 2
    assert "FILE or --content" in depot.run("artifacts", "put", code=2)["error"]
    no_namespace = depot.run("artifacts", "ls", code=2, DEPOT_NAMESPACE="")
    assert "namespace" in no_namespace["error"]
    assert "--limit" in depot.run("sessions", "ls", "--limit", "0", code=2)["text"]
    settings.DEPOT_MAX_UPLOAD_BYTES = 3
    (too_big,) = depot.run("upload", "run-8", str(small), code=2)
    assert too_big["status"] == 413 and "error" in too_big
    settings.DEPOT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    made = depot.run("upload", "run-8", str(small))[0]
    assert made["size"] == 5
    # 3: authentication or permission.
    assert depot.run("sessions", "ls", code=3, DEPOT_API_KEY="dpt_nope_nope")["status"] == 401
    assert "API key" in depot.run("sessions", "ls", code=3, DEPOT_API_KEY="")["error"]
    read_only = depot.run(
        "sessions", "complete", "run-8", code=3, DEPOT_API_KEY=tenant.read_only_key
    )
    assert read_only["status"] in (403, 404)
    # 4: not found, also another organization's session.
    assert depot.run("sessions", "show", "no-such", code=4)["status"] == 404
    assert depot.run("artifacts", "get", "art_nope", code=4)["status"] == 404
    Depot(live.base, stranger.key).run("upload", "theirs", str(small))
    assert depot.run("sessions", "show", "theirs", code=4)["status"] == 404
    assert depot.run("watch", "theirs", "--count", "1", code=4)["status"] == 404
    # 1: the server cannot be reached.
    gone = depot.run("sessions", "ls", code=1, DEPOT_URL="http://127.0.0.1:9")
    assert "cannot reach" in gone["error"]


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("depot")
    if not script.exists():
        pytest.skip("the package is not installed with its scripts (pip install -e .)")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Exit codes" in done.stdout
