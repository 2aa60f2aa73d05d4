"""Seed 001: the flat /api/artifacts surface, in the key's default namespace."""

import base64
import json
from collections.abc import AsyncIterable, AsyncIterator
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
from artifacts.version_bytes import (
    artifact_bytes,
    artifact_file,
    is_valid_utf8,
    json_string_chunks,
    streamed_content_document,
)
from attachments import storage
from attachments.downloads import ClosingBody, file_response, open_stored
from attachments.file_types import is_textual
from attachments.services import staged_discard
from attachments.uploads import form_data, staged_upload
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
from sessions_app.errors import InvalidInput, NotFound

# A file version up to this size is rendered whole into GET's answer (plain JSON); above it
# the answer is encoded while it is sent, so memory stays flat whatever the file's size.
RENDER_WHOLE_MAX = 1024 * 1024

# The two reads that take a unique id prefix (seed 001's CLI shows 12 characters).
PREFIX_ERRORS = (*READ_ERRORS, 409)
PREFIX_DESCRIPTION = (
    "`artifact_id` may also be a unique prefix of an id, at least "
    f"{selectors.ID_PREFIX_MIN_LENGTH} characters long, among the artifacts the key can see: "
    "several matches are a 409, none a 404."
)


def _flat_artifact(
    request: Request, artifact_id: str, query: type[StrictSerializer], *, by_prefix: bool = False
) -> tuple[Artifact, dict[str, Any]]:
    """The query's parameters, and the artifact they name (`?version=N` picks a version)."""
    params = validated(query, query_data(request), location="query")
    artifact = selectors.artifact_get_for_principal(
        principal=get_principal(request),
        artifact_id=artifact_id,
        version=params.get("version"),
        by_prefix=by_prefix,
    )
    return artifact, params


def _open_file(artifact: Artifact) -> tuple[storage.OpenedBlob, bool]:
    """A file version's bytes, opened, and whether /content sends them as text: a text type
    (attachments.file_types, the one rule) whose bytes are UTF-8 throughout. The bytes are
    opened before the UTF-8 check reads them a first time: once open they outlive a delete,
    so the document is whole or, if they are already gone, a 404."""
    key = artifact.blob.storage_key  # type: ignore[union-attr]
    stored = open_stored(key)
    try:
        textual = is_textual(artifact.content_type) and is_valid_utf8(key)
    except storage.BlobMissing:
        stored.close()
        raise NotFound("This file was deleted.") from None
    except BaseException:
        stored.close()
        raise
    return stored, textual


def _with_content(data: dict[str, Any], content: str, encoding: str) -> dict[str, Any]:
    """The detail document with `content` and, right after it, its `content_encoding`."""
    document: dict[str, Any] = {}
    for key, value in data.items():
        if key == "content":
            document.update(content=content, content_encoding=encoding)
        else:
            document[key] = value
    return document


def _rendered(artifact: Artifact) -> tuple[str, str]:
    """(content, content_encoding) of a small file version, read whole: as /content sends it
    (a text type whose bytes are UTF-8 is text, anything else base64)."""
    try:
        data = artifact_bytes(artifact)
    except storage.BlobMissing:
        raise NotFound("This file was deleted.") from None
    if is_textual(artifact.content_type):
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    return base64.b64encode(data).decode(), "base64"


async def _streamed_detail(
    data: dict[str, Any], stored: AsyncIterable[bytes], textual: bool
) -> AsyncIterator[bytes]:
    """The detail document of a file version with its bytes as `content`, encoded while it
    is sent (memory stays flat whatever the file's size; there is no cap: product.md §6 says
    never null). The keys and their order are FlatArtifactResponse's."""
    keys = list(data)
    at = keys.index("content")
    head = {key: data[key] for key in keys[:at]}
    tail = {"content_encoding": "utf-8" if textual else "base64"}
    tail.update((key, data[key]) for key in keys[at + 1 :])
    yield (json.dumps(head)[:-1] + (", " if head else "") + '"content": "').encode()
    async for piece in json_string_chunks(stored, textual):
        yield piece
    yield ('", ' + json.dumps(tail)[1:] if tail else '"}').encode()


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
        # The serializer also checks the session id's form and resolves `derived_from`, so
        # one 422 lists every problem of the body.
        data = validated(FlatArtifactCreate, request.data, context={"principal": principal})
        namespace = principal.default_namespace
        artifact = services.artifact_create(
            namespace=namespace,
            content=services.NewContent(
                text=data.pop("content"), content_type=data.pop("content_type")
            ),
            session_lookup=session_lookup_for(principal, namespace, data.pop("session_id", None)),
            derived_from=data.pop("derived_from", []),
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
        description=PREFIX_DESCRIPTION,
        parameters=[FlatArtifactQuery],
        responses={200: FlatArtifactResponse, **error_responses(*PREFIX_ERRORS)},
    )
    def get(self, request: Request, artifact_id: str) -> HttpResponse:
        artifact, params = _flat_artifact(request, artifact_id, FlatArtifactQuery, by_prefix=True)
        data = FlatArtifactResponse(artifact).data
        if not params["include_content"]:
            data["content"] = None
            return Response(data)
        if artifact.blob_id is None:
            return Response(_with_content(data, data["content"], "utf-8"))
        if artifact.size_bytes <= RENDER_WHOLE_MAX:
            return Response(_with_content(data, *_rendered(artifact)))
        stored, textual = _open_file(artifact)
        return StreamingHttpResponse(
            ClosingBody(_streamed_detail(data, stored, textual), stored.close),
            content_type="application/json",
        )


@extend_schema(tags=["artifacts (seed 001)"], parameters=[FLAT_ARTIFACT_PARAMETER])
class FlatArtifactContentView(APIView):
    @extend_schema(
        operation_id="flat_artifacts_content",
        summary="The content: UTF-8 text as is, anything else as base64",
        description=PREFIX_DESCRIPTION,
        parameters=[FlatArtifactVersionQuery],
        responses={200: FlatArtifactContentResponse, **error_responses(*PREFIX_ERRORS)},
    )
    def get(self, request: Request, artifact_id: str) -> HttpResponse:
        artifact, _ = _flat_artifact(request, artifact_id, FlatArtifactVersionQuery, by_prefix=True)
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
        stored, textual = _open_file(artifact)
        # Streamed, so FlatArtifactContentResponse gives the schema and
        # streamed_content_document the same keys in the same order.
        document = streamed_content_document(artifact, stored, textual)
        return StreamingHttpResponse(
            ClosingBody(document, stored.close), content_type="application/json"
        )


def _valid_upload(request: Request) -> tuple[storage.StagedBlob, str]:
    """The staged file of a valid upload form. The form's problems and a missing `file` are
    reported together, in one 422 (a file staged for a refused form is removed)."""
    problems: list[dict[str, Any]] = []
    try:
        validated(FlatArtifactUpload, form_data(request), context=FILE_OUTSIDE_DATA)
    except InvalidInput as error:
        problems = list(error.errors)
    upload = staged_upload(request)
    if upload is None:
        problems.append(
            {"loc": ["body", "file"], "msg": "Field required (a file).", "type": "missing"}
        )
    if problems:
        if upload is not None:
            staged_discard(upload[0])
        raise InvalidInput(problems)
    assert upload is not None
    return upload


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
        staged, file_name = _valid_upload(request)
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
