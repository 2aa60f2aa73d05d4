"""Seed 002's list `total` (issue 11): the namespace's artifact_count, kept by the writes, less
its expired-but-unpurged artifacts, always equal to the real count of what the list holds;
and the page's items, read lighter, are the very answers the detail gives."""

import base64
from datetime import timedelta
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from rest_framework.test import APIClient

from artifacts.indexing import artifact_index
from artifacts.models import Artifact
from artifacts.services import artifacts_purge_expired
from sessions_app.models import Namespace
from tests.support import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def _namespace(tenant: Tenant) -> Namespace:
    return Namespace.objects.get(workspace=tenant.workspace, slug="default")


def _real(namespace: Namespace, *, include_expired: bool, **filters: Any) -> int:
    latest = Artifact.objects.latest_versions().filter(namespace=namespace, **filters)
    return (latest if include_expired else latest.unexpired()).count()


def _totals_hold(client: APIClient, namespace: Namespace) -> tuple[int, int]:
    """The counter is the namespace's artifacts; the list's total (default and with expired
    ones, whole and filtered) is what the list holds. Returns both unfiltered totals."""
    namespace.refresh_from_db()
    assert (
        namespace.artifact_count
        == Artifact.objects.filter(namespace=namespace, is_latest=True).count()
    )
    totals = []
    for include_expired in (False, True):
        query = {"include_expired": str(include_expired).lower(), "limit": 200}
        body = client.get(f"{NS}/artifacts", query).json()
        real = _real(namespace, include_expired=include_expired)
        assert body["total"] == real == len(body["artifacts"]), (include_expired, body["total"])
        totals.append(body["total"])
        typed = client.get(f"{NS}/artifacts", {**query, "artifact_types": "plan"}).json()
        assert typed["total"] == _real(
            namespace, include_expired=include_expired, artifact_type="plan"
        )
        thread = client.get(f"{NS}/threads/t-1/artifacts", query).json()
        assert thread["total"] == _real(
            namespace, include_expired=include_expired, thread__thread_id="t-1"
        )
    return totals[0], totals[1]


def _create(client: APIClient, **body: Any) -> dict[str, Any]:
    response = client.post(f"{NS}/artifacts", {"name": "Doc", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _tus_create(client: APIClient) -> None:
    meta = ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}"
        for key, value in {"namespace": "default", "name": "tus.txt", "filename": "t.txt"}.items()
    )
    created = client.post("/api/tus/", HTTP_UPLOAD_LENGTH="5", HTTP_UPLOAD_METADATA=meta, **TUS)
    assert created.status_code == 201, created.content
    path = created["Location"].split("testserver", 1)[1]
    done = client.patch(
        path,
        data=b"hello",
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )
    assert done.status_code == 204, done.content


def _mcp_write(tenant: Tenant) -> None:
    from agents_mcp.tools import _run
    from sessions_app.principals import authenticate_raw_key, principal_for_key

    api_key = authenticate_raw_key(tenant.owner_key)
    assert api_key is not None
    result = _run(
        "write_artifact",
        principal_for_key(api_key),
        {"name": "from mcp", "content": "mcp words", "session_id": "mcp-session"},
    )
    assert not result.is_error, result.structured_content


def _expire(root_artifact_id: str) -> None:
    """Time passes for one artifact: its expiry (every version's, as they inherit it) is now
    in the past, and nothing has purged it."""
    past = timezone.now() - timedelta(seconds=5)
    Artifact.objects.filter(root__artifact_id=root_artifact_id).update(expires_at=past)


def test_the_total_equals_the_real_count_after_every_kind_of_write(
    tenant: Tenant, owner: APIClient, asgi_owner: AsgiClient
) -> None:
    namespace = _namespace(tenant)
    assert _totals_hold(owner, namespace) == (0, 0)
    # Creates, by every path that makes an artifact.
    plan = _create(owner, content="plan", artifact_type="plan", thread_id="t-1")
    expiring = _create(owner, content="soon gone", ttl_seconds=3600, thread_id="t-1")
    _create(owner, content="plain")
    upload = asgi_owner.upload(f"{NS}/artifacts/upload", b"file bytes", name="f.txt")
    assert upload.status_code == 201, upload.text
    flat = owner.post(
        "/api/artifacts",
        {"workflow_id": "wf", "artifact_type": "plan", "title": "Flat", "content": "flat"},
        format="json",
    )
    assert flat.status_code in (200, 201), flat.content
    _tus_create(owner)
    _mcp_write(tenant)
    assert _totals_hold(owner, namespace) == (7, 7)
    # Read with the page's rows, and asked apart when the page has none (past the end).
    first = owner.get(f"{NS}/artifacts", {"limit": 2}).json()
    assert first["total"] == 7 and len(first["artifacts"]) == 2 and first["has_more"]
    walked = owner.get(f"{NS}/artifacts", {"limit": 7}).json()
    last = walked["artifacts"][-1]["root_artifact_id"]
    cursor = base64.urlsafe_b64encode(
        f"id:{Artifact.objects.get(artifact_id=last).pk}".encode()
    ).decode()
    past = owner.get(f"{NS}/artifacts", {"cursor": cursor.rstrip("=")}).json()
    assert past["artifacts"] == [] and past["total"] == 7

    # New versions and in-place changes move nothing.
    put = owner.put(f"{NS}/artifacts/{plan['artifact_id']}", {"content": "v2"}, format="json")
    assert put.status_code == 200 and put.json()["version"] == 2
    owner.put(f"{NS}/artifacts/{plan['artifact_id']}", {"summary": "s"}, format="json")
    assert _totals_hold(owner, namespace) == (7, 7)

    # Expiry: out of the default list (and its total) at once, still counted with expired.
    _expire(expiring["artifact_id"])
    assert _totals_hold(owner, namespace) == (6, 7)
    # A new version of an expired artifact inherits its expiry: still expired.
    stale = owner.put(f"{NS}/artifacts/{expiring['artifact_id']}", {"content": "v2"}, format="json")
    assert stale.status_code == 200, stale.content
    assert _totals_hold(owner, namespace) == (6, 7)
    # Pinned, it is listed again; unpinned, not.
    owner.put(f"{NS}/artifacts/{expiring['artifact_id']}", {"is_pinned": True}, format="json")
    assert _totals_hold(owner, namespace) == (7, 7)
    owner.put(f"{NS}/artifacts/{expiring['artifact_id']}", {"is_pinned": False}, format="json")
    assert _totals_hold(owner, namespace) == (6, 7)
    # A new TTL moves the expiry into the future: listed again.
    owner.put(f"{NS}/artifacts/{expiring['artifact_id']}", {"ttl_seconds": 60}, format="json")
    assert _totals_hold(owner, namespace) == (7, 7)
    _expire(expiring["artifact_id"])

    promoted = owner.post(f"{NS}/artifacts/{plan['artifact_id']}/promote", {}, format="json")
    assert promoted.status_code == 200, promoted.content
    assert _totals_hold(owner, namespace) == (6, 7)

    # The purge deletes the expired one: the counter goes down, the default total stays.
    assert artifacts_purge_expired() == 1
    assert _totals_hold(owner, namespace) == (6, 6)
    assert artifacts_purge_expired() == 0
    assert _totals_hold(owner, namespace) == (6, 6)

    # Deletes.
    assert owner.delete(f"{NS}/artifacts/{plan['artifact_id']}").status_code == 204
    assert _totals_hold(owner, namespace) == (5, 5)
    # A write that fails leaves the count as it was (the session id is refused).
    refused = owner.post(f"{NS}/artifacts", {"name": "x", "session_id": "bad id!"}, format="json")
    assert refused.status_code == 422
    assert _totals_hold(owner, namespace) == (5, 5)


def test_the_migration_counts_what_each_namespace_holds(tenant: Tenant, owner: APIClient) -> None:
    for number in range(3):
        _create(owner, content=f"c{number}")
    version = owner.get(f"{NS}/artifacts").json()["artifacts"][0]["artifact_id"]
    owner.put(f"{NS}/artifacts/{version}", {"content": "again"}, format="json")
    Namespace.objects.update(artifact_count=0)
    migration = import_module("artifacts.migrations.0006_list_total_indexes")
    migration.count_artifacts(django_apps, None)
    assert _namespace(tenant).artifact_count == 3
    others = Namespace.objects.exclude(pk=_namespace(tenant).pk)
    assert others.exists() and set(others.values_list("artifact_count", flat=True)) == {0}


def test_a_pages_items_are_what_the_detail_answers(tenant: Tenant, owner: APIClient) -> None:
    """The list reads one text column where the texts agree (content_text only where it
    differs from content, content_preview not at all); every item is still exactly the
    detail's answer: long text, HTML (its extracted text differs), a file, a new version."""
    long_text = "word " * 400
    made = [
        _create(owner, content=long_text, thread_id="t-1", session_id="s-1"),
        _create(owner, content="<p>Hello <b>there</b></p>", content_type="text/html"),
        _create(owner, content=""),
    ]
    upload = AsgiClient(tenant.owner_key).upload(
        f"{NS}/artifacts/upload", b"file words here", name="f.txt"
    )
    assert upload.status_code == 201, upload.text
    owner.put(f"{NS}/artifacts/{made[2]['artifact_id']}", {"content": "second"}, format="json")
    owner.post(f"{NS}/artifacts/{made[0]['artifact_id']}/promote", {}, format="json")
    for artifact in Artifact.objects.filter(is_latest=True):
        artifact_index(artifact_pk=artifact.pk)
    html = Artifact.objects.get(root__artifact_id=made[1]["artifact_id"], is_latest=True)
    assert html.content_text != html.content  # the case the list reads both for
    page = owner.get(f"{NS}/artifacts").json()
    assert page["total"] == 4
    for item in page["artifacts"]:
        detail = owner.get(f"{NS}/artifacts/{item['root_artifact_id']}").json()
        assert item == detail
    versions = owner.get(f"{NS}/artifacts/{made[2]['artifact_id']}/versions").json()["versions"]
    assert [item["version"] for item in versions] == [2, 1]
    for item in versions:
        root = item["root_artifact_id"]
        detail = owner.get(f"{NS}/artifacts/{root}", {"version": item["version"]}).json()
        assert item == detail
    assert any(item["promoted_to_source_id"] for item in page["artifacts"])
    assert any(item["thread_id"] == "t-1" for item in page["artifacts"])
    previews = {item["content_preview"] for item in page["artifacts"]}
    assert long_text[:500] in previews


def test_saving_a_namespace_in_admin_never_writes_its_counters(
    tenant: Tenant, owner: APIClient
) -> None:
    """The admin loads the row, then saves it: a create in between must not be undone by the
    save writing the count it read (the counters are read-only there and not written)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    root = get_user_model().objects.create_superuser("root", password="pw-root-123456")
    browser = Client()
    browser.force_login(root)
    namespace = _namespace(tenant)
    _create(owner, content="one")
    page = browser.get(f"/admin/sessions_app/namespace/{namespace.pk}/change/")
    assert page.status_code == 200
    assert "artifact_count" not in page.context["adminform"].form.fields
    stale = Namespace.objects.get(pk=namespace.pk)
    _create(owner, content="two")
    # What the admin's save does with the row it read before the second create.
    from sessions_app.admin.tenancy import NamespaceAdmin

    admin = NamespaceAdmin(Namespace, None)  # type: ignore[arg-type]
    form = type("Form", (), {"changed_data": []})()
    admin.save_model(page.wsgi_request, stale, form, change=True)
    assert _totals_hold(owner, namespace) == (2, 2)
