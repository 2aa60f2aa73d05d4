"""Session ids become unique per workspace instead of per organization (issue 14, item 11).

A workspace-limited key must not learn which session ids exist in the organization's other
workspaces; while ids were unique per organization, creating a taken id answered 409. Steps:
add `Session.workspace` nullable, backfill it from the session's namespace, make it required,
then swap the per-organization unique constraint for a per-workspace one (an index on
(organization, session_id) keeps organization-wide lookups fast).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_workspace(apps, schema_editor):
    Session = apps.get_model("sessions_app", "Session")
    Namespace = apps.get_model("sessions_app", "Namespace")
    Session.objects.using(schema_editor.connection.alias).filter(workspace__isnull=True).update(
        workspace_id=Subquery(
            Namespace.objects.filter(pk=OuterRef("namespace_id")).values("workspace_id")[:1]
        )
    )
    if schema_editor.connection.vendor == "postgresql":
        # The new foreign key is checked at commit (DEFERRABLE INITIALLY DEFERRED); with those
        # checks pending, PostgreSQL refuses the ALTER TABLE that follows. Run them now.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0005_organization_storage_quota"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="workspace",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sessions",
                to="sessions_app.workspace",
            ),
        ),
        migrations.RunPython(backfill_workspace, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="session",
            name="workspace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sessions",
                to="sessions_app.workspace",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="session",
            name="session_id_per_org",
        ),
        migrations.AddConstraint(
            model_name="session",
            constraint=models.UniqueConstraint(
                fields=("workspace", "session_id"), name="session_id_per_workspace"
            ),
        ),
        migrations.AddIndex(
            model_name="session",
            index=models.Index(fields=["organization", "session_id"], name="session_id_in_org_idx"),
        ),
    ]
