"""Seed 000's routes that see both attachments and artifacts: meta or bytes by id, and the
session's zip."""

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts import selectors
from artifacts.api.common import ANY_MEDIA_TYPE, BINARY
from artifacts.api.serializers import SessionItemMetaResponse, SessionItemQuery
from artifacts.models import Artifact
from artifacts.version_bytes import artifact_bytes, artifact_file, data_uri, download_name
from artifacts.zips import session_zip, stream_zip
from attachments import selectors as attachment_selectors
from attachments import storage
from attachments.downloads import FileToServe, file_response
from attachments.models import Attachment, Blob
from sessions_app import selectors as session_selectors
from sessions_app.api.common import READ_ERRORS, error_responses, query_data, validated
from sessions_app.auth import get_principal
from sessions_app.errors import Gone, NotFound
from sessions_app.schema import SESSION_ID_PATH


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
        else data_uri(
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
        "data_uri": data_uri(
            artifact.content_type, artifact.size_bytes, lambda: artifact_bytes(artifact)
        ),
        "purged": False,
    }


def _attachment_file(request: Request, attachment: Attachment, *, download: bool) -> HttpResponse:
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
    return file_response(request, file, download=download)


ITEM_ID = OpenApiParameter(
    "artifact_id", str, OpenApiParameter.PATH, description="An artifact or attachment id."
)


def _serve(
    request: Request, session_id: str, artifact_id: str, params: dict[str, Any]
) -> HttpResponse:
    session = session_selectors.session_get(principal=get_principal(request), session_id=session_id)
    attachment = attachment_selectors.attachment_find(session=session, public_id=artifact_id)
    if attachment is not None:
        if params["mode"] == "meta":
            return Response(SessionItemMetaResponse(_attachment_meta(attachment)).data)
        return _attachment_file(request, attachment, download=params["download"])
    try:
        artifact = selectors.artifact_get_in_session(session=session, artifact_id=artifact_id)
    except NotFound:
        raise NotFound(f"No attachment or artifact '{artifact_id}' in this session.") from None
    if params["mode"] == "meta":
        return Response(SessionItemMetaResponse(_artifact_meta(artifact)).data)
    return file_response(request, artifact_file(artifact), download=params["download"])


# Meta and bytes are two operations in the schema, so a generated client parses each as what it
# is (one operation answering JSON or bytes made openapi-python-client parse the bytes as
# JSON). Seed 000's `?mode=stream` on the meta route still answers the bytes; the schema
# leaves it out there and names the bytes' own route.
@extend_schema(tags=["downloads (seed 000)"], parameters=[SESSION_ID_PATH, ITEM_ID])
class SessionFileView(APIView):
    @extend_schema(
        operation_id="session_item_retrieve",
        summary="Metadata of an attachment or artifact",
        description=(
            "Seed 000's `?mode=stream` here answers the bytes, as "
            "`GET /api/sessions/{session_id}/artifacts/{artifact_id}/stream` does."
        ),
        responses={200: SessionItemMetaResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, session_id: str, artifact_id: str) -> HttpResponse:
        params = validated(SessionItemQuery, query_data(request), location="query")
        return _serve(request, session_id, artifact_id, params)


@extend_schema(tags=["downloads (seed 000)"], parameters=[SESSION_ID_PATH, ITEM_ID])
class SessionFileStreamView(APIView):
    @extend_schema(
        operation_id="session_item_stream",
        summary="Bytes of an attachment or artifact (seed 000's mode=stream)",
        parameters=[
            OpenApiParameter(
                "download", bool, OpenApiParameter.QUERY, description="As an attachment."
            )
        ],
        responses={
            (200, ANY_MEDIA_TYPE): BINARY,
            (206, ANY_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="A byte range."
            ),
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
            **error_responses(*READ_ERRORS, 410, 416),
        },
    )
    def get(self, request: Request, session_id: str, artifact_id: str) -> HttpResponse:
        query = {**query_data(request), "mode": "stream"}
        params = validated(SessionItemQuery, query, location="query")
        return _serve(request, session_id, artifact_id, params)


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
