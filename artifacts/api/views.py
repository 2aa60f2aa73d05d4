"""Routes that see both attachments and artifacts: seed-000 meta/stream by id, session zip."""

import base64

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts.api.serializers import SessionItemMetaResponse, SessionItemQuery
from artifacts.zips import session_zip, stream_zip
from attachments import selectors as attachment_selectors
from attachments import storage
from attachments.downloads import FileToServe, file_response
from attachments.models import Attachment
from sessions_app import selectors as session_selectors
from sessions_app.api.common import (
    READ_ERRORS,
    SESSION_ID_PARAMETER,
    error_responses,
    query_data,
    validated,
)
from sessions_app.auth import get_principal
from sessions_app.errors import Gone, NotFound


def _data_uri(attachment: Attachment) -> str | None:
    limit = settings.DEPOT_DATA_URI_MAX_BYTES
    if limit <= 0 or attachment.size > limit or attachment.blob is None:
        return None
    content = b"".join(storage.read_chunks(attachment.blob.storage_key))
    return f"data:{attachment.mime_type};base64,{base64.b64encode(content).decode()}"


def _attachment_meta(attachment: Attachment) -> dict:
    return {
        "attachment_id": attachment.attachment_id,
        "artifact_id": None,
        "name": attachment.name,
        "mime": attachment.mime_type,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at,
        "data_uri": _data_uri(attachment),
        "purged": attachment.purged,
    }


@extend_schema(tags=["downloads (seed 000)"], parameters=[SESSION_ID_PARAMETER])
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
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The bytes (mode=stream)."
            ),
            (206, "application/octet-stream"): OpenApiResponse(
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
        if attachment is None:
            raise NotFound(f"No attachment or artifact '{artifact_id}' in this session.")
        if params["mode"] == "meta":
            return Response(SessionItemMetaResponse(_attachment_meta(attachment)).data)
        if attachment.purged or attachment.blob is None:
            raise Gone("This file's bytes were removed when its session completed.")
        return file_response(
            request,
            FileToServe(
                key=attachment.blob.storage_key,
                size=attachment.size,
                sha256=attachment.sha256,
                mime_type=attachment.mime_type,
                name=attachment.name,
            ),
            download=params["download"],
        )


@extend_schema(tags=["downloads (seed 000)"], parameters=[SESSION_ID_PARAMETER])
class SessionZipView(APIView):
    @extend_schema(
        operation_id="session_download_zip",
        summary="Everything in a session as one streamed zip",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(*READ_ERRORS),
        },
    )
    def get(self, request: Request, session_id: str) -> HttpResponse:
        session = session_selectors.session_get(
            principal=get_principal(request), session_id=session_id
        )
        archive = session_zip(session=session)
        response = StreamingHttpResponse(stream_zip(archive), content_type="application/zip")
        response["Content-Length"] = str(len(archive))
        response["Content-Disposition"] = content_disposition_header(
            True, f"{session.session_id}.zip"
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response
