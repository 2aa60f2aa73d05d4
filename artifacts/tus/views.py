"""The tus endpoints as Django views: what the OpenAPI schema describes, and what Django's test
client reaches. Under ASGI (uvicorn, every real client) the request gate sends `/api/tus/` to
artifacts/tus/streaming_app.py instead, which streams the body; both call the same
artifacts/tus/core.py."""

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from artifacts.tus import core, protocol
from artifacts.tus.protocol import Answer, TusError
from artifacts.tus.targets import depot_error
from attachments import storage
from sessions_app.api.common import ErrorResponse, ValidationErrorResponse
from sessions_app.auth import get_principal
from sessions_app.errors import DepotError

TAG = ["tus (resumable uploads)"]


def _header(name: str, description: str, required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.HEADER, required=required, description=description
    )


TUS_RESUMABLE = _header("Tus-Resumable", "Always `1.0.0`.", required=True)
UPLOAD_ID = OpenApiParameter(
    "upload_id", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[0-9a-f]{32}$"
)


ERRORS = {
    400: "Malformed tus headers or metadata.",
    401: "No valid API key.",
    403: "A read-only key, or bytes for a complete upload.",
    404: "No such upload in the caller's organization (or a target that does not exist).",
    409: "Upload-Offset is not the upload's offset.",
    410: "The upload expired.",
    412: "Tus-Resumable is not 1.0.0.",
    413: "Past Upload-Length, the upload limit or the quota.",
    415: "The body is not application/offset+octet-stream.",
    422: "The target refused the file (MIME rules, file limit, a bad session id).",
    423: "Another request is writing this upload.",
    460: "Upload-Checksum does not match the chunk (discarded).",
    503: "Storage or the database is unavailable.",
}
EVERY = tuple(ERRORS)


def _answers(*statuses: int, ok: int, ok_text: str) -> dict[int, OpenApiResponse]:
    found: dict[int, OpenApiResponse] = {ok: OpenApiResponse(description=ok_text)}
    for status in statuses:
        schema = ValidationErrorResponse if status == 422 else ErrorResponse
        found[status] = OpenApiResponse(response=schema, description=ERRORS[status])
    return found


def _respond(answer: Answer) -> HttpResponse:
    response = HttpResponse(
        b"" if answer.body is None else json.dumps(answer.body).encode(),
        status=answer.status,
        content_type="application/json" if answer.body is not None else None,
        reason="Checksum Mismatch" if answer.status == 460 else None,
    )
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _call(handler: Callable[[], Answer]) -> HttpResponse:
    try:
        return _respond(handler())
    except TusError as error:
        return _respond(protocol.error_answer(error))
    except DepotError as error:
        return _respond(protocol.error_answer(depot_error(error)))
    except storage.STORAGE_ERRORS:
        return _respond(protocol.error_answer(TusError(503, "Storage is unavailable.")))


def _headers(request: Request) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def _body(request: Request) -> Iterator[bytes]:
    django_request = request._request
    return iter(lambda: django_request.read(storage.READ_CHUNK), b"")


class TusView(APIView):
    def get_permissions(self) -> list[Any]:
        # Discovery is open, as tus servers make it; everything else needs a key (the 403 for
        # a read-only key is core's, per request).
        return [] if self.request.method == "OPTIONS" else [_Authenticated()]


class _Authenticated:
    def has_permission(self, request: Request, view: Any) -> bool:
        from rest_framework.exceptions import NotAuthenticated

        if get_principal(request) is None:
            raise NotAuthenticated()
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return True


@extend_schema(tags=TAG)
class TusCollectionView(TusView):
    @extend_schema(
        operation_id="tus_options",
        summary="tus discovery: version, extensions, limits, checksum algorithms",
        request=None,
        responses=_answers(
            ok=204,
            ok_text="Tus-Version, Tus-Extension, Tus-Max-Size and Tus-Checksum-Algorithm headers.",
        ),
    )
    def options(  # type: ignore[override]  # a tus answer, not DRF's metadata
        self, request: Request, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return _respond(core.options())

    @extend_schema(
        operation_id="tus_create",
        summary="Create a tus upload (creation, creation-with-upload, defer-length, concat)",
        description=(
            'tus 1.0.0 (README, "Resumable uploads (tus)"). Two requests of the protocol are '
            "not listed, because OpenAPI generation leaves these methods out: `OPTIONS /api/tus/` "
            "(discovery: Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm; no "
            "key needed) and `HEAD /api/tus/{upload_id}` (Upload-Offset, Upload-Length or "
            "Upload-Defer-Length, Upload-Metadata, Upload-Expires). Every answer carries "
            "`Tus-Resumable: 1.0.0`."
        ),
        parameters=[
            TUS_RESUMABLE,
            _header("Upload-Length", "The file's size in bytes (or Upload-Defer-Length: 1)."),
            _header("Upload-Defer-Length", "`1`: the size is sent by a later PATCH."),
            _header(
                "Upload-Metadata",
                "Comma-separated `key base64(value)`: `session_id` (+ `filename`, `filetype`, "
                "`description`) for an attachment, or `namespace` with `artifact_id` or `name`.",
            ),
            _header("Upload-Concat", "`partial`, or `final;<url> <url> …` to join partials."),
            _header("Upload-Checksum", "`sha1|sha256|md5 <base64>` of a body sent with it."),
        ],
        request={protocol.OFFSET_TYPE: OpenApiTypes.BINARY},
        responses=_answers(
            *EVERY,
            ok=201,
            ok_text="Location: the upload's URL; Upload-Offset; Upload-Expires.",
        ),
    )
    def post(self, request: Request) -> HttpResponse:
        principal = get_principal(request)
        assert principal is not None
        headers = _headers(request)
        body = _body(request) if request.META.get("CONTENT_LENGTH") not in (None, "", "0") else None
        base = f"{request.scheme}://{request.get_host()}"
        return _call(lambda: core.create(principal, headers, body, base))


@extend_schema(tags=TAG, parameters=[UPLOAD_ID])
class TusUploadView(TusView):
    @extend_schema(
        operation_id="tus_head",
        summary="An upload's offset (and length, metadata, expiry)",
        parameters=[TUS_RESUMABLE],
        responses=_answers(
            *EVERY,
            ok=200,
            ok_text="Upload-Offset, Upload-Length "
            "(or Upload-Defer-Length), Upload-Metadata, Upload-Expires.",
        ),
    )
    def head(self, request: Request, upload_id: str) -> HttpResponse:
        principal = get_principal(request)
        assert principal is not None
        return _call(lambda: core.head(principal, upload_id, _headers(request)))

    @extend_schema(
        operation_id="tus_patch",
        summary="Append bytes at Upload-Offset (the last byte makes the attachment or version)",
        parameters=[
            TUS_RESUMABLE,
            _header("Upload-Offset", "Where these bytes go: the upload's offset.", required=True),
            _header("Upload-Length", "The size, once, for an upload whose length was deferred."),
            _header("Upload-Checksum", "`sha1|sha256|md5 <base64>` of this body."),
        ],
        request={protocol.OFFSET_TYPE: OpenApiTypes.BINARY},
        responses=_answers(
            *EVERY,
            ok=204,
            ok_text="Upload-Offset: the new offset; Depot-Result-Id once finished.",
        ),
    )
    def patch(self, request: Request, upload_id: str) -> HttpResponse:
        principal = get_principal(request)
        assert principal is not None
        return _call(lambda: core.patch(principal, upload_id, _headers(request), _body(request)))

    @extend_schema(
        operation_id="tus_terminate",
        summary="Terminate an upload: its bytes and its URL are gone",
        parameters=[TUS_RESUMABLE],
        responses=_answers(*EVERY, ok=204, ok_text="Terminated."),
    )
    def delete(self, request: Request, upload_id: str) -> HttpResponse:
        principal = get_principal(request)
        assert principal is not None
        return _call(lambda: core.terminate(principal, upload_id, _headers(request)))
