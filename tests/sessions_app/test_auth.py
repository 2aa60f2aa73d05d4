from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from sessions_app import services
from sessions_app.models import ApiKey
from tests.support import Tenant, client_with

pytestmark = pytest.mark.django_db


def test_no_key_is_401_with_a_challenge(tenant: Tenant) -> None:
    response = client_with(None).get("/api/sessions")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("bad_key", ["nonsense", "dpt_000000000000_secret", "dpt_"])
def test_unknown_key_is_401(tenant: Tenant, bad_key: str) -> None:
    response = client_with(bad_key).get("/api/sessions")
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


def test_right_prefix_wrong_secret_is_401(tenant: Tenant) -> None:
    forged = tenant.owner_key[:-4] + "AAAA"
    assert client_with(forged).get("/api/sessions").status_code == 401


@pytest.mark.parametrize("bearer", [False, True], ids=["x-api-key", "bearer"])
def test_key_accepted_in_either_header(tenant: Tenant, bearer: bool) -> None:
    response = client_with(tenant.owner_key, bearer=bearer).get("/api/sessions")
    assert response.status_code == 200


def test_other_authorization_schemes_are_not_keys(tenant: Tenant) -> None:
    client = client_with(None)
    client.credentials(HTTP_AUTHORIZATION=f"Basic {tenant.owner_key}")
    assert client.get("/api/sessions").status_code == 401


def test_revoked_key_is_401(tenant: Tenant) -> None:
    client = client_with(tenant.owner_key)
    assert client.get("/api/sessions").status_code == 200
    api_key = ApiKey.objects.get(prefix=tenant.owner_key.split("_")[1])
    services.api_key_revoke(api_key=api_key)
    assert client.get("/api/sessions").status_code == 401


def test_expired_key_is_401(tenant: Tenant) -> None:
    _, raw_key = services.api_key_create(
        organization=tenant.organization,
        default_workspace=tenant.workspace,
        expires_at=timezone.now() + timedelta(days=1),
    )
    client = client_with(raw_key)
    assert client.get("/api/sessions").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert client.get("/api/sessions").status_code == 401


def test_only_the_hash_is_stored(tenant: Tenant) -> None:
    for api_key in ApiKey.objects.all():
        for value in (api_key.secret_hash, api_key.prefix, api_key.name):
            assert tenant.owner_key not in value
        assert len(api_key.secret_hash) == 64


def test_read_only_key_reads_but_cannot_write(tenant: Tenant) -> None:
    client = client_with(tenant.read_only_key)
    assert client.get("/api/sessions").status_code == 200
    response = client.post("/api/sessions", {"session_id": "nope"}, format="json")
    assert response.status_code == 403
    assert response.json() == {"detail": "This API key is read-only."}
    owner = client_with(tenant.owner_key)
    owner.post("/api/sessions", {"session_id": "s1"}, format="json")
    assert client.patch("/api/sessions/s1", {"reference": "x"}, format="json").status_code == 403
    assert client.delete("/api/sessions/s1").status_code == 403
    assert client.post("/api/sessions/s1/complete").status_code == 403
    assert client.get("/api/sessions/s1").status_code == 200


def test_workspace_limited_key_sees_only_its_workspace(tenant: Tenant) -> None:
    owner = client_with(tenant.owner_key)
    limited = client_with(tenant.limited_key)
    assert owner.post("/api/sessions", {"session_id": "in-alpha"}, format="json").status_code == 201
    assert (
        limited.post("/api/sessions", {"session_id": "in-beta"}, format="json").status_code == 201
    )
    assert limited.get("/api/sessions/in-alpha").status_code == 404
    listed = [s["session_id"] for s in limited.get("/api/sessions").json()["sessions"]]
    assert listed == ["in-beta"]
    # The org-wide key sees both, and the limited key's session landed in its own workspace.
    both = {s["session_id"]: s["workspace"] for s in owner.get("/api/sessions").json()["sessions"]}
    assert both == {"in-alpha": "alpha", "in-beta": "beta"}


def test_django_login_works_for_members(tenant: Tenant, django_user_model: type) -> None:
    from rest_framework.test import APIClient

    from sessions_app.models import Membership

    user = django_user_model.objects.create_user("ann", password="pw-123-long")
    client = APIClient()
    client.force_login(user)
    assert client.get("/api/sessions").status_code == 403  # not a member of any organization
    Membership.objects.create(user=user, organization=tenant.organization)
    assert client.get("/api/sessions").status_code == 200
