"""A per-organization storage quota with a clear 4xx, and usage at GET /api/usage and in admin
(issue 14, "Abuse limits")."""

import pytest

from artifacts.models import Artifact
from attachments.models import Attachment
from sessions_app.models import Event
from tests.support import AsgiClient, Stranger, Tenant, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def test_usage_counts_attachments_and_every_artifact_version(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    assert client.upload("/api/uploads/s1", b"x" * 1000).status_code == 201
    made = client.post(f"{NS}/artifacts", json={"name": "r", "content": "a" * 100}).json()
    client.request("PUT", f"{NS}/artifacts/{made['artifact_id']}", json={"content": "b" * 50})
    usage = client.get("/api/usage")
    assert usage.status_code == 200
    assert usage.json() == {
        "organization": "acme",
        "scope": "organization",
        "bytes_used": 1150,
        "quota_bytes": None,
        "remaining_bytes": None,
        "attachments": {"count": 1, "bytes": 1000},
        "artifacts": {"count": 2, "bytes": 150},
    }
    # A key limited to another workspace sees that workspace only.
    limited = AsgiClient(tenant.limited_key).get("/api/usage").json()
    assert (limited["scope"], limited["bytes_used"]) == ("workspace", 0)
    assert AsgiClient().get("/api/usage").status_code == 401


def test_a_write_past_the_quota_is_413_and_leaves_nothing(
    tenant: Tenant,
    stranger: Stranger,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.DEPOT_STORAGE_QUOTA_BYTES = 1500
    client = AsgiClient(tenant.owner_key)
    assert client.upload("/api/uploads/s1", b"x" * 1000).status_code == 201
    keys_before, events_before = stored_keys(), Event.objects.count()
    refused = client.upload("/api/uploads/s1", b"y" * 600)
    assert refused.status_code == 413
    assert "quota" in refused.json()["detail"]
    assert Attachment.objects.count() == 1
    assert stored_keys() == keys_before and Event.objects.count() == events_before
    too_big = client.post(f"{NS}/artifacts", json={"name": "r", "content": "z" * 600})
    assert too_big.status_code == 413 and not Artifact.objects.exists()
    assert (
        client.post(f"{NS}/artifacts", json={"name": "r", "content": "z" * 400}).status_code == 201
    )
    usage = client.get("/api/usage").json()
    assert (usage["bytes_used"], usage["quota_bytes"], usage["remaining_bytes"]) == (
        1400,
        1500,
        100,
    )
    # Another organization's usage is its own.
    assert AsgiClient(stranger.key).upload("/api/uploads/s1", b"w" * 1400).status_code == 201


def test_an_organizations_own_quota_overrides_the_default(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_STORAGE_QUOTA_BYTES = 10
    tenant.organization.storage_quota_bytes = 5000
    tenant.organization.save()
    assert AsgiClient(tenant.owner_key).upload("/api/uploads/s1", b"x" * 1000).status_code == 201


def test_admin_shows_usage_and_takes_a_quota(tenant: Tenant) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    AsgiClient(tenant.owner_key).upload("/api/uploads/s1", b"x" * 1234)
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    browser = Client()
    browser.force_login(admin)
    listing = browser.get("/admin/sessions_app/organization/")
    assert listing.status_code == 200 and b"1,234 (no quota)" in listing.content
