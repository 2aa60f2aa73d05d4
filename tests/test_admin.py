"""The admin keeps every invariant the API keeps (issue 13), driven through the real admin with
Django's test client posting the real forms: fixed fields refuse edits, edits and deletes go
through the services (events, blob release), the key form refuses another organization's
workspace with a form error, each operator action does its job, and a superuser browses the
API without a Membership."""

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client
from django.utils import timezone

from artifacts import services as artifact_services
from artifacts.models import Artifact, IndexStatus
from attachments import storage
from attachments.models import Attachment, Blob
from sessions_app import services
from sessions_app.models import ApiKey, Event, EventKind, Membership, Session, SessionStatus
from tests.support import AsgiClient, Stranger, Tenant, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


@pytest.fixture
def root() -> AbstractBaseUser:
    return get_user_model().objects.create_superuser("root", password="pw-root-123456")


@pytest.fixture
def browser(root: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(root)
    return client


def form_data(page: Any, **changes: Any) -> dict[str, Any]:
    """What a browser posts back from an admin change form, with `changes` typed in."""
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()  # as the widget renders it (JSON as text)
        if value is None or value is False:
            continue
        data[name] = value
    data.update(changes)
    for name in [name for name, value in data.items() if value is None]:
        del data[name]
    return data


def action(browser: Client, url: str, name: str, pks: list[int], **extra: Any) -> Any:
    return browser.post(url, {"action": name, "_selected_action": pks, **extra})


def _session_with_files(tenant: Tenant, session_id: str = "run-1") -> Session:
    client = AsgiClient(tenant.owner_key)
    for index in range(2):
        answer = client.upload(
            f"/api/uploads/{session_id}",
            f"file {index} of {session_id}".encode(),
            name=f"f{index}.txt",
        )
        assert answer.status_code in {200, 201}, answer.text
    made = client.post(
        f"{NS}/artifacts", json={"name": "report", "content": "# v1", "session_id": session_id}
    )
    assert made.status_code == 201, made.text
    return Session.objects.get(session_id=session_id)


# --- fields that refuse edits -------------------------------------------------------------


def test_artifact_content_hash_and_size_refuse_edits_and_the_form_edits_the_latest(
    tenant: Tenant, browser: Client
) -> None:
    session = _session_with_files(tenant)
    v1 = Artifact.objects.get(session=session)
    v2, _ = artifact_services.artifact_version_create(
        artifact=v1, content=artifact_services.NewContent(text="# version two")
    )
    # The list shows the artifact once, by its latest version.
    listing = browser.get("/admin/artifacts/artifact/")
    assert list(listing.context["cl"].result_list) == [v2]
    page = browser.get(f"/admin/artifacts/artifact/{v2.pk}/change/")
    assert page.status_code == 200
    for fixed in ("content", "content_hash", "size_bytes", "content_text", "artifact_id"):
        assert fixed not in page.context["adminform"].form.fields
    # Links to each version.
    html = page.content.decode()
    assert f"/admin/artifacts/artifact/{v1.pk}/change/" in html
    assert f"/admin/artifacts/artifact/{v2.pk}/change/" in html

    before = Event.objects.filter(kind=EventKind.ARTIFACT_UPDATED).count()
    data = form_data(
        page,
        name="renamed in admin",
        content="forged",
        content_hash="sha256:" + "0" * 64,
        size_bytes=1,
        index_status="indexed",
    )
    answer = browser.post(f"/admin/artifacts/artifact/{v2.pk}/change/", data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    v2.refresh_from_db()
    assert v2.name == "renamed in admin"
    assert (v2.content, v2.size_bytes) == ("# version two", len(b"# version two"))
    assert v2.content_hash != "sha256:" + "0" * 64
    # Through artifact_update: the event fired.
    assert Event.objects.filter(kind=EventKind.ARTIFACT_UPDATED).count() == before + 1
    v1.refresh_from_db()
    assert v1.name == "report"  # history untouched

    # An older version is a read-only page.
    old = browser.get(f"/admin/artifacts/artifact/{v1.pk}/change/")
    assert old.status_code == 200 and "adminform" in old.context
    assert not old.context["adminform"].form.fields
    refused = browser.post(f"/admin/artifacts/artifact/{v1.pk}/change/", {"name": "forged"})
    assert refused.status_code == 403
    v1.refresh_from_db()
    assert v1.name == "report"


def test_artifact_form_refuses_what_the_api_refuses(tenant: Tenant, browser: Client) -> None:
    session = _session_with_files(tenant)
    artifact = Artifact.objects.get(session=session)
    page = browser.get(f"/admin/artifacts/artifact/{artifact.pk}/change/")
    answer = browser.post(
        f"/admin/artifacts/artifact/{artifact.pk}/change/",
        form_data(page, tags='[1, "a"]', metadata="[]", ttl_seconds="0"),
    )
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert {"tags", "metadata", "ttl_seconds"} <= set(errors)


def test_session_id_tenancy_and_status_refuse_edits(
    tenant: Tenant, stranger: Stranger, browser: Client
) -> None:
    session = _session_with_files(tenant)
    page = browser.get(f"/admin/sessions_app/session/{session.pk}/change/")
    fields = page.context["adminform"].form.fields
    for fixed in ("session_id", "organization", "namespace", "status", "completed_at"):
        assert fixed not in fields
    stranger_namespace = stranger.workspace.namespaces.get(slug="default")
    data = form_data(
        page,
        reference="set in admin",
        session_id="renamed",
        organization=stranger.organization.pk,
        namespace=stranger_namespace.pk,
        status="completed",
    )
    answer = browser.post(f"/admin/sessions_app/session/{session.pk}/change/", data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    session.refresh_from_db()
    assert session.reference == "set in admin"
    assert (session.session_id, session.organization_id) == ("run-1", tenant.organization.pk)
    assert session.status == SessionStatus.ACTIVE and session.completed_at is None
    assert browser.get("/admin/sessions_app/session/add/").status_code == 403


def test_complete_action_calls_the_service(tenant: Tenant, browser: Client) -> None:
    session = _session_with_files(tenant)
    answer = action(browser, "/admin/sessions_app/session/", "complete_sessions", [session.pk])
    assert answer.status_code == 302
    session.refresh_from_db()
    assert session.status == SessionStatus.COMPLETED and session.completed_at is not None
    assert Event.objects.filter(session=session, kind=EventKind.SESSION_COMPLETED).count() == 1


def test_key_organization_and_scope_refuse_edits(
    tenant: Tenant, stranger: Stranger, browser: Client
) -> None:
    key = ApiKey.objects.get(prefix=tenant.owner_key.split("_")[1])
    page = browser.get(f"/admin/sessions_app/apikey/{key.pk}/change/")
    fields = page.context["adminform"].form.fields
    assert not {"organization", "default_workspace", "workspace"} & set(fields)
    data = form_data(
        page,
        name="renamed",
        organization=stranger.organization.pk,
        default_workspace=stranger.workspace.pk,
        workspace=stranger.workspace.pk,
    )
    answer = browser.post(f"/admin/sessions_app/apikey/{key.pk}/change/", data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    key.refresh_from_db()
    assert key.name == "renamed"
    assert (key.organization_id, key.default_workspace_id) == (
        tenant.organization.pk,
        tenant.workspace.pk,
    )
    assert AsgiClient(tenant.owner_key).get("/api/sessions").status_code == 200


def test_new_key_with_another_organizations_workspace_is_a_form_error(
    tenant: Tenant, stranger: Stranger, browser: Client
) -> None:
    keys = ApiKey.objects.count()
    answer = browser.post(
        "/admin/sessions_app/apikey/add/",
        {
            "name": "cross",
            "organization": tenant.organization.pk,
            "default_workspace": stranger.workspace.pk,
        },
    )
    assert answer.status_code == 200
    errors = answer.context["adminform"].form.errors
    assert "another organization" in errors["default_workspace"][0]
    assert ApiKey.objects.count() == keys

    made = browser.post(
        "/admin/sessions_app/apikey/add/",
        {
            "name": "ok",
            "organization": tenant.organization.pk,
            "default_workspace": tenant.other_workspace.pk,
            "limit_to_workspace": "on",
        },
    )
    # The new key is shown once, on the answer itself (no redirect, no message cookie).
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    ((created, raw_key),) = made.context["keys"]
    assert raw_key in made.content.decode()
    assert created.workspace_id == tenant.other_workspace.pk
    assert AsgiClient(raw_key).get("/api/sessions").status_code == 200
    assert raw_key not in browser.get("/admin/sessions_app/apikey/").content.decode()


# --- deletes through the services ---------------------------------------------------------


def test_bulk_delete_of_attachments_emits_events_and_releases_blobs(
    tenant: Tenant, browser: Client
) -> None:
    session = _session_with_files(tenant)
    attachments = list(Attachment.objects.filter(session=session))
    blob_keys = {attachment.blob.storage_key for attachment in attachments}  # type: ignore[union-attr]
    assert blob_keys <= stored_keys()
    confirm = action(
        browser,
        "/admin/attachments/attachment/",
        "delete_selected",
        [a.pk for a in attachments],
    )
    assert confirm.status_code == 200  # Django's confirmation page
    answer = action(
        browser,
        "/admin/attachments/attachment/",
        "delete_selected",
        [a.pk for a in attachments],
        post="yes",
    )
    assert answer.status_code == 302
    assert not Attachment.objects.filter(session=session).exists()
    deleted = Event.objects.filter(session=session, kind=EventKind.ATTACHMENT_DELETED)
    assert sorted(deleted.values_list("attachment_id", flat=True)) == sorted(
        a.attachment_id for a in attachments
    )
    assert not Blob.objects.filter(pk__in=[a.blob_id for a in attachments]).exists()
    assert not blob_keys & stored_keys()


def test_deleting_a_session_and_an_artifact_go_through_their_services(
    tenant: Tenant, browser: Client
) -> None:
    session = _session_with_files(tenant)
    artifact = Artifact.objects.get(session=session)
    answer = browser.post(f"/admin/artifacts/artifact/{artifact.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert Event.objects.filter(kind=EventKind.ARTIFACT_DELETED).count() == 1
    blob_ids = list(Attachment.objects.filter(session=session).values_list("blob_id", flat=True))
    answer = action(
        browser, "/admin/sessions_app/session/", "delete_selected", [session.pk], post="yes"
    )
    assert answer.status_code == 302
    assert not Session.objects.filter(pk=session.pk).exists()
    # session_delete's events: one attachment.deleted per file, in the namespace feed.
    assert (
        Event.objects.filter(session_public_id="run-1", kind=EventKind.ATTACHMENT_DELETED).count()
        == 2
    )
    assert not Blob.objects.filter(pk__in=blob_ids).exists()


def test_the_event_log_offers_no_delete(tenant: Tenant, browser: Client) -> None:
    _session_with_files(tenant)
    event = Event.objects.first()
    assert event is not None
    listing = browser.get("/admin/sessions_app/event/")
    assert listing.context["action_form"] is None  # no actions at all, so no bulk delete
    assert browser.get(f"/admin/sessions_app/event/{event.pk}/delete/").status_code == 403
    action(browser, "/admin/sessions_app/event/", "delete_selected", [event.pk], post="yes")
    assert Event.objects.filter(pk=event.pk).exists()


# --- operator actions ---------------------------------------------------------------------


def test_revoke_and_rotate_actions(tenant: Tenant, browser: Client) -> None:
    owner = ApiKey.objects.get(prefix=tenant.owner_key.split("_")[1])
    reader = ApiKey.objects.get(prefix=tenant.read_only_key.split("_")[1])
    action(browser, "/admin/sessions_app/apikey/", "revoke_keys", [reader.pk])
    assert AsgiClient(tenant.read_only_key).get("/api/sessions").status_code == 401

    rotated = action(browser, "/admin/sessions_app/apikey/", "rotate_keys", [owner.pk])
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    ((new, raw_key),) = rotated.context["keys"]
    assert raw_key in rotated.content.decode()
    assert AsgiClient(raw_key).get("/api/sessions").status_code == 200
    assert AsgiClient(tenant.owner_key).get("/api/sessions").status_code == 401
    assert (new.organization_id, new.default_workspace_id) == (
        owner.organization_id,
        owner.default_workspace_id,
    )


def test_key_filters_for_revoked_and_expired(tenant: Tenant, browser: Client) -> None:
    keys = list(ApiKey.objects.order_by("id"))
    services.api_key_revoke(api_key=keys[0])
    ApiKey.objects.filter(pk=keys[1].pk).update(expires_at=timezone.now() - timedelta(days=1))

    def listed(state: str) -> set[int]:
        page = browser.get(f"/admin/sessions_app/apikey/?state={state}")
        return {key.pk for key in page.context["cl"].result_list}

    assert listed("revoked") == {keys[0].pk}
    assert listed("expired") == {keys[1].pk}
    assert listed("usable") == {keys[2].pk}


def test_purge_expired_action(tenant: Tenant, browser: Client) -> None:
    session = _session_with_files(tenant)
    artifact = Artifact.objects.get(session=session)
    Artifact.objects.filter(pk=artifact.pk).update(expires_at=timezone.now() - timedelta(1))
    page = browser.get("/admin/artifacts/artifact/purge-expired/")
    assert page.status_code == 200 and page.context["expired"] == 1
    assert Artifact.objects.filter(pk=artifact.pk).exists()  # GET changes nothing
    answer = browser.post("/admin/artifacts/artifact/purge-expired/")
    assert answer.status_code == 302
    assert not Artifact.objects.filter(pk=artifact.pk).exists()
    assert Event.objects.filter(kind=EventKind.ARTIFACT_DELETED).count() == 1
    assert "purge-expired/" in browser.get("/admin/artifacts/artifact/").content.decode()


def test_reindex_and_retry_failed_indexing_actions(tenant: Tenant, browser: Client) -> None:
    session = _session_with_files(tenant)
    artifact = Artifact.objects.get(session=session)
    Artifact.objects.filter(pk=artifact.pk).update(
        index_status=IndexStatus.FAILED, index_attempts=3, index_error="boom", chunk_count=0
    )
    failed = browser.get("/admin/artifacts/artifact/?index_status__exact=failed")
    assert [a.pk for a in failed.context["cl"].result_list] == [artifact.pk]

    action(browser, "/admin/artifacts/artifact/", "retry_failed_indexing", [artifact.pk])
    artifact.refresh_from_db()
    assert (artifact.index_status, artifact.index_attempts, artifact.index_error) == (
        IndexStatus.PENDING,
        0,
        "",
    )
    from django_tasks_db.models import DBTaskResult

    queued = DBTaskResult.objects.filter(status="READY", args_kwargs__args=[artifact.pk])
    assert queued.exists()

    action(browser, "/admin/artifacts/artifact/", "reindex_now", [artifact.pk])
    artifact.refresh_from_db()
    assert artifact.index_status == IndexStatus.INDEXED and artifact.chunk_count >= 1


def test_collect_orphans_dry_run_first(tenant: Tenant, browser: Client, settings: Any) -> None:
    settings.DEPOT_ORPHAN_GRACE_SECONDS = 0
    orphan = storage.write_stream(iter([b"half an upload"])).temp_key
    assert orphan in stored_keys()
    dry = browser.get("/admin/attachments/blob/collect-orphans/")
    assert dry.status_code == 200 and dry.context["dry_run"]
    assert f"would remove orphan {orphan}" in dry.context["report"]
    assert orphan in stored_keys()
    done = browser.post("/admin/attachments/blob/collect-orphans/")
    assert done.status_code == 200 and not done.context["dry_run"]
    assert orphan not in stored_keys()


def test_session_zip_and_links(tenant: Tenant, browser: Client) -> None:
    session = _session_with_files(tenant)
    page = browser.get(f"/admin/sessions_app/session/{session.pk}/change/").content.decode()
    for url in (
        f"/admin/attachments/attachment/?session__id__exact={session.pk}",
        f"/admin/artifacts/artifact/?session__id__exact={session.pk}",
        f"/admin/sessions_app/event/?session__id__exact={session.pk}",
        f"/admin/sessions_app/session/{session.pk}/zip/",
    ):
        assert url in page
        assert browser.get(url).status_code == 200
    attachments = browser.get(f"/admin/attachments/attachment/?session__id__exact={session.pk}")
    assert len(attachments.context["cl"].result_list) == 2
    answer = browser.get(f"/admin/sessions_app/session/{session.pk}/zip/")
    body = b"".join(answer.streaming_content)  # type: ignore[arg-type]
    names = zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert sorted(names) == ["artifacts/report.md", "attachments/f0.txt", "attachments/f1.txt"]


# --- a superuser in the browsable API -----------------------------------------------------


def test_superuser_without_membership_browses_the_api(
    tenant: Tenant, stranger: Stranger, root: AbstractBaseUser, browser: Client
) -> None:
    _session_with_files(tenant)
    assert not Membership.objects.filter(user=root).exists()
    page = browser.get("/api/sessions", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    # With no choice made: the first organization by slug (acme before globex).
    listed = browser.get("/api/sessions", HTTP_ACCEPT="application/json").json()
    assert "run-1" in str(listed)

    action(
        browser,
        "/admin/sessions_app/organization/",
        "act_in_organization",
        [stranger.organization.pk],
    )
    listed = browser.get("/api/sessions", HTTP_ACCEPT="application/json").json()
    assert "run-1" not in str(listed)

    # A staff user who is not a superuser still needs a Membership.
    staff = get_user_model().objects.create_user("staff", password="pw-staff-123456", is_staff=True)
    other = Client()
    other.force_login(staff)
    assert other.get("/api/sessions", HTTP_ACCEPT="application/json").status_code == 403


def test_the_superusers_choice_holds_for_long_polls_too(
    tenant: Tenant, stranger: Stranger, browser: Client
) -> None:
    answer = AsgiClient(stranger.key).upload("/api/uploads/g-1", b"globex file", name="g.txt")
    assert answer.status_code in {200, 201}, answer.text
    poll = "/api/sessions/g-1/artifact-events?after=0&wait_seconds=0"

    def seen() -> int:
        reply = browser.get(poll, HTTP_ACCEPT="application/json")
        assert reply.status_code == 200, reply.content
        return len(reply.json()["events"])

    assert seen() == 0  # acting in acme (the first organization): globex's session is unseen
    action(
        browser,
        "/admin/sessions_app/organization/",
        "act_in_organization",
        [stranger.organization.pk],
    )
    assert seen() == 1
