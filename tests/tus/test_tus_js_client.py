"""tus-js-client (the official JavaScript client) under node against a live Depot: a resumed
upload found through the client's own fingerprint store. The harness is tests/js/tus/
(package.json and its lockfile); `npm ci` there installs it. Skipped only where node is absent,
never in CI."""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from attachments.models import Attachment
from sessions_app.models import Event

pytestmark = pytest.mark.django_db(transaction=True)
HARNESS = Path(__file__).resolve().parent.parent / "js" / "tus"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def harness() -> Path:
    if NODE is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed for the tus-js-client test, and CI must have it")
        pytest.skip("node is not installed: the tus-js-client test needs it")
    if not (HARNESS / "node_modules" / "tus-js-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=HARNESS, check=True, timeout=300
        )
    return HARNESS


def test_tus_js_client_resumes_from_its_fingerprint_store(  # type: ignore[no-untyped-def]
    tenant, live_url, harness, tmp_path
) -> None:
    data = os.urandom(5 * 1024 * 1024 + 99)
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    result = subprocess.run(
        [
            str(NODE),
            str(harness / "resume.js"),
            f"{live_url}/api/tus/",
            tenant.owner_key,
            str(path),
            "js-run",
            str(tmp_path / "tus-urls.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    # The same upload, resumed from where the server had it (not from zero).
    assert answer["url"] == answer["firstUrl"]
    assert 0 < answer["resumedFrom"] < len(data)
    attachment = Attachment.objects.get()
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.name == "from-node.bin"
    assert Event.objects.filter(attachment_id=attachment.attachment_id).count() == 1
