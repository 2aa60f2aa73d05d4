"""Artifact routes: seed 001 (flat), seed 002 (namespaced), signed downloads, and the routes
that see both attachments and artifacts (seed-000 meta/stream by id, the session zip)."""

import base64
import codecs
import json
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts import selectors, services
from artifacts.api.serializers import (
    ArtifactCreateRequest,
    ArtifactDetailQuery,
    ArtifactListQuery,
    ArtifactPageResponse,
    ArtifactResponse,
    ArtifactUpdateRequest,
    ArtifactUploadForm,
    ArtifactVersionsResponse,
    ArtifactWithLineageResponse,
    DownloadQuery,
    DownloadUrlResponse,
    FlatArtifactContentResponse,
    FlatArtifactCreateRequest,
    FlatArtifactCreateResponse,
    FlatArtifactListItem,
    FlatArtifactListQuery,
    FlatArtifactQuery,
    FlatArtifactResponse,
    FlatArtifactUploadForm,
    FlatArtifactUploadResponse,
    FlatArtifactVersionQuery,
    LineageItem,
    PromoteRequest,
    PromoteResponse,
    QueryRequest,
    QueryResponse,
    SessionItemMetaResponse,
    SessionItemQuery,
    ThreadArtifactListQuery,
)
from artifacts.content import artifact_bytes, artifact_file, download_name, is_valid_utf8
from artifacts.models import Artifact
from artifacts.search import artifact_search, query_terms
from artifacts.zips import session_zip, stream_zip
from attachments import selectors as attachment_selectors
from attachments import storage
from attachments.content import display_name, served_media_type
from attachments.downloads import ClosingBody, FileToServe, file_response, open_stored
from attachments.models import Attachment, Blob
from attachments.uploads import form_data, require_upload, staged_upload
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.api.common import (
    READ_ERRORS,
    WRITE_ERRORS,
    DepotJSONParser,
    ErrorResponse,
    StrictSerializer,
    error_responses,
    keyset_page,
    query_data,
    validated,
)
from sessions_app.auth import Principal, get_principal
from sessions_app.errors import Gone, InvalidInput, NotFound
from sessions_app.models import Namespace
from sessions_app.schema import SESSION_ID_PATH

FILE_OUTSIDE_DATA = {"file_outside_data": True}
BINARY = OpenApiResponse(OpenApiTypes.BINARY, description="The bytes.")
# A stored file goes out under its own media type (or application/octet-stream when it is not a
# harmless one), so the bytes' responses declare any type rather than one they rarely carry.
ANY_MEDIA_TYPE = "*/*"
UPLOAD_ERRORS = (*WRITE_ERRORS, 409, 413)


def _session_lookup(principal: Principal, namespace: Namespace, session_id: str | None) -> Any:
    if not session_id:
        return None
    session_selectors.validate_session_id(session_id, loc=("body", "session_id"))
    return lambda: session_services.session_get_or_create_for(
        principal=principal, namespace=namespace, session_id=session_id
    )


def _lineage_targets(principal: Principal, ids: list[str] | None) -> list[Artifact]:
    return selectors.artifacts_resolve(
        scope=selectors.artifact_scope(principal=principal),
        ids=ids or [],
        loc=["body", "derived_from"],
    )


# --- seed 000: meta/stream by attachment or artifact id, and the session zip ---


def _data_uri(mime_type: str, size: int, read: Any) -> str | None:
    limit = settings.DEPOT_DATA_URI_MAX_BYTES
    if limit <= 0 or size > limit:
        return None
    try:
        data = read()
    except storage.BlobMissing:
        # Deleted since its row was read: the 404 the row itself would now give.
        raise NotFound("This file was deleted.") from None
    return f"data:{served_media_type(mime_type)};base64,{base64.b64encode(data).decode()}"


def _attachment_blob(attachment: Attachment) -> Blob | None:
    """The attachment's blob row (loaded after the attachment), or a 404 when a delete since
    the lookup has taken it."""
    try:
        return attachment.blob
    except Blob.DoesNotExist:
        raise NotFound("This file was deleted.") from None


def _attachment_meta(attachment: Attachment) -> dict[str, Any]:
    blob = _attachment_blob(attachment)
    return {
        "attachment_id": attachment.attachment_id,
        "artifact_id": None,
        "name": attachment.name,
        "mime": attachment.mime_type,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at,
        "data_uri": None
        if blob is None
        else _data_uri(
            attachment.mime_type,
            attachment.size,
            lambda: b"".join(storage.read_chunks(blob.storage_key)),
        ),
        "purged": attachment.purged,
    }


def _artifact_meta(artifact: Artifact) -> dict[str, Any]:
    return {
        "attachment_id": artifact.artifact_id,
        "artifact_id": artifact.artifact_id,
        "name": download_name(artifact),
        "mime": artifact.content_type,
        "mime_type": artifact.content_type,
        "size": artifact.size_bytes,
        "sha256": artifact.sha256,
        "created_at": artifact.created_at,
        "data_uri": _data_uri(
            artifact.content_type, artifact.size_bytes, lambda: artifact_bytes(artifact)
        ),
        "purged": False,
    }


@extend_schema(tags=["downloads (seed 000)"], parameters=[SESSION_ID_PATH])
class SessionItemView(APIView):
    @extend_schema(
        operation_id="session_item_retrieve",
        summary="Metadata (mode=meta) or bytes (mode=stream) of an attachment or artifact",
        parameters=[
            SessionItemQuery,
            OpenApiParameter(
                "artifact_id",
                str,
                OpenApiParameter.PATH,
                description="An artifact or attachment id.",
            ),
        ],
        responses={
            (200, "application/json"): SessionItemMetaResponse,
            (200, ANY_MEDIA_TYPE): BINARY,
            (206, ANY_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="A byte range."
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
            **error_responses(*READ_ERRORS, 410, 416),
        },
    )
    def get(self, request: Request, session_id: str, artifact_id: str) -> HttpResponse:
        params = validated(SessionItemQuery, query_data(request), location="query")
        session = session_selectors.session_get(
            principal=get_principal(request), session_id=session_id
        )
        attachment = attachment_selectors.attachment_find(session=session, public_id=artifact_id)
        if attachment is not None:
            if params["mode"] == "meta":
                return Response(SessionItemMetaResponse(_attachment_meta(attachment)).data)
            blob = _attachment_blob(attachment)
            if attachment.purged or blob is None:
                raise Gone("This file's bytes were removed when its session completed.")
            file = FileToServe(
                key=blob.storage_key,
                size=attachment.size,
                sha256=attachment.sha256,
                mime_type=attachment.mime_type,
                name=attachment.name,
            )
            return file_response(request, file, download=params["download"])
        try:
            artifact = selectors.artifact_get(
                scope=Artifact.objects.filter(session=session), artifact_id=artifact_id
            )
        except NotFound:
            raise NotFound(f"No attachment or artifact '{artifact_id}' in this session.") from None
        if params["mode"] == "meta":
            return Response(SessionItemMetaResponse(_artifact_meta(artifact)).data)
        return file_response(request, artifact_file(artifact), download=params["download"])


@extend_schema(tags=["downloads (seed 000)"], parameters=[SESSION_ID_PATH])
class SessionZipView(APIView):
    @extend_schema(
        operation_id="session_download_zip",
        summary="Attachments and the latest version of each artifact, as one streamed zip",
        responses={(200, "application/zip"): BINARY, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, session_id: str) -> HttpResponse:
        session = session_selectors.session_get(
            principal=get_principal(request), session_id=session_id
        )
        # No Content-Length: an entry deleted while the zip streams is left out, so the
        # length is only known at the end (see artifacts/zips.py).
        entries = session_zip(session=session)
        response = StreamingHttpResponse(stream_zip(entries), content_type="application/zip")
        response["Content-Disposition"] = content_disposition_header(
            True, f"{session.session_id}.zip"
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- seed 001: the flat /api/artifacts surface ---


FLAT_LIST_FIELDS = (
    "artifact_id",
    "root_id",
    "root__artifact_id",
    "workflow_id",
    "phase_id",
    "artifact_type",
    "name",
    "size_bytes",
    "created_at",
)


def _flat_representation(artifact: Artifact, *, include_content: bool) -> dict[str, Any]:
    data = FlatArtifactResponse(artifact).data
    if not include_content:
        data["content"] = None
    return data


def _flat_scope(request: Request) -> Any:
    return selectors.artifact_scope(principal=get_principal(request))


def _flat_artifact(
    request: Request, artifact_id: str, query: type[StrictSerializer]
) -> tuple[Artifact, dict[str, Any]]:
    """The query's parameters, and the artifact they name (`?version=N` picks a version)."""
    params = validated(query, query_data(request), location="query")
    artifact = selectors.artifact_get(
        scope=_flat_scope(request), artifact_id=artifact_id, version=params.get("version")
    )
    return artifact, params


@extend_schema(tags=["artifacts (seed 001)"])
class FlatArtifactsView(APIView):
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
        queryset = selectors.artifact_list(
            namespace=get_principal(request).default_namespace, **params
        )
        # Seven fields out: read only those (and the root's id), not the content.
        queryset = queryset.select_related(None).select_related("root").only(*FLAT_LIST_FIELDS)
        return Response(FlatArtifactListItem(queryset[:limit], many=True).data)

    @extend_schema(
        operation_id="flat_artifacts_create",
        summary="Create an artifact with inline content",
        request=FlatArtifactCreateRequest,
        responses={201: FlatArtifactCreateResponse, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request: Request) -> Response:
        principal = get_principal(request)
        data = validated(FlatArtifactCreateRequest, request.data)
        namespace = principal.default_namespace
        artifact = services.artifact_create(
            namespace=namespace,
            content=services.NewContent(
                text=data.pop("content"), content_type=data.pop("content_type")
            ),
            session_lookup=_session_lookup(principal, namespace, data.pop("session_id", None)),
            derived_from=_lineage_targets(principal, data.pop("derived_from", None)),
            fields={
                "name": data.pop("title"),
                **{key: value for key, value in data.items() if value is not None},
            },
            created_by=principal.label,
        )
        body = {
            "id": artifact.artifact_id,
            "title": artifact.name,
            "artifact_type": artifact.artifact_type,
            "status": "created",
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["artifacts (seed 001)"],
    parameters=[OpenApiParameter("artifact_id", str, OpenApiParameter.PATH)],
)
class FlatArtifactDetailView(APIView):
    @extend_schema(
        operation_id="flat_artifacts_retrieve",
        parameters=[FlatArtifactQuery],
        responses={200: FlatArtifactResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, artifact_id: str) -> Response:
        artifact, params = _flat_artifact(request, artifact_id, FlatArtifactQuery)
        return Response(_flat_representation(artifact, include_content=params["include_content"]))


async def _streamed_content_document(
    artifact: Artifact, stored: AsyncIterable[bytes], textual: bool
) -> AsyncIterator[bytes]:
    """`{"artifact_id": …, "content": "…", …}` for a stored file, encoded as it streams so a
    large file never sits in memory (base64 in 3-byte-aligned pieces, or UTF-8 text)."""
    head = json.dumps({"artifact_id": artifact.root_artifact_id})[:-1]
    yield f'{head}, "content": "'.encode()
    encoder = codecs.getincrementaldecoder("utf-8")("replace") if textual else None
    carry = b""
    async for chunk in stored:
        if encoder is not None:
            yield json.dumps(encoder.decode(chunk))[1:-1].encode()
            continue
        chunk = carry + chunk
        cut = len(chunk) - len(chunk) % 3
        carry = chunk[cut:]
        yield base64.b64encode(chunk[:cut])
    if encoder is not None:
        yield json.dumps(encoder.decode(b"", final=True))[1:-1].encode()
    elif carry:
        yield base64.b64encode(carry)
    tail = {
        "content_type": artifact.content_type,
        "content_encoding": "utf-8" if textual else "base64",
        "size_bytes": artifact.size_bytes,
    }
    yield ('", ' + json.dumps(tail)[1:]).encode()


@extend_schema(
    tags=["artifacts (seed 001)"],
    parameters=[OpenApiParameter("artifact_id", str, OpenApiParameter.PATH)],
)
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
            return Response(
                {
                    "artifact_id": artifact.root_artifact_id,
                    "content": artifact.content or "",
                    "content_type": artifact.content_type,
                    "content_encoding": "utf-8",
                    "size_bytes": artifact.size_bytes,
                }
            )
        key = artifact.blob.storage_key  # type: ignore[union-attr]
        # Open the bytes to send before the UTF-8 check reads them a first time: once open they
        # outlive a delete, so the document is whole or, if they are already gone, a 404.
        stored = open_stored(key)
        try:
            textual = services.is_textual(artifact.content_type) and is_valid_utf8(key)
        except storage.BlobMissing:
            stored.close()
            raise NotFound("This file was deleted.") from None
        except BaseException:
            stored.close()
            raise
        document = _streamed_content_document(artifact, stored, textual)
        return StreamingHttpResponse(
            ClosingBody(document, stored.close), content_type="application/json"
        )


@extend_schema(
    tags=["artifacts (seed 001)"],
    parameters=[OpenApiParameter("artifact_id", str, OpenApiParameter.PATH)],
)
class FlatArtifactUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="flat_artifacts_upload",
        summary="Store a file as the artifact's new version",
        request={"multipart/form-data": FlatArtifactUploadForm},
        responses={200: FlatArtifactUploadResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def post(self, request: Request, artifact_id: str) -> Response:
        principal = get_principal(request)
        artifact = selectors.artifact_get(scope=_flat_scope(request), artifact_id=artifact_id)
        validated(FlatArtifactUploadForm, form_data(request), context=FILE_OUTSIDE_DATA)
        staged, file_name = require_upload(request)
        version, _ = services.artifact_version_create(
            artifact=artifact,
            content=services.NewContent(staged=staged, file_name=file_name),
            created_by=principal.label,
        )
        url = request.build_absolute_uri(
            reverse("flat-artifact-file", kwargs={"artifact_id": version.artifact_id})
        )
        return Response(
            {"artifact_id": version.root_artifact_id, "storage_url": url, "status": "uploaded"}
        )


@extend_schema(
    tags=["artifacts (seed 001)"],
    parameters=[OpenApiParameter("artifact_id", str, OpenApiParameter.PATH)],
)
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


# --- seed 002: /api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns} ---

NAMESPACE_PARAMETERS = [
    OpenApiParameter("org", str, OpenApiParameter.PATH, description="Organization slug."),
    OpenApiParameter("ws", str, OpenApiParameter.PATH, description="Workspace slug."),
    OpenApiParameter("ns", str, OpenApiParameter.PATH, description="Namespace slug."),
]
ARTIFACT_PARAMETER = OpenApiParameter(
    "artifact_id",
    str,
    OpenApiParameter.PATH,
    # The ids Depot mints (artifacts.models.mint_artifact_id). Without it `query` and `upload`
    # were valid ids, and a PUT to …/artifacts/query reached the search route's 405.
    pattern=r"^art_[0-9a-f]{32}$",
    description="A root id (the artifact) or a version's id.",
)


class NamespaceView(APIView):
    def namespace(self, request: Request) -> Namespace:
        kwargs = self.kwargs
        return session_selectors.namespace_get(
            principal=get_principal(request),
            org=kwargs["org"],
            workspace=kwargs["ws"],
            namespace=kwargs["ns"],
        )

    def artifact(self, request: Request, version: int | None = None) -> Artifact:
        namespace = self.namespace(request)
        return selectors.artifact_get(
            scope=Artifact.objects.filter(namespace=namespace),
            artifact_id=self.kwargs["artifact_id"],
            version=version,
        )


def _page(queryset: Any, params: dict[str, Any]) -> dict[str, Any]:
    total = queryset.count()
    # Keyed on the root id (artifact creation order): a new version does not move an artifact.
    page = keyset_page(queryset, cursor=params.get("cursor"), limit=params["limit"], key="root_id")
    return {
        "total": total,
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
        "artifacts": ArtifactResponse(page.items, many=True).data,
    }


def _create_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@extend_schema(tags=["artifacts (seed 002)"], parameters=NAMESPACE_PARAMETERS)
class NamespaceArtifactsView(NamespaceView):
    parser_classes = [DepotJSONParser]

    @extend_schema(
        operation_id="artifacts_list",
        parameters=[ArtifactListQuery],
        responses={200: ArtifactPageResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, **kwargs: str) -> Response:
        params = validated(ArtifactListQuery, query_data(request), location="query")
        queryset = selectors.artifact_list(
            namespace=self.namespace(request),
            thread_id=params.get("thread_id"),
            artifact_types=selectors.parse_type_list(params.get("artifact_types")),
            include_expired=params["include_expired"],
        )
        return Response(_page(queryset, params))

    @extend_schema(
        operation_id="artifacts_create",
        request=ArtifactCreateRequest,
        responses={201: ArtifactResponse, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request: Request, **kwargs: str) -> Response:
        principal = get_principal(request)
        namespace = self.namespace(request)
        data = validated(ArtifactCreateRequest, request.data)
        artifact = services.artifact_create(
            namespace=namespace,
            content=services.NewContent(
                text=data.pop("content", ""), content_type=data.pop("content_type")
            ),
            session_lookup=_session_lookup(principal, namespace, data.pop("session_id", None)),
            thread_id=data.pop("thread_id", None),
            derived_from=_lineage_targets(principal, data.pop("derived_from", None)),
            fields=_create_fields(data),
            created_by=principal.label,
        )
        artifact = selectors.artifact_get(
            scope=Artifact.objects.filter(pk=artifact.pk), artifact_id=artifact.artifact_id
        )
        return Response(ArtifactResponse(artifact).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["artifacts (seed 002)"], parameters=NAMESPACE_PARAMETERS)
class NamespaceArtifactUploadView(NamespaceView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="artifacts_create_with_file",
        request={"multipart/form-data": ArtifactUploadForm},
        responses={201: ArtifactResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def post(self, request: Request, **kwargs: str) -> Response:
        principal = get_principal(request)
        namespace = self.namespace(request)
        data = validated(ArtifactUploadForm, form_data(request), context=FILE_OUTSIDE_DATA)
        staged, file_name = require_upload(request)
        # Named after its file when no name is given: the client's raw file name, of any
        # length, cleaned and cut as every display name is (the name column holds 500).
        data.setdefault("name", display_name(file_name))
        artifact = services.artifact_create(
            namespace=namespace,
            content=services.NewContent(staged=staged, file_name=file_name),
            session_lookup=_session_lookup(principal, namespace, data.pop("session_id", None)),
            thread_id=data.pop("thread_id", None),
            derived_from=_lineage_targets(principal, data.pop("derived_from", None)),
            fields=_create_fields(data),
            created_by=principal.label,
        )
        artifact = selectors.artifact_get(
            scope=Artifact.objects.filter(pk=artifact.pk), artifact_id=artifact.artifact_id
        )
        return Response(ArtifactResponse(artifact).data, status=status.HTTP_201_CREATED)


def _lineage(artifact: Artifact) -> dict[str, Any]:
    found = selectors.artifact_lineage(artifact=artifact)
    return {side: LineageItem(rows, many=True).data for side, rows in found.items()}


@extend_schema(
    tags=["artifacts (seed 002)"], parameters=[*NAMESPACE_PARAMETERS, ARTIFACT_PARAMETER]
)
class NamespaceArtifactDetailView(NamespaceView):
    parser_classes = [DepotJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="artifacts_retrieve",
        parameters=[ArtifactDetailQuery],
        responses={200: ArtifactWithLineageResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, **kwargs: str) -> Response:
        params = validated(ArtifactDetailQuery, query_data(request), location="query")
        artifact = self.artifact(request, version=params.get("version"))
        data = ArtifactResponse(artifact).data
        if params.get("include") == "lineage":
            data["lineage"] = _lineage(artifact)
        return Response(data)

    @extend_schema(
        operation_id="artifacts_update",
        summary="New content or file → a new version; other fields alone → changed in place",
        request={
            "application/json": ArtifactUpdateRequest,
            "multipart/form-data": ArtifactUpdateRequest,
        },
        responses={200: ArtifactResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def put(self, request: Request, **kwargs: str) -> Response:
        principal = get_principal(request)
        artifact = self.artifact(request)
        # A form body parses to a QueryDict (which is also a dict); JSON to a plain dict.
        is_form = hasattr(request.data, "getlist")
        raw = form_data(request) if is_form else dict(request.data)
        data = validated(ArtifactUpdateRequest, raw, context=FILE_OUTSIDE_DATA)
        upload = staged_upload(request) if is_form else None
        content_type = data.pop("content_type", None)
        if upload is not None or "content" in data:
            if upload is not None:
                staged, file_name = upload
                content = services.NewContent(staged=staged, file_name=file_name)
            else:
                latest_type = artifact.content_type if artifact.blob_id is None else "text/markdown"
                content = services.NewContent(
                    text=data.pop("content"), content_type=content_type or latest_type
                )
            version, _ = services.artifact_version_create(
                artifact=artifact, content=content, fields=data, created_by=principal.label
            )
        elif content_type is not None:
            raise InvalidInput.single(
                ["body", "content_type"], "content_type needs content.", "value_error"
            )
        else:
            version = services.artifact_update(artifact=artifact, fields=data)
        version = selectors.artifact_get(
            scope=Artifact.objects.filter(pk=version.pk), artifact_id=version.artifact_id
        )
        return Response(ArtifactResponse(version).data)

    @extend_schema(
        operation_id="artifacts_destroy",
        summary="Delete the artifact with all its versions",
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*WRITE_ERRORS)},
    )
    def delete(self, request: Request, **kwargs: str) -> Response:
        services.artifact_delete(artifact=self.artifact(request), actor=get_principal(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["artifacts (seed 002)"], parameters=[*NAMESPACE_PARAMETERS, ARTIFACT_PARAMETER]
)
class NamespaceArtifactVersionsView(NamespaceView):
    @extend_schema(
        operation_id="artifacts_versions",
        responses={200: ArtifactVersionsResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, **kwargs: str) -> Response:
        artifact = self.artifact(request)
        versions = selectors.artifact_versions(artifact=artifact)
        return Response(
            {
                "artifact_id": artifact.root_artifact_id,
                "versions": ArtifactResponse(versions, many=True).data,
            }
        )


@extend_schema(
    tags=["artifacts (seed 002)"], parameters=[*NAMESPACE_PARAMETERS, ARTIFACT_PARAMETER]
)
class NamespaceArtifactDownloadView(NamespaceView):
    @extend_schema(
        operation_id="artifacts_download_url",
        summary="A time-limited download URL (S3 presigned, or signed by Depot on local disk)",
        parameters=[DownloadQuery],
        responses={200: DownloadUrlResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, **kwargs: str) -> Response:
        params = validated(DownloadQuery, query_data(request), location="query")
        artifact = self.artifact(request)
        expires_in = params["expires_in"]
        file = artifact_file(artifact)
        url = None
        if file.key is not None:
            url = storage.presigned_url(
                file.key,
                expires_in=expires_in,
                file_name=file.name,
                content_type=served_media_type(file.mime_type),
                as_attachment=True,
            )
        if url is None:
            token = storage.sign_download({"a": artifact.pk, "x": int(time.time()) + expires_in})
            url = request.build_absolute_uri(reverse("signed-download", kwargs={"token": token}))
        return Response(
            {
                "artifact_id": artifact.artifact_id,
                "download_url": url,
                "expires_in": expires_in,
                "file_name": file.name,
                "content_type": served_media_type(file.mime_type),
                "file_size_bytes": file.size,
            }
        )


@extend_schema(
    tags=["artifacts (seed 002)"], parameters=[*NAMESPACE_PARAMETERS, ARTIFACT_PARAMETER]
)
class NamespaceArtifactPromoteView(NamespaceView):
    parser_classes = [DepotJSONParser]

    @extend_schema(
        operation_id="artifacts_promote",
        summary="Promote an artifact to a knowledge source (idempotent)",
        request=PromoteRequest,
        responses={200: PromoteResponse, **error_responses(*WRITE_ERRORS)},
    )
    def post(self, request: Request, **kwargs: str) -> Response:
        validated(PromoteRequest, request.data or {})
        artifact = self.artifact(request)
        source, created = services.artifact_promote(
            artifact=artifact, created_by=get_principal(request).label
        )
        return Response(
            {
                "artifact_id": artifact.root_artifact_id,
                "source_id": source.source_id,
                "source_name": source.name,
                "message": "Promoted to a source." if created else "Already promoted; same source.",
            }
        )


@extend_schema(
    tags=["artifacts (seed 002)"],
    parameters=[*NAMESPACE_PARAMETERS, OpenApiParameter("thread_id", str, OpenApiParameter.PATH)],
)
class ThreadArtifactsView(NamespaceView):
    @extend_schema(
        operation_id="thread_artifacts_list",
        parameters=[ThreadArtifactListQuery],
        responses={200: ArtifactPageResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, **kwargs: str) -> Response:
        params = validated(ThreadArtifactListQuery, query_data(request), location="query")
        queryset = selectors.artifact_list(
            namespace=self.namespace(request),
            thread_id=self.kwargs["thread_id"],
            artifact_types=selectors.parse_type_list(params.get("artifact_types")),
            include_expired=params["include_expired"],
        )
        return Response(_page(queryset, params))


@extend_schema(tags=["artifacts (seed 002)"], parameters=NAMESPACE_PARAMETERS)
class NamespaceArtifactQueryView(NamespaceView):
    parser_classes = [DepotJSONParser]
    reads_only = True  # a POST only because the query is a body; read-only keys may search

    @extend_schema(
        operation_id="artifacts_query",
        summary="Search the latest, unexpired artifacts of a namespace",
        request=QueryRequest,
        responses={200: QueryResponse, **error_responses(400, 401, 404, 422)},
    )
    def post(self, request: Request, **kwargs: str) -> Response:
        namespace = self.namespace(request)
        data = validated(QueryRequest, request.data)
        if not query_terms(data["query"]):
            raise InvalidInput.single(
                ["body", "query"], "The query has no words to search for.", "value_error"
            )
        result = artifact_search(
            namespace=namespace,
            query=data["query"],
            limit=data["limit"],
            artifact_types=data.get("artifact_types"),
            thread_id=data.get("thread_id"),
        )
        # One serializer for all of them: DRF copies its fields per serializer instance.
        artifacts = ArtifactResponse([hit.artifact for hit in result.hits], many=True).data
        return Response(
            {
                "results": [
                    {
                        "artifact": artifact,
                        "score": hit.score,
                        "matched_chunk": hit.matched_chunk,
                        "highlight": hit.highlight,
                    }
                    for hit, artifact in zip(result.hits, artifacts, strict=True)
                ],
                "combined_context": result.combined_context,
                "total_results": result.total,
                "total_results_exact": result.total_exact,
                "query": data["query"],
                "mode": result.mode,
            }
        )


# --- Depot-signed downloads (local disk's presigned URLs) ---


@extend_schema(tags=["artifacts (seed 002)"], auth=[])
class SignedDownloadView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="signed_download",
        summary="Bytes behind a signed download URL; no key needed",
        responses={
            (200, ANY_MEDIA_TYPE): BINARY,
            403: OpenApiResponse(ErrorResponse, description="Expired or tampered link."),
            404: OpenApiResponse(ErrorResponse, description="The artifact is gone."),
        },
    )
    def get(self, request: Request, token: str) -> HttpResponse:
        try:
            payload = storage.unsign_download(token)
        except signing.BadSignature:
            raise PermissionDenied("This download link is invalid.") from None
        if int(payload.get("x", 0)) < time.time():
            raise PermissionDenied("This download link has expired.")
        artifact = Artifact.objects.select_related("blob").filter(pk=payload.get("a")).first()
        if artifact is None:
            raise NotFound("The artifact behind this link no longer exists.")
        return file_response(request, artifact_file(artifact), download=True)
