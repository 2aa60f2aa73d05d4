"""Seed 002: /api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts…"""

from rest_framework import serializers

from artifacts.api.serializers.fields import (
    EmptyAsNullCharField,
    FormJSONObjectField,
    MediaTypeField,
    StringListField,
)
from sessions_app.api.common import (
    MAX_INTEGER,
    MAX_TTL_SECONDS,
    PageQuerySerializer,
    StagedFileFieldsMixin,
    StrictSerializer,
)
from sessions_app.api.pagination import KeysetPagination, PlannedListSerializer


class ArtifactResponse(serializers.Serializer):
    class Meta:
        # Version lists render their items field by field in one loop (the same answers:
        # tests/artifacts/test_list_total.py). The list's pages are made from rows by
        # artifacts.list_pages, as this renders them (tests/artifacts/test_list_rows.py).
        list_serializer_class = PlannedListSerializer

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
    # A field named `source` shadows Field.source (str | None) in django-stubs' view.
    source = serializers.CharField()  # type: ignore[assignment]
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


# Seed 002's page: the count of the whole filtered list, then the page. Keyed on the root id
# (artifact creation order), so a new version does not move an artifact. The schema's
# component; list_pages.artifact_page renders the answer.
ARTIFACT_PAGES = KeysetPagination(
    component="ArtifactPageResponse",
    items="artifacts",
    item_serializer=ArtifactResponse,
    fields=("total", "has_more", "next_cursor", "artifacts"),
    key="root_id",
)
ArtifactPageResponse = ARTIFACT_PAGES.serializer


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
    source = serializers.CharField(required=False, allow_blank=True, max_length=255)  # type: ignore[assignment]
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


class ArtifactCreate(StrictSerializer, ArtifactFieldsMixin):
    name = serializers.CharField(max_length=500)
    content = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    content_type = MediaTypeField(required=False, default="text/markdown")


class ArtifactUpload(StagedFileFieldsMixin, StrictSerializer, ArtifactFieldsMixin):
    file = serializers.FileField()
    name = serializers.CharField(max_length=500, required=False)


class ArtifactUpdate(StagedFileFieldsMixin, StrictSerializer):
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


class Promote(StrictSerializer):
    name = serializers.CharField(required=False, max_length=500)


class PromoteResponse(serializers.Serializer):
    artifact_id = serializers.CharField()
    source_id = serializers.CharField()
    source_name = serializers.CharField()
    message = serializers.CharField()
