"""Seed 001: the flat /api/artifacts surface, in the key's default namespace."""

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts import selectors, services
from artifacts.api.common import (
    ANY_MEDIA_TYPE,
    BINARY,
    FLAT_ARTIFACT_PARAMETER,
    UPLOAD_ERRORS,
    lineage_targets,
    session_lookup_for,
)
from artifacts.api.serializers import (
    FlatArtifactContentResponse,
    FlatArtifactCreate,
    FlatArtifactCreateResponse,
    FlatArtifactListItem,
    FlatArtifactListQuery,
    FlatArtifactQuery,
    FlatArtifactResponse,
    FlatArtifactUpload,
    FlatArtifactUploadResponse,
    FlatArtifactVersionQuery,
)
from artifacts.models import Artifact
from artifacts.version_bytes import artifact_file, is_valid_utf8, streamed_content_document
from attachments import storage
from attachments.downloads import ClosingBody, file_response, open_stored
from attachments.file_types import is_textual
from attachments.uploads import form_data, require_upload
from sessions_app.api.common import (
    FILE_OUTSIDE_DATA,
    READ_ERRORS,
    WRITE_ERRORS,
    DepotJSONParser,
    StrictSerializer,
    error_responses,
    query_data,
    validated,
)
from sessions_app.auth import get_principal
from sessions_app.errors import NotFound


def _flat_artifact(
    request: Request, artifact_id: str, query: type[StrictSerializer]
) -> tuple[Artifact, dict[str, Any]]:
    """The query's parameters, and the artifact they name (`?version=N` picks a version)."""
    params = validated(query, query_data(request), location="query")
    artifact = selectors.artifact_get_for_principal(
        principal=get_principal(request), artifact_id=artifact_id, version=params.get("version")
    )
    return artifact, params


@extend_schema(tags=["artifacts (seed 001)"])
class FlatArtifactListView(APIView):
    parser_classes = [DepotJSONParser]

    @extend_schema(
        operation_id="flat_artifacts_list",
        summary="List artifacts (latest versions), newest first",
        parameters=[FlatArtifactListQuery],
        responses={200: FlatArtifactListItem(many=True), **error_responses(401, 422)},
    )
    def get(self, request: Request) -> Response:
        params = validated(FlatArtifactListQuery, query_data(request), location="query")
        limit = params.pop("limit")
        queryset = selectors.flat_artifact_list(
            namespace=get_principal(request).default_namespace, **params
        )
        return Response(FlatArtifactListItem(queryset[:limit], many=True).data)

    @extend_schema(
        operation_id="flat_artifacts_create",
        summary="Create an artifact with inline content",
        request=FlatArtifactCreate,
        responses={201: FlatArtifactCreateResponse, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        principal = get_principal(request)
        data = validated(FlatArtifactCreate, request.data)
        namespace = principal.default_namespace
        artifact = services.artifact_create(
            namespace=namespace,
            content=services.NewContent(
                text=data.pop("content"), content_type=data.pop("content_type")
            ),
            session_lookup=session_lookup_for(principal, namespace, data.pop("session_id", None)),
            derived_from=lineage_targets(principal, data.pop("derived_from", None)),
            fields={
                "name": data.pop("title"),
                **{key: value for key, value in data.items() if value is not None},
            },
            created_by=principal.label,
        )
        body = FlatArtifactCreateResponse(
            {
                "id": artifact.artifact_id,
                "title": artifact.name,
                "artifact_type": artifact.artifact_type,
                "status": "created",
            }
        )
        return Response(body.data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["artifacts (seed 001)"], parameters=[FLAT_ARTIFACT_PARAMETER])
class FlatArtifactDetailView(APIView):
    @extend_schema(
        operation_id="flat_artifacts_retrieve",
        parameters=[FlatArtifactQuery],
        responses={200: FlatArtifactResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, artifact_id: str) -> Response:
        artifact, params = _flat_artifact(request, artifact_id, FlatArtifactQuery)
        data = FlatArtifactResponse(artifact).data
        if not params["include_content"]:
            data["content"] = None
        return Response(data)


@extend_schema(tags=["artifacts (seed 001)"], parameters=[FLAT_ARTIFACT_PARAMETER])
class FlatArtifactContentView(APIView):
    @extend_schema(
        operation_id="flat_artifacts_content",
        summary="The content: UTF-8 text as is, anything else as base64",
        parameters=[FlatArtifactVersionQuery],
        responses={200: FlatArtifactContentResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, artifact_id: str) -> HttpResponse:
        artifact, _ = _flat_artifact(request, artifact_id, FlatArtifactVersionQuery)
        if artifact.blob_id is None:
            body = FlatArtifactContentResponse(
                {
                    "artifact_id": artifact.root_artifact_id,
                    "content": artifact.content or "",
                    "content_type": artifact.content_type,
                    "content_encoding": "utf-8",
                    "size_bytes": artifact.size_bytes,
                }
            )
            return Response(body.data)
        key = artifact.blob.storage_key  # type: ignore[union-attr]
        # Open the bytes to send before the UTF-8 check reads them a first time: once open they
        # outlive a delete, so the document is whole or, if they are already gone, a 404.
        stored = open_stored(key)
        try:
            textual = is_textual(artifact.content_type) and is_valid_utf8(key)
        except storage.BlobMissing:
            stored.close()
            raise NotFound("This file was deleted.") from None
        except BaseException:
            stored.close()
            raise
        # Streamed, so FlatArtifactContentResponse gives the schema and
        # streamed_content_document the same keys in the same order.
        document = streamed_content_document(artifact, stored, textual)
        return StreamingHttpResponse(
            ClosingBody(document, stored.close), content_type="application/json"
        )


@extend_schema(tags=["artifacts (seed 001)"], parameters=[FLAT_ARTIFACT_PARAMETER])
class FlatArtifactUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="flat_artifacts_upload",
        summary="Store a file as the artifact's new version",
        request={"multipart/form-data": FlatArtifactUpload},
        responses={200: FlatArtifactUploadResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def post(self, request: Request, artifact_id: str) -> Response:
        principal = get_principal(request)
        artifact = selectors.artifact_get_for_principal(
            principal=principal, artifact_id=artifact_id
        )
        validated(FlatArtifactUpload, form_data(request), context=FILE_OUTSIDE_DATA)
        staged, file_name = require_upload(request)
        version, _ = services.artifact_version_create(
            artifact=artifact,
            content=services.NewContent(staged=staged, file_name=file_name),
            created_by=principal.label,
        )
        url = request.build_absolute_uri(
            reverse("flat-artifact-file", kwargs={"artifact_id": version.artifact_id})
        )
        body = FlatArtifactUploadResponse(
            {"artifact_id": version.root_artifact_id, "storage_url": url, "status": "uploaded"}
        )
        return Response(body.data)


@extend_schema(tags=["artifacts (seed 001)"], parameters=[FLAT_ARTIFACT_PARAMETER])
class FlatArtifactFileView(APIView):
    @extend_schema(
        operation_id="flat_artifacts_file",
        summary="The bytes of an artifact (the `storage_url` of an upload)",
        parameters=[FlatArtifactVersionQuery],
        responses={(200, ANY_MEDIA_TYPE): BINARY, **error_responses(*READ_ERRORS, 416)},
    )
    def get(self, request: Request, artifact_id: str) -> HttpResponse:
        artifact, _ = _flat_artifact(request, artifact_id, FlatArtifactVersionQuery)
        return file_response(request, artifact_file(artifact), download=True)
