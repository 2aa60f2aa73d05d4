"""The default namespace has one maker (`workspace_create`), and a read never writes: a key
whose workspace lost its `default` namespace gets a 404 from the flat surface, and no
namespace row appears."""

import pytest
from rest_framework.test import APIClient

from sessions_app.models import DEFAULT_NAMESPACE, Namespace
from tests.support import Tenant

pytestmark = pytest.mark.django_db


def test_workspace_create_makes_the_default_namespace(tenant: Tenant) -> None:
    assert Namespace.objects.filter(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE).exists()


def test_a_read_does_not_make_a_missing_default_namespace(tenant: Tenant, owner: APIClient) -> None:
    Namespace.objects.filter(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE).delete()
    before = Namespace.objects.count()
    response = owner.get("/api/artifacts")
    assert response.status_code == 404
    assert response.json() == {"detail": "This key's workspace has no default namespace."}
    assert Namespace.objects.count() == before


def test_the_flat_list_reads_the_default_namespace(tenant: Tenant, owner: APIClient) -> None:
    assert owner.get("/api/artifacts").status_code == 200
