"""Counts each existing session's attachment rows into Session.file_count (sessions_app 0007),
which the attachment writes keep from then on."""

from django.db import migrations
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def count_files(apps, schema_editor):
    Session = apps.get_model("sessions_app", "Session")
    Attachment = apps.get_model("attachments", "Attachment")
    alias = schema_editor.connection.alias
    per_session = (
        Attachment.objects.using(alias)
        .filter(session_id=OuterRef("pk"))
        .order_by()
        .values("session_id")
        .annotate(files=Count("id"))
        .values("files")
    )
    Session.objects.using(alias).update(file_count=Coalesce(Subquery(per_session), Value(0)))


class Migration(migrations.Migration):
    dependencies = [
        ("attachments", "0002_attachment_content_text_attachment_index_error_and_more"),
        ("sessions_app", "0007_session_file_count"),
    ]

    operations = [migrations.RunPython(count_files, migrations.RunPython.noop)]
