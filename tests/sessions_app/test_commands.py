import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from sessions_app.models import ApiKey, Organization, Workspace

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key)
    return client


def test_create_api_key_prints_a_working_key_once() -> None:
    out = StringIO()
    call_command("create_api_key", "--org", "initech", "--workspace", "ops", stdout=out)
    raw_key = out.getvalue().strip()
    assert raw_key.startswith("dpt_")
    assert _client(raw_key).post("/api/sessions", {}, format="json").status_code == 201
    key = ApiKey.objects.get()
    assert key.organization.slug == "initech" and key.default_workspace.slug == "ops"
    assert Workspace.objects.get(slug="ops").namespaces.filter(slug="default").exists()
    assert raw_key not in key.secret_hash


def test_create_api_key_flags() -> None:
    out = StringIO()
    call_command(
        "create_api_key",
        "--org=initech",
        "--workspace=ops",
        "--read-only",
        "--limit-to-workspace",
        "--expires-in-days=3",
        "--name=ci",
        stdout=out,
    )
    key = ApiKey.objects.get()
    assert key.read_only and key.workspace == key.default_workspace and key.name == "ci"
    assert key.expires_at is not None
    assert _client(out.getvalue().strip()).post("/api/sessions", {}).status_code == 403


def test_create_api_key_rejects_bad_expiry() -> None:
    with pytest.raises(CommandError):
        call_command("create_api_key", "--org=o", "--workspace=w", "--expires-at=soon")
    with pytest.raises(CommandError):
        call_command("create_api_key", "--org=o", "--workspace=w", "--expires-in-days=0")


def test_bootstrap_once_then_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    out = StringIO()
    call_command("bootstrap", stdout=out)
    credentials = json.loads((tmp_path / "bootstrap.json").read_text())
    assert credentials["api_key"] in out.getvalue()
    assert _client(credentials["api_key"]).get("/api/sessions").status_code == 200
    counts = (Organization.objects.count(), ApiKey.objects.count())

    again = StringIO()
    call_command("bootstrap", stdout=again)
    assert "Already bootstrapped" in again.getvalue()
    assert (Organization.objects.count(), ApiKey.objects.count()) == counts
    assert json.loads((tmp_path / "bootstrap.json").read_text()) == credentials

    welcome = StringIO()
    call_command("welcome", "--port", "9999", stdout=welcome)
    assert credentials["api_key"] in welcome.getvalue()
    assert "http://127.0.0.1:9999/api/docs/" in welcome.getvalue()
