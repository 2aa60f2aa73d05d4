"""Events outlive their session: deleting a session unlinks its events (SET_NULL) instead of
deleting them, so the namespace feed has no gaps, and each event keeps the session's public id."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def backfill_session_public_ids(apps, schema_editor):  # type: ignore[no-untyped-def]
    Event = apps.get_model("sessions_app", "Event")
    Session = apps.get_model("sessions_app", "Session")
    Event.objects.filter(session__isnull=False).update(
        session_public_id=Subquery(
            Session.objects.filter(pk=OuterRef("session_id")).values("session_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0002_namespace_event_feed")]

    operations = [
        migrations.AddField(
            model_name="event",
            name="session_public_id",
            field=models.CharField(blank=True, default="", max_length=128),
        ),
        migrations.RunPython(backfill_session_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="event",
            name="session",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="events",
                to="sessions_app.session",
            ),
        ),
    ]
