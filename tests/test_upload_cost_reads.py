"""The upload path's prepared reads give what the ORM query they replace gave (issue 11)."""

import pytest

from sessions_app.models import Organization
from sessions_app.quota import _own_quota, organization_quota
from tests.support import Tenant

pytestmark = pytest.mark.django_db


def _orm_quota(organization_id: int) -> int | None:
    return (
        Organization.objects.filter(pk=organization_id)
        .values_list("storage_quota_bytes", flat=True)
        .first()
    )


def test_own_quota_reads_as_the_orm_did(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    organization = tenant.organization
    settings.DEPOT_STORAGE_QUOTA_BYTES = 5000
    for own in (None, 0, 1, 2**40):
        Organization.objects.filter(pk=organization.pk).update(storage_quota_bytes=own)
        assert _own_quota(organization.pk) == _orm_quota(organization.pk) == own
        # Unset: the setting's quota; 0: none at all.
        expected = {None: 5000, 0: None}.get(own, own)
        assert organization_quota(organization_id=organization.pk) == expected
    missing = Organization.objects.order_by("-pk").values_list("pk", flat=True)[0] + 100
    assert _own_quota(missing) is None and _orm_quota(missing) is None
