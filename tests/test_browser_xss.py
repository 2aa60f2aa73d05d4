"""Stored XSS, proved in a real browser (issue 14, hole 1; the fix is commit 4104d57).

A stored `text/plain, text/html` with a `<script>` body was served inline by the seed-000
stream route, Chromium took the last type of the list and ran the script on Depot's origin,
as whoever was logged in. Here headless Chromium, logged in as an admin (the Django session
cookie of a superuser with a Membership), opens every route that serves stored bytes for rows
whose type was written straight into the database, as rows stored before the fix may hold
anything. No script may run: the page title never becomes 'owned', and each navigation to a
file becomes a download. A control page that is meant to run script shows the harness sees
a script run, so the test cannot pass by seeing nothing.

Chromium is driven over the DevTools protocol with `websockets` (already installed with
uvicorn[standard]); uvicorn runs in this process, on a free loopback port, so the rows the
test writes with the ORM are the rows the server reads."""

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from websockets.sync.client import ClientConnection, connect

from artifacts.models import Artifact
from attachments import storage
from attachments.models import Attachment, parse_attachment_id
from sessions_app.models import Membership
from tests.support import IN_CI, AsgiClient, Tenant
from tests.support.live_server import in_process_uvicorn

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
SESSION = "xss"
SCRIPT = b"<script>document.title='owned'</script>"
SVG_SCRIPT = (
    b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>document.title='owned'</script></svg>"
)
# (stored type, body): a comma list (the hole), active types, and a header injection.
HOSTILE = [
    ("text/plain, text/html", SCRIPT),
    ("text/html", SCRIPT),
    ("image/svg+xml", SVG_SCRIPT),
    ("text/plain\r\nX: y", SCRIPT),
]
OWNED = "owned"


def _chromium_or_skip() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is not installed (Debian: apt-get install chromium chromium-driver)"
    if IN_CI:
        pytest.fail(f"CI needs the browser test: {reason}")
    pytest.skip(reason)


# --- Chromium over the DevTools protocol ---


@dataclass
class Visit:
    """What one navigation did: the page's title afterwards, whether it became a download
    (and what was saved), and the status of the response to the navigation."""

    url: str
    title: str
    download: bytes | None
    status: int | None
    content_type: str | None = None
    text: str = ""  # the page's visible text, when it rendered one
    events: list[str] = field(default_factory=list)


class Browser:
    """Headless Chromium with a fresh profile, one tab per visit."""

    def __init__(self, work: Path) -> None:
        self.profile = work / "profile"
        self.downloads = work / "downloads"
        self.downloads.mkdir(parents=True)
        self.process = subprocess.Popen(
            [
                CHROMIUM,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Chromium writes the port it picked, then the browser's WebSocket path.
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not (active.exists() and len(active.read_text().split()) == 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise AssertionError("Chromium did not start")
            time.sleep(0.05)
        port, path = active.read_text().split()
        self._exit = ExitStack()
        self.socket: ClientConnection = self._exit.enter_context(
            connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=10)
        )
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.call(
            "Browser.setDownloadBehavior",
            {
                "behavior": "allowAndName",
                "downloadPath": str(self.downloads),
                "eventsEnabled": True,
            },
        )

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=15))
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, matches: Callable[[dict[str, Any]], bool], seconds: float) -> dict | None:
        """The first event (already received or arriving within `seconds`) that matches."""
        deadline = time.monotonic() + seconds
        seen = 0
        while True:
            for event in self.events[seen:]:
                if matches(event):
                    return event
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                self.events.append(json.loads(self.socket.recv(timeout=remaining)))
            except TimeoutError:
                return None

    def set_cookie(self, url: str, name: str, value: str) -> None:
        self.call(
            "Storage.setCookies",
            {"cookies": [{"name": name, "value": value, "url": url, "httpOnly": True}]},
        )

    def visit(self, url: str) -> Visit:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        try:
            self.call("Page.enable", session=session)
            self.call("Network.enable", session=session)
            self.events.clear()
            navigation = self.call("Page.navigate", {"url": url}, session=session)

            def in_tab(method: str) -> Callable[[dict[str, Any]], bool]:
                return lambda e: e.get("method") == method and e.get("sessionId") == session

            download: bytes | None = None
            began = self.wait_for(
                lambda e: (
                    e.get("method") == "Browser.downloadWillBegin" and e["params"]["url"] == url
                ),
                seconds=3 if navigation.get("errorText") else 0.1,
            )
            if began is not None:
                guid = began["params"]["guid"]
                done = self.wait_for(
                    lambda e: (
                        e.get("method") == "Browser.downloadProgress"
                        and e["params"]["guid"] == guid
                        and e["params"]["state"] in ("completed", "canceled")
                    ),
                    seconds=10,
                )
                assert done is not None and done["params"]["state"] == "completed", done
                download = (self.downloads / guid).read_bytes()
            else:
                assert not navigation.get("errorText"), navigation
                assert self.wait_for(in_tab("Page.loadEventFired"), seconds=10), url
            # Inline scripts run before the load event; a short settle covers anything later.
            time.sleep(0.05)
            title, text = self.call(
                "Runtime.evaluate",
                {
                    "expression": "[document.title, document.body ? document.body.innerText : '']",
                    "returnByValue": True,
                },
                session=session,
            )["result"]["value"]
            response = self.wait_for(
                lambda e: (
                    in_tab("Network.responseReceived")(e) and e["params"]["type"] == "Document"
                ),
                seconds=0,
            )
            status = content_type = None
            if response is not None:
                status = response["params"]["response"]["status"]
                headers = {
                    k.lower(): v for k, v in response["params"]["response"]["headers"].items()
                }
                content_type = headers.get("content-type")
            names = [event.get("method", "") for event in self.events]
            return Visit(url, title, download, status, content_type, text, names)
        finally:
            self.call("Target.closeTarget", {"targetId": target})

    def close(self) -> None:
        exit_stack = getattr(self, "_exit", None)
        if exit_stack is not None:
            exit_stack.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    _chromium_or_skip()
    running = Browser(tmp_path / "chromium")
    try:
        yield running
    finally:
        running.close()


# --- servers: Depot under uvicorn, and a control page that is meant to run script ---


@pytest.fixture
def depot_url() -> Iterator[str]:
    """Depot under a real uvicorn on a free loopback port, in a thread of this process."""
    with in_process_uvicorn() as url:
        yield url


class _ControlPage(BaseHTTPRequestHandler):
    """`/inline`: the script as a plain HTML page; `/attachment`: the same, as a download."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(SCRIPT)))
        if self.path == "/attachment":
            self.send_header("Content-Disposition", 'attachment; filename="page.html"')
        self.end_headers()
        self.wfile.write(SCRIPT)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def control_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ControlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- rows with hostile stored types ---


@dataclass
class Planted:
    """One stored type, planted as an attachment, an inline artifact and a file artifact."""

    stored_type: str
    body: bytes
    attachment_id: str
    inline_id: str
    file_id: str


def _plant(client: AsgiClient, stored_type: str, body: bytes, index: int) -> Planted:
    uploaded = client.upload(f"/api/uploads/{SESSION}", body, name=f"planted-{index}.txt")
    assert uploaded.status_code == 201, uploaded.text
    attachment_id = uploaded.json()["attachment_id"]
    inline = client.post(
        f"{NS}/artifacts",
        json={
            "name": f"inline-{index}",
            "content": body.decode(),
            "content_type": "text/plain",
            "session_id": SESSION,
        },
    )
    assert inline.status_code == 201, inline.text
    stored = client.upload(
        f"{NS}/artifacts/upload", body, name=f"file-{index}.txt", session_id=SESSION
    )
    assert stored.status_code == 201, stored.text
    inline_id, file_id = inline.json()["artifact_id"], stored.json()["artifact_id"]
    # Straight into the rows, as a row written before types were checked may hold anything.
    Attachment.objects.filter(uid=parse_attachment_id(attachment_id)).update(mime_type=stored_type)
    Artifact.objects.filter(artifact_id__in=[inline_id, file_id]).update(content_type=stored_type)
    return Planted(stored_type, body, attachment_id, inline_id, file_id)


def _admin_cookie(tenant: Tenant) -> str:
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw-x7!")
    Membership.objects.create(user=admin, organization=tenant.organization)
    client = Client()
    client.force_login(admin)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _signed_url(client: AsgiClient, base: str, artifact_id: str) -> str:
    """The artifact's download URL from the API: Depot-signed on local disk. On S3 the API
    hands out S3's own presigned URL, which is not Depot serving, so Depot's signed route is
    asked for with a token of the same kind."""
    answer = client.get(f"{NS}/artifacts/{artifact_id}/download")
    assert answer.status_code == 200, answer.text
    url = answer.json()["download_url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    if url.startswith("http://testserver/"):
        return f"{base}/{path}"
    pk = Artifact.objects.get(artifact_id=artifact_id).pk
    token = storage.sign_download({"a": pk, "x": int(time.time()) + 300})
    return base + reverse("signed-download", kwargs={"token": token})


def test_no_stored_type_runs_script_in_a_logged_in_browser(
    browser: Browser, depot_url: str, control_url: str, asgi_owner: AsgiClient, tenant: Tenant
) -> None:
    # The harness sees a script run, and sees a download, on a page meant for each.
    control = browser.visit(f"{control_url}/inline")
    assert (control.title, control.download) == (OWNED, None), control
    control_download = browser.visit(f"{control_url}/attachment")
    assert control_download.download == SCRIPT and control_download.title != OWNED

    browser.set_cookie(depot_url, settings.SESSION_COOKIE_NAME, _admin_cookie(tenant))
    planted = [_plant(asgi_owner, kind, body, index) for index, (kind, body) in enumerate(HOSTILE)]

    def stream(item_id: str) -> str:
        return f"{depot_url}/api/sessions/{SESSION}/artifacts/{item_id}?mode=stream&download=false"

    checked = 0
    for item in planted:
        file_routes = {
            "seed-000 stream, attachment": stream(item.attachment_id),
            "seed-000 stream, inline artifact": stream(item.inline_id),
            "seed-000 stream, file artifact": stream(item.file_id),
            "seed-001 file, inline artifact": f"{depot_url}/api/artifacts/{item.inline_id}/file",
            "seed-001 file, file artifact": f"{depot_url}/api/artifacts/{item.file_id}/file",
            "signed download": _signed_url(asgi_owner, depot_url, item.file_id),
        }
        for route, url in file_routes.items():
            visit = browser.visit(url)
            where = f"{route} of {item.stored_type!r}: {visit}"
            assert visit.title != OWNED, f"script ran: {where}"
            # A download of exactly the stored bytes: the admin's cookie was good (no 401
            # page) and the browser never rendered them.
            assert visit.download == item.body, f"not a download of the file: {where}"
            checked += 1
        # /content answers JSON (a browser gets DRF's browsable page of it): the script is
        # shown as text, inside a string, and never runs.
        for route, item_id in (("inline", item.inline_id), ("file", item.file_id)):
            visit = browser.visit(f"{depot_url}/api/artifacts/{item_id}/content")
            where = f"seed-001 content, {route} artifact of {item.stored_type!r}: {visit}"
            assert visit.title != OWNED, f"script ran: {where}"
            assert (visit.status, visit.download) == (200, None), where
            assert "document.title='owned'" in visit.text, (
                f"the content is not on the page: {where}"
            )
            checked += 1
    assert checked == len(HOSTILE) * 8
