"""The admin in headless Chromium (issue 13): a logged-in operator opens the main admin pages,
submits the key form with another organization's workspace and reads the form error (no
500), and opens a session's page with its links. Each page is screenshotted; with
DEPOT_ADMIN_SCREENSHOTS=<folder> the pictures are kept there (docs/screenshots/admin/ holds the
ones the README shows)."""

import base64
import json
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from artifacts.models import Artifact
from sessions_app.models import ApiKey, Session
from tests.conftest import AsgiClient, Stranger, Tenant
from tests.test_browser_xss import Browser, browser, depot_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def _open(browser: Browser, url: str, shot: Path | None = None, script: str = "") -> str:  # noqa: F811
    """Navigate a new tab to `url`, run `script` (which may submit a form), wait for the page
    it leaves, screenshot it, and return its visible text."""
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]

    def loaded() -> None:
        event = browser.wait_for(
            lambda e: e.get("method") == "Page.loadEventFired" and e.get("sessionId") == session,
            seconds=15,
        )
        assert event is not None, url

    try:
        browser.call("Page.enable", session=session)
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            session=session,
        )
        browser.events.clear()
        browser.call("Page.navigate", {"url": url}, session=session)
        loaded()
        if script:
            browser.events.clear()
            browser.call("Runtime.evaluate", {"expression": script}, session=session)
            loaded()
        time.sleep(0.1)
        text = browser.call(
            "Runtime.evaluate",
            {"expression": "document.body.innerText", "returnByValue": True},
            session=session,
        )["result"]["value"]
        if shot is not None:
            data = browser.call("Page.captureScreenshot", {"format": "png"}, session=session)
            shot.write_bytes(base64.b64decode(data["data"]))
        return text
    finally:
        browser.call("Target.closeTarget", {"targetId": target})


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("DEPOT_ADMIN_SCREENSHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_admin_in_chromium(
    tenant: Tenant,
    stranger: Stranger,
    browser: Browser,  # noqa: F811
    depot_url: str,  # noqa: F811
    shots: Path,
) -> None:
    client = AsgiClient(tenant.owner_key)
    client.upload("/api/uploads/run-1", b"# notes\n", name="notes.md")
    made = client.post(
        f"{NS}/artifacts", json={"name": "report", "content": "# v1", "session_id": "run-1"}
    )
    client.request("PUT", f"{NS}/artifacts/{made.json()['artifact_id']}", json={"content": "# v2"})
    session = Session.objects.get(session_id="run-1")
    artifact = Artifact.objects.get(root__artifact_id=made.json()["artifact_id"], is_latest=True)

    root = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    login = Client()
    login.force_login(root)
    browser.set_cookie(depot_url, settings.SESSION_COOKIE_NAME, login.cookies["sessionid"].value)

    pages = {
        "index": "/admin/",
        "sessions": "/admin/sessions_app/session/",
        "session": f"/admin/sessions_app/session/{session.pk}/change/",
        "artifacts": "/admin/artifacts/artifact/",
        "artifact": f"/admin/artifacts/artifact/{artifact.pk}/change/",
        "keys": "/admin/sessions_app/apikey/?state=usable",
        "orphans": "/admin/attachments/blob/collect-orphans/",
        "purge": "/admin/artifacts/artifact/purge-expired/",
    }
    texts = {
        name: _open(browser, depot_url + url, shots / f"{name}.png") for name, url in pages.items()
    }
    assert "Site administration" in texts["index"]
    assert "run-1" in texts["sessions"]
    for link in ("attachments", "artifacts", "events", "download zip"):
        assert link in texts["session"]
    assert "v1" in texts["artifact"] and "v2" in texts["artifact"]
    assert "would remove" in texts["orphans"] or "orphans removed" in texts["orphans"]
    assert "would be deleted" in texts["purge"]

    # The key form, filled and submitted in the page: another organization's workspace.
    fill = (
        "document.querySelector('#id_name').value = 'cross';"
        f"document.querySelector('#id_organization').value = '{tenant.organization.pk}';"
        f"document.querySelector('#id_default_workspace').value = '{stranger.workspace.pk}';"
        "document.querySelector('input[name=_save]').click();"
    )
    keys = ApiKey.objects.count()
    text = _open(
        browser, depot_url + "/admin/sessions_app/apikey/add/", shots / "key-refused.png", fill
    )
    assert "belongs to another organization" in text
    assert ApiKey.objects.count() == keys

    fill_ok = fill.replace(str(stranger.workspace.pk), str(tenant.workspace.pk))
    # Not screenshotted: the page carries a secret.
    text = _open(browser, depot_url + "/admin/sessions_app/apikey/add/", None, fill_ok)
    assert "shown once" in text
    assert ApiKey.objects.count() == keys + 1
    (shots / "pages.json").write_text(json.dumps(pages, indent=2))
