from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attachments.content import MAX_MEDIA_TYPE_LENGTH, normalize_media_type
from sessions_app.api.common import (
    MAX_INTEGER,
    MAX_TTL_SECONDS,
    JSONObjectField,
    PageQuerySerializer,
    StrictCharField,
    StrictSerializer,
    json_loads,
)


class EmptyAsNullCharField(serializers.CharField):
    """Stored as "" (Django's convention for text), shown as null where the seeds say null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value or None


class MediaTypeField(serializers.CharField):
    """A content type a client names for inline text: exactly one well-formed MIME type,
    stored in canonical form. A list (`text/plain, text/html`), a line break or anything else
    outside the grammar is a 422, because browsers act on the last type of a list."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_MEDIA_TYPE_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        normalized = normalize_media_type(value)
        if normalized is None:
            raise serializers.ValidationError(
                "Input should be one MIME type such as 'text/markdown' or "
                "'text/plain; charset=utf-8'.",
                "media_type",
            )
        return normalized


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


# --- shared pieces ---


class StringListField(serializers.ListField):
    """A list of strings; in a form, also a JSON array or a comma-separated string."""

    child = serializers.CharField(max_length=255)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            stripped = data.strip()
            if stripped.startswith("["):
                try:
                    data = json_loads(stripped)
                except ValueError as error:
                    raise serializers.ValidationError("Must be a JSON array.") from error
            else:
                data = [item.strip() for item in stripped.split(",") if item.strip()]
        return super().to_internal_value(data)


class FormJSONObjectField(JSONObjectField):
    """A JSON object; in a form, a JSON string."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            try:
                data = json_loads(data) if data.strip() else {}
            except ValueError as error:
                raise serializers.ValidationError("Must be a JSON object.") from error
        return super().to_internal_value(data)


# --- seed 001 ---


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


class FlatArtifactCreateRequest(StrictSerializer):
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
    content = serializers.CharField(allow_null=True)
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
    content_encoding = serializers.ChoiceField(choices=["utf-8", "base64"])
    size_bytes = serializers.IntegerField()


class FlatArtifactUploadForm(StrictSerializer):
    file = serializers.FileField()

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.context.get("file_outside_data"):
            fields.pop("file")
        return fields


class FlatArtifactUploadResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    storage_url = serializers.CharField()
    status = serializers.CharField()


# --- seed 002 ---


class ArtifactResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    workspace_id = serializers.CharField(source="namespace.workspace.slug")
    namespace_id = serializers.CharField(source="namespace.slug")
    thread_id = serializers.CharField(source="thread.thread_id", allow_null=True, default=None)
    session_id = serializers.CharField(source="session.session_id", allow_null=True, default=None)
    name = serializers.CharField()
    description = serializers.CharField()
    artifact_type = serializers.CharField()
    workflow_id = serializers.CharField()
    phase_id = serializers.CharField()
    version = serializers.IntegerField()
    root_artifact_id = serializers.CharField()
    is_latest = serializers.BooleanField()
    replaced_by_version = serializers.IntegerField()
    content = serializers.CharField(allow_null=True)
    content_preview = serializers.CharField()
    content_text = serializers.CharField()
    file_name = EmptyAsNullCharField()
    mime_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    has_file = serializers.BooleanField()
    content_hash = serializers.CharField()
    summary = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    tags = serializers.ListField(child=serializers.CharField())
    metadata = serializers.DictField()
    source = serializers.CharField()
    source_execution_id = serializers.CharField()
    source_step_id = serializers.CharField()
    source_tool = serializers.CharField()
    scope = serializers.CharField()
    status = serializers.CharField()
    is_primary_deliverable = serializers.BooleanField()
    ttl_seconds = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    is_pinned = serializers.BooleanField()
    is_expired = serializers.BooleanField()
    index_status = serializers.ChoiceField(
        choices=["pending", "indexed", "failed"],
        help_text="pending until the background indexer ran; failed with index_error set.",
    )
    is_indexed = serializers.BooleanField()
    indexed_at = serializers.DateTimeField(allow_null=True)
    index_collection = serializers.CharField()
    index_error = serializers.CharField()
    index_attempts = serializers.IntegerField()
    embedding_model_id = serializers.CharField()
    chunk_count = serializers.IntegerField()
    promoted_to_source_id = serializers.CharField(
        source="promoted_to_source.source_id", allow_null=True, default=None
    )
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LineageItem(serializers.Serializer):
    artifact_id = serializers.CharField()
    root_artifact_id = serializers.CharField()
    name = serializers.CharField()
    version = serializers.IntegerField()


class ArtifactLineage(serializers.Serializer):
    ancestors = LineageItem(many=True)
    descendants = LineageItem(many=True)


class ArtifactWithLineageResponse(ArtifactResponse):
    lineage = ArtifactLineage(required=False, help_text="Only with `include=lineage`.")


class ArtifactPageResponse(serializers.Serializer):
    total = serializers.IntegerField()
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(allow_null=True)
    artifacts = ArtifactResponse(many=True)


class ArtifactListQuery(PageQuerySerializer):
    thread_id = serializers.CharField(required=False)
    artifact_types = serializers.CharField(required=False, help_text="Comma-separated types.")
    include_expired = serializers.BooleanField(default=False)


class ThreadArtifactListQuery(PageQuerySerializer):
    artifact_types = serializers.CharField(required=False, help_text="Comma-separated types.")
    include_expired = serializers.BooleanField(default=False)


class ArtifactDetailQuery(StrictSerializer):
    version = serializers.IntegerField(min_value=1, max_value=MAX_INTEGER, required=False)
    include = serializers.ChoiceField(choices=["lineage"], required=False)


class ArtifactFieldsMixin(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    artifact_type = serializers.CharField(required=False, allow_blank=True, max_length=100)
    thread_id = serializers.CharField(required=False, max_length=255)
    session_id = serializers.CharField(required=False, max_length=128)
    workflow_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    phase_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    tags = StringListField(required=False)
    keywords = StringListField(required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    metadata = FormJSONObjectField(required=False)
    source = serializers.CharField(required=False, allow_blank=True, max_length=255)
    source_execution_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    source_step_id = serializers.CharField(required=False, allow_blank=True, max_length=255)
    source_tool = serializers.CharField(required=False, allow_blank=True, max_length=255)
    scope = serializers.CharField(required=False, allow_blank=True, max_length=100)
    status = serializers.CharField(required=False, allow_blank=True, max_length=50)
    is_primary_deliverable = serializers.BooleanField(required=False)
    ttl_seconds = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_TTL_SECONDS, allow_null=True
    )
    is_pinned = serializers.BooleanField(required=False)
    derived_from = StringListField(required=False)


class ArtifactCreateRequest(StrictSerializer, ArtifactFieldsMixin):
    name = serializers.CharField(max_length=500)
    content = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    content_type = MediaTypeField(required=False, default="text/markdown")


class ArtifactUploadForm(StrictSerializer, ArtifactFieldsMixin):
    file = serializers.FileField()
    name = serializers.CharField(max_length=500, required=False)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.context.get("file_outside_data"):
            fields.pop("file")
        return fields


class ArtifactUpdateRequest(StrictSerializer):
    """Content (or a file, as multipart) makes a new version; the other fields alone change
    the latest version in place."""

    content = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    content_type = MediaTypeField(required=False)
    file = serializers.FileField(required=False)
    name = serializers.CharField(required=False, max_length=500)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = StringListField(required=False)
    keywords = StringListField(required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    metadata = FormJSONObjectField(required=False)
    status = serializers.CharField(required=False, allow_blank=True, max_length=50)
    is_pinned = serializers.BooleanField(required=False)
    ttl_seconds = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_TTL_SECONDS, allow_null=True
    )

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.context.get("file_outside_data"):
            fields.pop("file")
        return fields


class ArtifactVersionsResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    versions = ArtifactResponse(many=True)


class DownloadQuery(StrictSerializer):
    expires_in = serializers.IntegerField(min_value=60, max_value=86400, default=3600)


class DownloadUrlResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    download_url = serializers.CharField()
    expires_in = serializers.IntegerField()
    file_name = serializers.CharField()
    content_type = serializers.CharField()
    file_size_bytes = serializers.IntegerField()


class PromoteRequest(StrictSerializer):
    name = serializers.CharField(required=False, max_length=500)


class PromoteResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    source_id = serializers.CharField()
    source_name = serializers.CharField()
    message = serializers.CharField()


# --- search (seed 002 query) ---


class ArtifactTypesField(StringListField):
    """A list of types; a comma-separated string is accepted too."""


class QueryRequest(StrictSerializer):
    query = StrictCharField(max_length=4096, help_text="Up to 4,096 characters.")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=10)
    artifact_types = ArtifactTypesField(required=False)
    thread_id = serializers.CharField(required=False, max_length=255)


class QueryResultItem(serializers.Serializer):
    artifact = ArtifactResponse()
    score = serializers.FloatField(help_text="Higher is better; comparable within one answer.")
    matched_chunk = serializers.CharField(help_text="The best-matching piece of the content.")
    highlight = serializers.CharField(help_text="An excerpt around the matched words.")


class QueryResponse(serializers.Serializer):
    results = QueryResultItem(many=True)
    combined_context = serializers.CharField(
        help_text="The matched chunks, best first, within DEPOT_SEARCH_CONTEXT_CHARS."
    )
    total_results = serializers.IntegerField(
        help_text="How many artifacts contain at least one of the words (exact when "
        "total_results_exact, else a lower bound)."
    )
    total_results_exact = serializers.BooleanField(
        help_text="false when a word was common enough that only its newest matches were "
        "ranked (DEPOT_SEARCH_RANK_WINDOW): total_results then counts those."
    )
    query = serializers.CharField()
    mode = serializers.ChoiceField(
        choices=["lexical", "hybrid"],
        help_text="lexical: full-text only; hybrid: fused with the semantic model.",
    )
