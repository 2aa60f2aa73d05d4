"""Events get a namespace and a per-namespace sequence (the namespace feed), and may belong to
no session (artifacts outside any session)."""

import django.db.models.deletion
from django.db import migrations, models


def backfill_namespaces(apps, schema_editor):  # type: ignore[no-untyped-def]
    Event = apps.get_model("sessions_app", "Event")
    Namespace = apps.get_model("sessions_app", "Namespace")
    counters: dict[int, int] = {}
    for event in Event.objects.select_related("session").order_by("id").iterator():
        namespace_id = event.session.namespace_id
        counters[namespace_id] = counters.get(namespace_id, 0) + 1
        Event.objects.filter(pk=event.pk).update(
            namespace_id=namespace_id, namespace_sequence=counters[namespace_id]
        )
    for namespace_id, last in counters.items():
        Namespace.objects.filter(pk=namespace_id).update(last_event_sequence=last)


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="namespace",
            name="last_event_sequence",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="event",
            name="namespace",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="sessions_app.namespace",
            ),
        ),
        migrations.AddField(
            model_name="event",
            name="namespace_sequence",
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.RunPython(backfill_namespaces, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="event",
            name="namespace",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="sessions_app.namespace",
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="namespace_sequence",
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AlterField(
            model_name="event",
            name="session",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="sessions_app.session",
            ),
        ),
        migrations.AlterField(
            model_name="event",
            name="sequence",
            field=models.PositiveBigIntegerField(blank=True, null=True),
        ),
        migrations.AlterModelOptions(
            name="event",
            options={"ordering": ["namespace_id", "namespace_sequence"]},
        ),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.UniqueConstraint(
                fields=("namespace", "namespace_sequence"), name="event_sequence_per_namespace"
            ),
        ),
    ]
