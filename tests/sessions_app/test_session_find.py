"""`selectors.session_find` reads as the ORM query it replaced (a prepared statement with the
ORM's converters, sessions_app/raw_reads.py): the same row chosen, every field alike, the
namespace and its workspace cached on it as `select_related` leaves them, in one statement."""

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app import selectors, services
from sessions_app.models import DEFAULT_NAMESPACE, Namespace, Session
from sessions_app.principals import Principal
from tests.support import Stranger, Tenant

pytestmark = pytest.mark.django_db


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _principal(tenant: Tenant, *, default: int, limit: int | None = None) -> Principal:
    return Principal(
        organization_id=tenant.organization.pk,
        default_workspace_id=default,
        workspace_limit_id=limit,
        read_only=False,
        api_key_id=None,
        label="test",
    )


def _orm(principal: Principal, session_id: str) -> Session | None:
    """What session_find answered before it was a prepared statement."""
    return selectors._named(principal, session_id).select_related("namespace__workspace").first()


def _session(tenant: Tenant, workspace: Any, session_id: str, **fields: Any) -> Session:
    namespace = Namespace.objects.get(workspace=workspace, slug=DEFAULT_NAMESPACE)
    return services.session_create(
        organization_id=tenant.organization.pk,
        namespace=namespace,
        session_id=session_id,
        **fields,
    )


def _same(found: Session | None, expected: Session | None) -> None:
    assert (found is None) == (expected is None)
    if found is None or expected is None:
        return
    assert _fields(found) == _fields(expected)
    assert not found._state.adding and found._state.db == expected._state.db
    with CaptureQueriesContext(connection) as captured:
        assert _fields(found.namespace) == _fields(expected.namespace)
        assert _fields(found.namespace.workspace) == _fields(expected.namespace.workspace)
    assert len(captured) == 0, "the namespace and its workspace come with the session"


def test_the_same_session_as_the_orm_chose(tenant: Tenant, stranger: Stranger) -> None:
    alpha, beta = tenant.workspace, tenant.other_workspace
    # One id in both workspaces; one only in the other; one nowhere; one of a stranger.
    _session(
        tenant,
        beta,
        "both",
        metadata={"k": ["v", 1, None], "ü": 2.5},
        reference="r",
        workflow_id="wf",
    )
    _session(tenant, alpha, "both", user_reference="u")
    _session(tenant, beta, "beta-only")
    services.session_create(
        organization_id=stranger.organization.pk,
        namespace=Namespace.objects.get(workspace=stranger.workspace, slug=DEFAULT_NAMESPACE),
        session_id="theirs",
    )
    principals = [
        _principal(tenant, default=alpha.pk),  # organization-wide, default alpha
        _principal(tenant, default=beta.pk),  # organization-wide, default beta
        _principal(tenant, default=beta.pk, limit=beta.pk),  # limited to beta
        _principal(tenant, default=alpha.pk, limit=alpha.pk),  # limited to alpha
    ]
    for principal in principals:
        for session_id in ("both", "beta-only", "nowhere", "theirs"):
            with CaptureQueriesContext(connection) as captured:
                found = selectors.session_find(principal=principal, session_id=session_id)
            assert len(captured) == 1
            _same(found, _orm(principal, session_id))
    found = selectors.session_find(principal=principals[1], session_id="both")
    assert found is not None and found.workspace_id == beta.pk
    assert found.metadata == {"k": ["v", 1, None], "ü": 2.5}
    assert isinstance(found.created_at, datetime.datetime) and found.created_at.tzinfo
    assert found.completed_at is None


def test_outside_the_default_workspace_the_newest_wins(tenant: Tenant) -> None:
    """An organization-wide key whose default workspace has no session of that id gets the
    newest of the others, as the ORM's ORDER BY chose."""
    third = services.workspace_create(organization=tenant.organization, slug="gamma")
    _session(tenant, tenant.other_workspace, "elsewhere")
    newest = _session(tenant, third, "elsewhere")
    principal = _principal(tenant, default=tenant.workspace.pk)
    found = selectors.session_find(principal=principal, session_id="elsewhere")
    assert found is not None and found.pk == newest.pk
    _same(found, _orm(principal, "elsewhere"))


def test_a_completed_session_reads_its_completion(tenant: Tenant) -> None:
    session = _session(tenant, tenant.workspace, "done")
    services.session_complete(session=session)
    principal = _principal(tenant, default=tenant.workspace.pk)
    found = selectors.session_find(principal=principal, session_id="done")
    _same(found, _orm(principal, "done"))
    assert found is not None and found.completed_at is not None and found.status != "active"
