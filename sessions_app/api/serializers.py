from rest_framework import serializers

from sessions_app.api.common import JSONObjectField, PageQuerySerializer, StrictSerializer
from sessions_app.api.pagination import KeysetPagination
from sessions_app.models import SESSION_ID_MESSAGE, SESSION_ID_PATTERN, Session, SessionStatus


class SessionCreate(StrictSerializer):
    session_id = serializers.RegexField(
        SESSION_ID_PATTERN,
        max_length=128,
        required=False,
        error_messages={"invalid": SESSION_ID_MESSAGE},
        help_text="Omit to have Depot mint `s-<uuid>`.",
    )
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True)
    user_reference = serializers.CharField(max_length=255, required=False, allow_blank=True)
    workflow_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    metadata = JSONObjectField(required=False)


class SessionUpdate(StrictSerializer):
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True)
    user_reference = serializers.CharField(max_length=255, required=False, allow_blank=True)
    workflow_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    metadata = JSONObjectField(required=False)


class SessionComplete(StrictSerializer):
    status = serializers.ChoiceField(
        choices=[SessionStatus.COMPLETED, SessionStatus.FAILED],
        default=SessionStatus.COMPLETED,
    )


class SessionListQuery(PageQuerySerializer):
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
    reference = serializers.CharField(required=False)
    user_reference = serializers.CharField(required=False)
    workflow_id = serializers.CharField(required=False)


class SessionResponse(serializers.ModelSerializer):
    workspace = serializers.CharField(source="namespace.workspace.slug", read_only=True)
    namespace = serializers.CharField(source="namespace.slug", read_only=True)

    class Meta:
        model = Session
        fields = [
            "session_id",
            "status",
            "reference",
            "user_reference",
            "workflow_id",
            "metadata",
            "workspace",
            "namespace",
            "created_at",
            "updated_at",
            "completed_at",
        ]
        read_only_fields = fields


SESSION_PAGES = KeysetPagination(
    component="SessionPageResponse",
    items="sessions",
    item_serializer=SessionResponse,
    fields=("sessions", "has_more", "next_cursor"),
)
SessionPageResponse = SESSION_PAGES.serializer
