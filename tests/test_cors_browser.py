"""A page on another origin calls Depot from real Chromium (issue 12, Browsers).

Depot runs under uvicorn with `DEPOT_CORS_ALLOWED_ORIGINS` naming one page origin; two small
page servers on other loopback ports are that allowed origin and a refused one. From each
page, headless Chromium (Debian's /usr/bin/chromium, driven with playwright, nothing
downloaded) runs `fetch` with `X-API-Key`: a JSON POST and a multipart upload, each preceded by
the browser's own preflight, and a GET whose ETag and Content-Disposition the script reads.
From the allowed page everything works; from the refused one the browser blocks the POST at
its preflight, so nothing is created."""

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


def _from_page(chromium: Any, origin: str, depot: Server, session_id: str) -> dict[str, Any]:
    page = chromium.new_page()
    try:
        page.goto(f"{origin}/", timeout=20_000)
        key = depot.credentials["api_key"]
        return page.evaluate(SCRIPT, [depot.base, key, session_id])
    finally:
        page.close()


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
