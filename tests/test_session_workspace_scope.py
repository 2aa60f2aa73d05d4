"""Session ids are unique per workspace, not per organization (issue 14, item 11).

A workspace-limited key must not learn which session ids exist in the organization's other
workspaces. Every status it gets for "taken in another workspace" equals the status for "free".
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sessions_app.models import Namespace, Session, Workspace

MIGRATION_BEFORE = ("sessions_app", "0005_organization_storage_quota")
MIGRATION = ("sessions_app", "0006_session_workspace")


# --- the migration ---


@pytest.mark.django_db(transaction=True)
def test_migration_backfills_workspace_and_swaps_the_constraint() -> None:
    """Sessions made before 0006 get their namespace's workspace; afterwards the same id can
    exist in two workspaces of one organization, but not twice in one workspace."""
    executor = MigrationExecutor(connection)
    executor.migrate([MIGRATION_BEFORE])
    old = executor.loader.project_state([MIGRATION_BEFORE]).apps
    OldOrg = old.get_model("sessions_app", "Organization")
    OldWs = old.get_model("sessions_app", "Workspace")
    OldNs = old.get_model("sessions_app", "Namespace")
    OldSession = old.get_model("sessions_app", "Session")
    org = OldOrg.objects.create(slug="mig", name="Mig")
    ws_a = OldWs.objects.create(organization=org, slug="a", name="a")
    ws_b = OldWs.objects.create(organization=org, slug="b", name="b")
    ns_a = OldNs.objects.create(workspace=ws_a, slug="default")
    ns_b = OldNs.objects.create(workspace=ws_b, slug="other")
    OldSession.objects.create(organization=org, namespace=ns_a, session_id="one")
    OldSession.objects.create(organization=org, namespace=ns_b, session_id="two")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    rows = {s.session_id: s.workspace_id for s in Session.objects.filter(organization_id=org.pk)}
    assert rows == {"one": ws_a.pk, "two": ws_b.pk}
    # Same id in the other workspace: allowed now.
    Session.objects.create(
        organization_id=org.pk, namespace=Namespace.objects.get(pk=ns_b.pk), session_id="one"
    )
    # Same id twice in one workspace (another namespace of it): still refused by the database.
    from django.db import IntegrityError, transaction

    second_ns = Namespace.objects.create(workspace=Workspace.objects.get(pk=ws_a.pk), slug="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(organization_id=org.pk, namespace=second_ns, session_id="one")
