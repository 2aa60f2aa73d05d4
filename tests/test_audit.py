"""The audit log (issue 14): key creation, rotation and revocation, deletes, purges and admin
actions, each with who (key or user), what, when; visible in admin and never editable."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from artifacts.models import Artifact
from sessions_app import services
from sessions_app.models import ApiKey, AuditAction, AuditEntry, Membership, Session
from tests.support import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def _entries(action: AuditAction) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_keys_created_rotated_and_revoked_are_audited(tenant: Tenant) -> None:
    created = _entries(AuditAction.API_KEY_CREATED)
    assert len(created) == 3  # the fixture's three keys
    assert {entry.organization_id for entry in created} == {tenant.organization.pk}

    old = ApiKey.objects.get(prefix=tenant.owner_key.split("_")[1])
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    new, raw = services.api_key_rotate(api_key=old, actor=admin)
    assert AsgiClient(raw).get("/api/sessions").status_code == 200
    assert AsgiClient(tenant.owner_key).get("/api/sessions").status_code == 401
    (rotated,) = _entries(AuditAction.API_KEY_ROTATED)
    assert (rotated.actor, rotated.user_id) == ("user:root", admin.pk)
    assert rotated.target == f"key:{old.prefix}"
    assert rotated.detail == {"replaced_by": f"key:{new.prefix}"}
    (revoked,) = _entries(AuditAction.API_KEY_REVOKED)
    assert revoked.target == f"key:{old.prefix}"
    services.api_key_revoke(api_key=new, actor="command:test")
    assert [e.actor for e in _entries(AuditAction.API_KEY_REVOKED)] == ["user:root", "command:test"]


def test_deletes_through_the_api_name_the_key(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    upload = client.upload("/api/uploads/gone", b"bytes")
    attachment_id = upload.json()["attachment_id"]
    assert client.delete(f"/api/uploads/gone/{attachment_id}").status_code == 204
    made = client.post(f"{NS}/artifacts", json={"name": "report", "content": "x"})
    assert client.delete(f"{NS}/artifacts/{made.json()['artifact_id']}").status_code == 204
    assert client.delete("/api/sessions/gone").status_code == 204

    owner_key = ApiKey.objects.get(prefix=tenant.owner_key.split("_")[1])
    for action, target in [
        (AuditAction.ATTACHMENT_DELETED, attachment_id),
        (AuditAction.ARTIFACT_DELETED, made.json()["artifact_id"]),
        (AuditAction.SESSION_DELETED, "gone"),
    ]:
        (entry,) = _entries(action)
        assert entry.target == target
        assert entry.api_key_id == owner_key.pk
        assert entry.actor.startswith("key:")
        assert entry.organization_id == tenant.organization.pk


def test_a_refused_delete_is_not_audited(tenant: Tenant, stranger) -> None:  # type: ignore[no-untyped-def]
    AsgiClient(tenant.owner_key).post("/api/sessions", json={"session_id": "mine"})
    assert AsgiClient(stranger.key).delete("/api/sessions/mine").status_code == 404
    assert AsgiClient(tenant.read_only_key).delete("/api/sessions/mine").status_code == 403
    assert not _entries(AuditAction.SESSION_DELETED)
    assert Session.objects.filter(session_id="mine").exists()


def test_purges_and_orphan_collection_are_audited(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    made = client.post(f"{NS}/artifacts", json={"name": "old", "content": "x", "ttl_seconds": 1})
    Artifact.objects.filter(artifact_id=made.json()["artifact_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=5)
    )
    call_command("purge_expired", stdout=io.StringIO())
    (purged,) = _entries(AuditAction.ARTIFACT_DELETED)
    assert (purged.actor, purged.target) == ("command:purge_expired", made.json()["artifact_id"])
    from attachments import storage

    storage.promote(storage.write_stream(iter([b"stray bytes no row uses"])))
    call_command("collect_orphans", grace_seconds=0, stdout=io.StringIO())
    (collected,) = _entries(AuditAction.ORPHANS_COLLECTED)
    assert collected.actor == "command:collect_orphans" and collected.detail["removed"] >= 1


def test_admin_actions_are_audited_and_the_log_is_read_only(tenant: Tenant) -> None:
    admin = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    Membership.objects.create(user=admin, organization=tenant.organization)
    AsgiClient(tenant.owner_key).post("/api/sessions", json={"session_id": "edited"})
    session = Session.objects.get(session_id="edited")
    browser = Client()
    browser.force_login(admin)
    page = browser.get(f"/admin/sessions_app/session/{session.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(reference="changed-in-admin", metadata="{}")
    answer = browser.post(f"/admin/sessions_app/session/{session.pk}/change/", data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    (entry,) = _entries(AuditAction.ADMIN_CHANGED)
    assert (entry.actor, entry.user_id) == ("user:root", admin.pk)
    assert entry.organization_id == tenant.organization.pk
    entry = AuditEntry.objects.first()
    assert browser.get("/admin/sessions_app/auditentry/").status_code == 200
    assert browser.get(f"/admin/sessions_app/auditentry/{entry.pk}/delete/").status_code == 403
    assert browser.get("/admin/sessions_app/auditentry/add/").status_code == 403
    browser.post(f"/admin/sessions_app/auditentry/{entry.pk}/change/", {"actor": "forged"})
    entry.refresh_from_db()
    assert entry.actor != "forged"
