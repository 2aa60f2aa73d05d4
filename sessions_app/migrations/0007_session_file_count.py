"""Session.file_count: the session's attachment rows, kept by the attachment writes (issue 11),
so the per-session file limit needs no COUNT(*). Existing sessions are counted by
attachments' migration 0003 (the rows are that app's; sessions_app never reads them)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sessions_app", "0006_session_workspace"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="file_count",
            field=models.PositiveIntegerField(default=0),
        ),
    ]
