"""The web pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by the
playwright package through `executable_path`; no browser is downloaded).

One walk through the pages as a member: sign in; upload two files with the picker and see both
reach 100% and appear; see a refused file's reason; see an artifact made through the API
appear live within 2 s; drop the socket by restarting the server and see an artifact made
meanwhile still appear; open the artifact page (versions, diff, Markdown preview) where the
content's `<script>` and `onerror` image never run; "Download all" gives a valid zip; another
organization's session answers 404; axe-core finds no violation on any page, wide or at phone
width; and the browser reports no CSP violation. Screenshots go to DEPOT_SCREENSHOT_DIR when
set (the README's are in docs/screenshots/)."""

import io
import os
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model

from sessions_app.models import Membership
from tests.support import IN_CI, AsgiClient, Stranger, Tenant
from tests.web.live import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
SESSION = "live-1"
PASSWORD = "pw-correct-horse-7"
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
# Content that would set a flag if any of it ever ran.
HOSTILE = (
    "# Findings\n\nAll fine.\n\n<script>window.__owned = 'script'</script>\n\n"
    '<img src="x" onerror="window.__owned = \'onerror\'">\n'
)


def _needs(path: Path, what: str) -> None:
    if path.exists():
        return
    reason = f"{path} is missing ({what})"
    if IN_CI:
        pytest.fail(f"CI needs the browser test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def live() -> Iterator[LiveServer]:
    server = LiveServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    _needs(Path(CHROMIUM), "Debian: apt-get install chromium")
    _needs(AXE, "cd tests/js && npm ci")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def _axe(page: Any, name: str) -> None:
    """axe-core on the page as it stands, wide and at phone width, with a screenshot of each.
    axe is evaluated over DevTools (not injected as a script tag, which the CSP refuses)."""
    shots = os.environ.get("DEPOT_SCREENSHOT_DIR")
    for label, size in (("wide", WIDE), ("phone", PHONE)):
        page.set_viewport_size(size)
        if page.evaluate("typeof window.axe") == "undefined":
            page.evaluate(AXE.read_text() + "\n;0")
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => ({id: v.id, help: v.help,"
            " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
        )
        assert result == [], f"axe on {name} ({label}): {result}"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDE)


def _member(tenant: Tenant) -> None:
    user = get_user_model().objects.create_user("ada", "ada@example.com", PASSWORD)
    Membership.objects.create(user=user, organization=tenant.organization)


def _off_loop(call: Callable[[], Any]) -> Any:
    """Run `call` in a thread of its own: playwright's sync API keeps an event loop running in
    this one, where Django refuses ORM calls and asyncio.run cannot start."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()))
    worker.start()
    worker.join(30)
    assert result, "the call did not finish"
    return result[0]


def test_the_pages_in_a_real_browser(
    settings: Any,
    tenant: Tenant,
    stranger: Stranger,
    asgi_owner: AsgiClient,
    live: LiveServer,
    browser: Any,
) -> None:
    began = time.monotonic()
    settings.DEPOT_MAX_UPLOAD_BYTES = 64 * 1024  # a refused file is cheap to make
    settings.DEPOT_ALLOWED_MIME_TYPES = ["text/"]
    _off_loop(lambda: _member(tenant))
    key = {"X-API-Key": tenant.owner_key}
    made = requests.post(
        f"{live.base}/api/sessions", json={"session_id": SESSION}, headers=key, timeout=10
    )
    assert made.status_code == 201, made.text
    theirs = requests.post(
        f"{live.base}/api/sessions",
        json={"session_id": "their-run"},
        headers={"X-API-Key": stranger.key},
        timeout=10,
    )
    assert theirs.status_code == 201, theirs.text

    context = browser.new_context(viewport=WIDE, accept_downloads=True)
    page = context.new_page()
    csp_violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    # Sign in.
    page.goto(f"{live.base}/")
    assert page.url.startswith(f"{live.base}/login/")
    _axe(page, "login")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.base}/")
    assert page.locator(f"text={SESSION}").count() == 1
    _axe(page, "sessions")

    # A session's page: the live feed comes up.
    page.goto(f"{live.base}/sessions/{SESSION}/")
    page.wait_for_selector("#session[data-feed=live]", timeout=5000)

    # Two files through the picker, both to 100% and listed; then two refused ones.
    page.set_input_files(
        "#file-picker",
        [
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"notes " * 2000},
            {"name": "log.txt", "mimeType": "text/plain", "buffer": b"line\n" * 4000},
        ],
    )
    page.wait_for_function(
        "() => document.querySelectorAll('#upload-progress li[data-state=done]').length === 2",
        timeout=10000,
    )
    values = page.eval_on_selector_all(
        "#upload-progress progress", "bars => bars.map(b => b.value)"
    )
    assert values == [100, 100]
    for name in ("notes.txt", "log.txt"):
        assert page.locator("#files th a", has_text=name).count() == 1
    page.set_input_files(
        "#file-picker",
        [
            {"name": "big.txt", "mimeType": "text/plain", "buffer": b"x" * (200 * 1024)},
            {"name": "paper.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%\n"},
        ],
    )
    page.wait_for_function(
        "() => document.querySelectorAll('#upload-progress li[data-state=failed]').length === 2",
        timeout=10000,
    )
    big = page.locator("#upload-progress li[data-name='big.txt'] .reason").inner_text()
    pdf = page.locator("#upload-progress li[data-name='paper.pdf'] .reason").inner_text()
    assert "413" in big, big
    assert "422" in pdf and "not accepted" in pdf, pdf
    assert page.locator("#files th a", has_text="big.txt").count() == 0

    # An artifact made through the API appears within 2 s, with no reload.
    page.evaluate("window.__sameDocument = true")
    created = requests.post(
        f"{live.base}{NS}/artifacts",
        json={
            "name": "findings",
            "content": "# Findings\n\nFirst draft.\n",
            "content_type": "text/markdown",
            "session_id": SESSION,
        },
        headers=key,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    artifact_id = created.json()["artifact_id"]
    page.locator("#artifacts th a", has_text="findings").wait_for(timeout=2000)

    # The socket drops (the server restarts); an artifact made meanwhile still appears.
    live.stop()
    page.wait_for_selector("#session[data-feed=down]", timeout=5000)
    meanwhile = _off_loop(
        lambda: asgi_owner.post(
            f"{NS}/artifacts",
            json={"name": "made-while-down", "content": "offline", "session_id": SESSION},
        )
    )
    assert meanwhile.status_code == 201, meanwhile.text
    new_version = _off_loop(
        lambda: asgi_owner.request(
            "PUT", f"{NS}/artifacts/{artifact_id}", json={"content": HOSTILE}
        )
    )
    assert new_version.status_code == 200, new_version.text
    live.start()
    page.locator("#artifacts th a", has_text="made-while-down").wait_for(timeout=10000)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    sequences = page.eval_on_selector_all(
        "#feed li", "items => items.map(i => Number(i.dataset.sequence))"
    )
    assert sequences == sorted(set(sequences), reverse=True)  # none repeated, in order
    _axe(page, "session")

    # Download all: a valid zip holding the uploads and the artifacts.
    with page.expect_download() as download_info:
        page.click("#download-all")
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert archive.testzip() is None
    names = " ".join(archive.namelist())
    assert "notes.txt" in names and "log.txt" in names and "findings" in names

    # The artifact page: versions, the diff, the Markdown preview; nothing of it runs.
    page.click("#artifacts th a:has-text('findings')")
    page.wait_for_url(f"{live.base}/artifacts/{artifact_id}/")
    assert page.locator("#versions tbody tr").count() == 2
    assert page.locator("#markdown-preview h1").inner_text() == "Findings"
    assert page.locator("#markdown-preview script, #markdown-preview img").count() == 0
    assert "First draft." in page.locator("#diff .diff-remove").all_inner_texts()[-1]
    assert page.locator("#diff .diff-add").count() >= 3
    time.sleep(0.2)
    assert page.evaluate("window.__owned") is None
    _axe(page, "artifact")

    # The search page, and another organization's session.
    page.goto(f"{live.base}/search/?q=findings")
    _axe(page, "search")
    answer = page.goto(f"{live.base}/sessions/their-run/")
    assert answer is not None and answer.status == 404
    _axe(page, "not-found")

    assert page.evaluate("window.__owned") is None
    assert csp_violations == []
    context.close()
    assert time.monotonic() - began < 60
