"""Service-wide behaviour: JSON errors everywhere, schema, admin, health and readiness."""

import json
from io import StringIO
from unittest import mock

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/nope", "/api/nope", "/api/sessions/x/y/z", "/admin-nope/"])
def test_unknown_routes_are_json_404(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_wrong_method_is_json_405(owner: APIClient) -> None:
    response = owner.put("/api/sessions", {}, format="json")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}


def test_unparseable_json_is_400(owner: APIClient) -> None:
    response = owner.generic("POST", "/api/sessions", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)


def test_unexpected_error_is_json_500_without_traceback(owner: APIClient) -> None:
    # Mocked: there is no real way to make a correct selector crash on demand. An unknown error
    # takes Django's own 500 path (config.views.server_error), as a server would answer it; the
    # test client re-raises it unless told to answer instead.
    owner.raise_request_exception = False
    with mock.patch("sessions_app.selectors.session_list", side_effect=RuntimeError("/srv/secret")):
        response = owner.get("/api/sessions")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert b"Traceback" not in response.content and b"/srv/secret" not in response.content


def test_csrf_failure_is_json(tenant: Tenant, django_user_model: type) -> None:
    user = django_user_model.objects.create_user("csrf", password="pw-123-long")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/admin/logout/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF check failed")


def test_schema_validates_without_warnings() -> None:
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/sessions/{session_id}/complete" in out.getvalue()


def test_schema_and_docs_need_no_key() -> None:
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert "ApiKeyHeader" in document["components"]["securitySchemes"]
    assert "ValidationErrorResponse" in document["components"]["schemas"]
    for path in ("/api/docs/", "/api/redoc/"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"<html" in response.content.lower()


def test_every_model_has_an_admin_changelist_that_loads(
    admin_client: Client, tenant: Tenant
) -> None:
    # A little of everything, so the changelists render rows, not just empty tables.
    APIClient().credentials()
    owner = APIClient()
    owner.credentials(HTTP_X_API_KEY=tenant.owner_key)
    owner.post("/api/sessions", {"session_id": "adm"}, format="json")
    owner.post("/api/sessions/adm/complete")
    depot_models = [
        model
        for model in admin.site._registry
        if model._meta.app_label in {"sessions_app", "attachments", "artifacts"}
    ]
    assert len(depot_models) >= 8
    for model in depot_models:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_admin_actions_revoke_keys_and_complete_sessions(
    admin_client: Client, tenant: Tenant
) -> None:
    from sessions_app.models import ApiKey, Session

    owner = APIClient()
    owner.credentials(HTTP_X_API_KEY=tenant.owner_key)
    owner.post("/api/sessions", {"session_id": "adm"}, format="json")
    session = Session.objects.get(session_id="adm")
    admin_client.post(
        reverse("admin:sessions_app_session_changelist"),
        {"action": "complete_sessions", "_selected_action": [session.pk]},
    )
    assert Session.objects.get(pk=session.pk).status == "completed"

    key = ApiKey.objects.get(prefix=tenant.owner_key.split("_")[1])
    admin_client.post(
        reverse("admin:sessions_app_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk]},
    )
    assert owner.get("/api/sessions").status_code == 401


def test_admin_add_key_shows_it_once(admin_client: Client, tenant: Tenant) -> None:
    from sessions_app.models import ApiKey

    response = admin_client.post(
        reverse("admin:sessions_app_apikey_add"),
        {
            "name": "from-admin",
            "organization": tenant.organization.pk,
            "default_workspace": tenant.workspace.pk,
            "read_only": "on",
        },
    )
    # Shown once, on the page that answers the add (no redirect, no message cookie).
    assert response.status_code == 200
    ((_, raw_key),) = response.context["keys"]
    assert raw_key in response.content.decode()
    created = ApiKey.objects.get(name="from-admin")
    assert created.read_only
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw_key)
    assert client.get("/api/sessions").status_code == 200


def test_healthz() -> None:
    response = Client().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db(transaction=True)
def test_readyz_all_ok() -> None:
    from ops.heartbeat import beat

    beat("test-worker")  # a task worker that has just reported (ops/heartbeat.py)
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "storage": "ok",
        "channel_layer": "ok",
        "task_worker": "ok",
    }


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_stopped_channel_layer() -> None:
    # A real Redis client pointed at a port where nothing listens: the "stopped" dependency.
    dead = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{_closed_port()}/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=dead, DEPOT_READYZ_TIMEOUT_SECONDS=2):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["channel_layer"].startswith("unavailable")
    assert body["checks"]["database"] == "ok"
    assert "channel_layer" in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_readyz_names_stopped_storage() -> None:
    dead = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "nothing-here",
                "endpoint_url": f"http://127.0.0.1:{_closed_port()}",
                "access_key": "x",
                "secret_key": "y",
                "region_name": "us-east-1",
                "client_config": __import__("botocore.config").config.Config(
                    connect_timeout=1, retries={"max_attempts": 0}
                ),
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=dead, DEPOT_READYZ_TIMEOUT_SECONDS=3):
        response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"].startswith("unavailable")
    assert "storage" in response.json()["detail"]
