"""Seed 000's routes that see both attachments and artifacts: meta or bytes by id, and the
session's zip."""

import uuid
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts import selectors
from artifacts.api.common import ANY_MEDIA_TYPE, BINARY
from artifacts.api.serializers import SessionItemMetaResponse, SessionItemQuery
from artifacts.models import Artifact
from artifacts.version_bytes import (
    DATA_URI_RENDER_WHOLE_MAX,
    artifact_file,
    base64_chunks,
    base64_length,
    data_uri,
    data_uri_fits,
    data_uri_prefix,
    download_name,
)
from artifacts.zips import session_zip, stream_zip
from attachments import selectors as attachment_selectors
from attachments import storage
from attachments.downloads import ClosingBody, FileToServe, file_response
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


def _attachment_to_serve(attachment: Attachment, blob: Blob) -> FileToServe:
    return FileToServe(
        key=blob.storage_key,
        size=attachment.size,
        sha256=attachment.sha256,
        mime_type=attachment.mime_type,
        name=attachment.name,
    )


def _attachment_meta(attachment: Attachment) -> tuple[dict[str, Any], FileToServe | None]:
    """The meta fields but `data_uri`, and the file its data URI encodes (None once purged)."""
    blob = _attachment_blob(attachment)
    meta = {
        "attachment_id": attachment.attachment_id,
        "artifact_id": None,
        "name": attachment.name,
        "mime": attachment.mime_type,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at,
        "purged": attachment.purged,
    }
    if blob is None:
        return meta, None
    return meta, _attachment_to_serve(attachment, blob)


def _artifact_meta(artifact: Artifact) -> tuple[dict[str, Any], FileToServe]:
    meta = {
        "attachment_id": artifact.artifact_id,
        "artifact_id": artifact.artifact_id,
        "name": download_name(artifact),
        "mime": artifact.content_type,
        "mime_type": artifact.content_type,
        "size": artifact.size_bytes,
        "sha256": artifact.sha256,
        "created_at": artifact.created_at,
        "purged": False,
    }
    return meta, artifact_file(artifact)


def _file_bytes(file: FileToServe) -> bytes:
    if file.data is not None:
        return file.data
    assert file.key is not None
    return b"".join(storage.read_chunks(file.key))


def _meta_response(
    request: Request, meta: dict[str, Any], file: FileToServe | None
) -> HttpResponseBase:
    """The meta answer. Small files (and those without a data URI) are rendered whole; above
    DATA_URI_RENDER_WHOLE_MAX the same JSON, byte for byte, is sent with its data URI
    encoded chunk by chunk from storage (`_streamed_meta`), so memory stays flat."""
    if file is None or not data_uri_fits(file.size):
        return Response(SessionItemMetaResponse({**meta, "data_uri": None}).data)
    if file.size <= DATA_URI_RENDER_WHOLE_MAX:
        uri = data_uri(file.mime_type, file.size, lambda: _file_bytes(file))
        return Response(SessionItemMetaResponse({**meta, "data_uri": uri}).data)
    return _streamed_meta(request, meta, file)


def _streamed_meta(request: Request, meta: dict[str, Any], file: FileToServe) -> HttpResponseBase:
    # Rendered by the renderer the plain path uses, with a unique marker where the base64
    # goes: base64 needs no JSON escaping, so the marker's two sides and the encoded stream
    # between them are exactly what rendering the whole string would give.
    marker = uuid.uuid4().hex
    data = SessionItemMetaResponse({**meta, "data_uri": data_uri_prefix(file.mime_type) + marker})
    renderer = request.accepted_renderer
    media_type = request.accepted_media_type
    if not isinstance(renderer, JSONRenderer):  # the browsable API: JSON, not 27 MB of HTML
        renderer, media_type = JSONRenderer(), JSONRenderer.media_type
    rendered = renderer.render(data.data, media_type, {"request": request})
    head, tail = rendered.split(marker.encode())
    length = len(head) + base64_length(file.size) + len(tail)
    if request.method == "HEAD":
        # The headers a GET would send; the bytes are not read at all.
        response: HttpResponseBase = HttpResponse(content_type=renderer.media_type)
    else:
        # Opened now: a file deleted since its row was read is a 404 here, not a body cut short.
        stored = file.open()
        close = getattr(stored, "close", lambda: None)
        response = StreamingHttpResponse(
            ClosingBody(_meta_body(head, stored, tail), close), content_type=renderer.media_type
        )
    response["Content-Length"] = str(length)
    return response


async def _meta_body(
    head: bytes, stored: AsyncIterable[bytes], tail: bytes
) -> AsyncIterator[bytes]:
    yield head
    async for piece in base64_chunks(stored):
        yield piece
    yield tail


def _attachment_file(request: Request, attachment: Attachment, *, download: bool) -> HttpResponse:
    blob = _attachment_blob(attachment)
    if attachment.purged or blob is None:
        raise Gone("This file's bytes were removed when its session completed.")
    return file_response(request, _attachment_to_serve(attachment, blob), download=download)


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
            return _meta_response(request, *_attachment_meta(attachment))
        return _attachment_file(request, attachment, download=params["download"])
    try:
        artifact = selectors.artifact_get_in_session(session=session, artifact_id=artifact_id)
    except NotFound:
        raise NotFound(f"No attachment or artifact '{artifact_id}' in this session.") from None
    if params["mode"] == "meta":
        return _meta_response(request, *_artifact_meta(artifact))
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
