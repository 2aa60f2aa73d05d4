"""Seed 001: the flat /api/artifacts surface."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from artifacts import selectors
from artifacts.api.serializers.fields import EmptyAsNullCharField, MediaTypeField
from sessions_app import selectors as session_selectors
from sessions_app.api.common import (
    MAX_INTEGER,
    JSONObjectField,
    StagedFileFieldsMixin,
    StrictSerializer,
)
from sessions_app.errors import InvalidInput

CONTENT_ENCODINGS = ["utf-8", "base64"]


def _details(error: InvalidInput) -> list[serializers.ErrorDetail]:
    """A domain 422's messages as DRF errors of one field, their types kept."""
    return [serializers.ErrorDetail(item["msg"], item["type"]) for item in error.errors]


class FlatArtifactListQuery(StrictSerializer):
    workflow_id = serializers.CharField(required=False)
    phase_id = serializers.CharField(required=False)
    artifact_type = serializers.CharField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


class FlatArtifactListItem(serializers.Serializer):
    id = serializers.CharField(source="root_artifact_id")
    workflow_id = serializers.CharField()
    phase_id = EmptyAsNullCharField()
    artifact_type = serializers.CharField()
    title = serializers.CharField(source="name")
    size_bytes = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class FlatArtifactCreate(StrictSerializer):
    workflow_id = serializers.CharField(max_length=255)
    artifact_type = serializers.CharField(max_length=100)
    title = serializers.CharField(max_length=500)
    content = serializers.CharField(allow_blank=True, trim_whitespace=False)
    phase_id = serializers.CharField(
        max_length=255, required=False, allow_null=True, allow_blank=True
    )
    session_id = serializers.CharField(max_length=128, required=False, allow_null=True)
    content_type = MediaTypeField(default="text/markdown")
    derived_from = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, max_length=100
    )
    metadata = JSONObjectField(required=False)
    is_primary_deliverable = serializers.BooleanField(required=False, default=False)

    # Checked here, as field validators, rather than after validation: DRF then reports a bad
    # session id or lineage target together with every other problem of the body (one 422).
    def validate_session_id(self, value: str | None) -> str | None:
        if value:
            try:
                session_selectors.validate_session_id(value)
            except InvalidInput as error:
                raise serializers.ValidationError(_details(error)) from None
        return value

    def validate_derived_from(self, value: list[str]) -> list[Any]:
        """The lineage targets as rows: each id must name an artifact the caller can see
        (`context["principal"]`), else a 422 at its index."""
        try:
            return selectors.artifacts_resolve(
                scope=selectors.artifact_scope(principal=self.context["principal"]),
                ids=value,
                loc=[],
            )
        except InvalidInput as error:
            raise serializers.ValidationError(
                {item["loc"][-1]: _details(InvalidInput([item])) for item in error.errors}
            ) from None


class FlatArtifactCreateResponse(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    artifact_type = serializers.CharField()
    status = serializers.CharField()


class FlatArtifactQuery(StrictSerializer):
    include_content = serializers.BooleanField(default=True)
    version = serializers.IntegerField(min_value=1, max_value=MAX_INTEGER, required=False)


class FlatArtifactResponse(serializers.Serializer):
    id = serializers.CharField(source="root_artifact_id")
    version_id = serializers.CharField(source="artifact_id")
    version = serializers.IntegerField()
    workflow_id = serializers.CharField()
    phase_id = EmptyAsNullCharField()
    session_id = serializers.CharField(source="session.session_id", allow_null=True, default=None)
    artifact_type = serializers.CharField()
    is_primary_deliverable = serializers.BooleanField()
    content = serializers.CharField(
        allow_null=True,
        help_text=(
            "The content as `/content` renders it: UTF-8 text as is, any other file as "
            "base64 (see `content_encoding`); null with `include_content=false`."
        ),
    )
    # Set by the view, beside the content it describes (the key is absent with
    # `include_content=false`: a file's encoding is known only once its bytes are read).
    content_encoding = serializers.ChoiceField(
        choices=CONTENT_ENCODINGS,
        required=False,
        help_text="How `content` holds the bytes; absent with `include_content=false`.",
    )
    content_type = serializers.CharField()
    content_hash = serializers.CharField()
    size_bytes = serializers.IntegerField()
    title = serializers.CharField(source="name")
    derived_from = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField()
    metadata = serializers.DictField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_derived_from(self, artifact: Any) -> list[str]:
        return [parent.artifact_id for parent in artifact.derived_from.all()]


class FlatArtifactVersionQuery(StrictSerializer):
    version = serializers.IntegerField(min_value=1, max_value=MAX_INTEGER, required=False)


class FlatArtifactContentResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    content = serializers.CharField()
    content_type = serializers.CharField()
    content_encoding = serializers.ChoiceField(choices=CONTENT_ENCODINGS)
    size_bytes = serializers.IntegerField()


class FlatArtifactUpload(StagedFileFieldsMixin, StrictSerializer):
    file = serializers.FileField()


class FlatArtifactUploadResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    storage_url = serializers.CharField()
    status = serializers.CharField()
