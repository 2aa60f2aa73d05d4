"""A page on another origin calls Depot from real Chromium (issue 12, Browsers).

Depot runs under uvicorn with `DEPOT_CORS_ALLOWED_ORIGINS` naming one page origin; two small
page servers on other loopback ports are that allowed origin and a refused one. From each
page, headless Chromium (Debian's /usr/bin/chromium, driven with playwright, nothing
downloaded) runs `fetch` with `X-API-Key`: a JSON POST and a multipart upload, each preceded by
the browser's own preflight, and a GET whose ETag and Content-Disposition the script reads.
From the allowed page everything works; from the refused one the browser blocks the POST at
its preflight, so nothing is created.

The same pages are an MCP client in the browser (initialize, read `Mcp-Session-Id`, list the
tools with it, end the session) and open the events WebSocket with `?api_key=` (a browser cannot
set headers on one): both page origins are other ports of an allowed host, so the refused
page's socket is closed with 4403, and the CORS origin's, with a key, stays open
(sessions_app/ws_auth.py)."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support import IN_CI
from tests.test_embedded_worker import Server, _free_port

CHROMIUM = "/usr/bin/chromium"
PAGE = b"<!doctype html><html><head><title>ui</title></head><body>ui</body></html>"

# Runs in the page: the calls a UI on another origin makes. Resolves to what the script saw.
SCRIPT = """
async ([base, key, sessionId]) => {
  const seen = {};
  try {
    const made = await fetch(`${base}/api/sessions`, {
      method: "POST",
      headers: {"X-API-Key": key, "Content-Type": "application/json"},
      body: JSON.stringify({session_id: sessionId}),
    });
    seen.create = made.status;
    const form = new FormData();
    form.append("file", new Blob(["hello from a page"], {type: "text/plain"}), "page.txt");
    const up = await fetch(`${base}/api/uploads/${sessionId}`, {
      method: "POST", headers: {"X-API-Key": key}, body: form,
    });
    seen.upload = up.status;
    const id = (await up.json()).attachment_id;
    const got = await fetch(`${base}/api/sessions/${sessionId}/artifacts/${id}?mode=stream`, {
      headers: {"X-API-Key": key},
    });
    seen.stream = got.status;
    seen.body = await got.text();
    seen.etag = got.headers.get("ETag");
    seen.disposition = got.headers.get("Content-Disposition");
    const bad = await fetch(`${base}/api/sessions`, {headers: {"X-API-Key": "dpt_wrong"}});
    seen.badKey = [bad.status, (await bad.json()).detail];
  } catch (error) {
    seen.error = String(error);
  }
  return seen;
}
"""


# An MCP client in the page: Streamable HTTP with fetch. Resolves to what it saw.
MCP_SCRIPT = """
async ([base, key]) => {
  const seen = {};
  const rpc = (body, session) => fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      "Authorization": `Bearer ${key}`,
      "Content-Type": "application/json",
      "Accept": "application/json, text/event-stream",
      ...(session ? {"Mcp-Session-Id": session, "Mcp-Protocol-Version": "2025-06-18"} : {}),
    },
    body: JSON.stringify(body),
  });
  const result = async (answer) => {
    const text = await answer.text();
    const data = text.split("\\n").filter((line) => line.startsWith("data:")).pop();
    return JSON.parse(data ? data.slice(5) : text);
  };
  try {
    const init = await rpc({jsonrpc: "2.0", id: 1, method: "initialize", params: {
      protocolVersion: "2025-06-18", capabilities: {}, clientInfo: {name: "page", version: "1"},
    }});
    seen.initialize = init.status;
    const session = init.headers.get("Mcp-Session-Id");
    seen.session = session;
    seen.serverName = (await result(init)).result.serverInfo.name;
    const ready = await rpc({jsonrpc: "2.0", method: "notifications/initialized"}, session);
    seen.initialized = ready.status;
    const tools = await rpc({jsonrpc: "2.0", id: 2, method: "tools/list"}, session);
    seen.tools = (await result(tools)).result.tools.map((tool) => tool.name);
    const end = await fetch(`${base}/mcp`, {
      method: "DELETE",
      headers: {"Authorization": `Bearer ${key}`, "Mcp-Session-Id": session},
    });
    seen.deleted = end.status;
  } catch (error) {
    seen.error = String(error);
  }
  return seen;
}
"""

# The events WebSocket from the page, with the key in the query string.
SOCKET_SCRIPT = """
([url]) => new Promise((resolve) => {
  const socket = new WebSocket(url);
  let opened = false;
  socket.onopen = () => { opened = true; socket.send(JSON.stringify({type: "ping"})); };
  socket.onmessage = (message) => { resolve({opened, message: JSON.parse(message.data)}); };
  socket.onclose = (event) => resolve({opened, code: event.code});
  setTimeout(() => resolve({opened, timeout: true}), 10000);
})
"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def page_origins() -> Iterator[tuple[str, str]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", _free_port()), _Page) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        allowed, refused = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
        yield allowed, refused
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def depot(
    tmp_path_factory: pytest.TempPathFactory, page_origins: tuple[str, str]
) -> Iterator[Server]:
    running = Server(
        tmp_path_factory.mktemp("cors-depot"),
        worker="0",
        DEPOT_CORS_ALLOWED_ORIGINS=page_origins[0],
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed (Debian: apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"CI needs the browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            browser.close()


def _in_page(chromium: Any, origin: str, script: str, arguments: list[str]) -> dict[str, Any]:
    page = chromium.new_page()
    try:
        page.goto(f"{origin}/", timeout=20_000)
        return page.evaluate(script, arguments)
    finally:
        page.close()


def _from_page(chromium: Any, origin: str, depot: Server, session_id: str) -> dict[str, Any]:
    return _in_page(
        chromium, origin, SCRIPT, [depot.base, depot.credentials["api_key"], session_id]
    )


def test_a_page_on_an_allowed_origin_uses_the_api_with_a_key(
    chromium: Any, depot: Server, page_origins: tuple[str, str]
) -> None:
    seen = _from_page(chromium, page_origins[0], depot, "from-page")
    assert "error" not in seen, seen
    assert (seen["create"], seen["upload"], seen["stream"]) == (201, 201, 200)
    assert seen["body"] == "hello from a page"
    assert seen["etag"] and seen["etag"].startswith('"'), seen
    assert seen["disposition"] and "page.txt" in seen["disposition"], seen
    assert seen["badKey"][0] == 401 and seen["badKey"][1], seen


def test_a_page_on_a_refused_origin_is_blocked_at_the_preflight(
    chromium: Any, depot: Server, page_origins: tuple[str, str]
) -> None:
    seen = _from_page(chromium, page_origins[1], depot, "from-elsewhere")
    assert "Failed to fetch" in seen.get("error", ""), seen
    assert "create" not in seen
    # The browser never sent the POST: no session was made.
    answer = requests.get(
        f"{depot.base}/api/sessions/from-elsewhere",
        headers={"X-API-Key": depot.credentials["api_key"]},
        timeout=10,
    )
    assert answer.status_code == 404


def test_a_page_on_an_allowed_origin_is_an_mcp_client(
    chromium: Any, depot: Server, page_origins: tuple[str, str]
) -> None:
    key = depot.credentials["api_key"]
    seen = _in_page(chromium, page_origins[0], MCP_SCRIPT, [depot.base, key])
    assert "error" not in seen, seen
    assert seen["initialize"] == 200 and seen["session"], seen  # the page read Mcp-Session-Id
    assert seen["serverName"] and seen["initialized"] == 202, seen
    assert "read_file" in seen["tools"], seen
    assert seen["deleted"] in (200, 204), seen


def test_a_page_on_a_refused_origin_cannot_call_mcp(
    chromium: Any, depot: Server, page_origins: tuple[str, str]
) -> None:
    key = depot.credentials["api_key"]
    seen = _in_page(chromium, page_origins[1], MCP_SCRIPT, [depot.base, key])
    assert "Failed to fetch" in seen.get("error", ""), seen
    assert "initialize" not in seen


def test_a_pages_websocket_is_refused_4403_unless_its_origin_is_allowed(
    chromium: Any, depot: Server, page_origins: tuple[str, str]
) -> None:
    url = f"{depot.base.replace('http', 'ws', 1)}/ws/sessions/from-page"
    with_key = f"{url}?api_key={depot.credentials['api_key']}"
    allowed, refused = page_origins
    # Another port of an allowed host (127.0.0.1): refused, key or not.
    assert _in_page(chromium, refused, SOCKET_SCRIPT, [with_key]) == {"opened": True, "code": 4403}
    # The CORS origin with a key: open (it answers the ping).
    seen = _in_page(chromium, allowed, SOCKET_SCRIPT, [with_key])
    assert seen["opened"] and seen["message"]["type"] == "pong", seen
    # ... without one: no credentials (a page on another origin never uses Depot's cookie).
    assert _in_page(chromium, allowed, SOCKET_SCRIPT, [url]) == {"opened": True, "code": 4401}
