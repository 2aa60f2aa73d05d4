"""Seed 000's routes that see attachments and artifacts: meta or bytes by id."""

from rest_framework import serializers

from sessions_app.api.common import StrictSerializer


class SessionItemQuery(StrictSerializer):
    mode = serializers.ChoiceField(choices=["meta", "stream"], default="meta")
    download = serializers.BooleanField(default=False)


class SessionItemMetaResponse(serializers.Serializer):
    """Seed-000 meta for an attachment or an artifact (`artifact_id` null for attachments)."""

    attachment_id = serializers.CharField()
    artifact_id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    mime = serializers.CharField()
    mime_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    created_at = serializers.DateTimeField()
    data_uri = serializers.CharField(
        allow_null=True, help_text="Present for files up to DEPOT_DATA_URI_MAX_BYTES, else null."
    )
    purged = serializers.BooleanField()
