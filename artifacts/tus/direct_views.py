"""REST endpoints of direct-to-S3 uploads (artifacts/tus/direct.py), beside the uploads."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts.tus import direct
from artifacts.tus.protocol import TusError
from sessions_app.api.common import DepotJSONParser, StrictSerializer, error_responses, validated
from sessions_app.auth import get_principal
from sessions_app.errors import DepotError, InvalidInput

TAG = ["direct-to-S3 uploads"]
UPLOAD_ID = OpenApiParameter("upload_id", str, OpenApiParameter.PATH, pattern=r"^[0-9a-f]{32}$")
ERRORS = (400, 401, 403, 404, 409, 413, 422)


class TargetMetadata(StrictSerializer):
    """What the file becomes: `session_id` (an attachment), or `namespace` with `artifact_id`
    (its next version) or `name` (a new artifact), as tus's Upload-Metadata names it."""

    session_id = serializers.CharField(required=False, max_length=200)
    filename = serializers.CharField(required=False, max_length=1000)
    filetype = serializers.CharField(required=False, max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    namespace = serializers.CharField(required=False, max_length=200)
    artifact_id = serializers.CharField(required=False, max_length=40)
    name = serializers.CharField(required=False, max_length=500)


class DirectCreate(StrictSerializer):
    size = serializers.IntegerField(min_value=0, max_value=2**62)
    parts = serializers.IntegerField(min_value=1, max_value=direct.MAX_PARTS)
    metadata = TargetMetadata()


class PresignedPart(serializers.Serializer):
    part_number = serializers.IntegerField()
    url = serializers.CharField(help_text="PUT the part's bytes here; keep the ETag S3 answers.")


class DirectCreateResponse(serializers.Serializer):
    upload_id = serializers.CharField()
    size = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    parts = PresignedPart(many=True)


class CompletedPart(StrictSerializer):
    part_number = serializers.IntegerField(min_value=1, max_value=direct.MAX_PARTS)
    etag = serializers.CharField(max_length=200)


class DirectComplete(StrictSerializer):
    parts = CompletedPart(many=True)


class DirectCompleteResponse(serializers.Serializer):
    upload_id = serializers.CharField()
    result_id = serializers.CharField(help_text="The attachment or artifact version made.")
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


def _call(handler: Any) -> Any:
    try:
        return handler()
    except TusError as error:
        if error.status == 422:  # Depot's 422 carries a detail list
            listed = error.body.get("detail")
            if isinstance(listed, list):
                raise InvalidInput(listed) from error
            raise InvalidInput.single(["body"], error.detail) from error
        exception = DepotError(error.detail)
        # Another request completing or aborting the same upload: a conflict here.
        exception.status_code = 409 if error.status == 423 else error.status
        raise exception from error


@extend_schema(tags=TAG)
class DirectUploadsView(APIView):
    parser_classes = [DepotJSONParser]

    @extend_schema(
        operation_id="direct_uploads_create",
        summary="Start a direct-to-S3 upload of N parts: presigned part URLs (S3 only)",
        request=DirectCreate,
        responses={201: DirectCreateResponse, **error_responses(*ERRORS)},
    )
    def post(self, request: Request) -> Response:
        principal = get_principal(request)
        assert principal is not None
        data = validated(DirectCreate, request.data)
        answer = _call(
            lambda: direct.direct_create(
                principal, size=data["size"], parts=data["parts"], metadata=data["metadata"]
            )
        )
        return Response(DirectCreateResponse(answer).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG, parameters=[UPLOAD_ID])
class DirectUploadCompleteView(APIView):
    parser_classes = [DepotJSONParser]

    @extend_schema(
        operation_id="direct_uploads_complete",
        summary="Complete with the parts' ETags: Depot verifies size and SHA-256, then files it",
        request=DirectComplete,
        responses={201: DirectCompleteResponse, **error_responses(*ERRORS)},
    )
    def post(self, request: Request, upload_id: str) -> Response:
        principal = get_principal(request)
        assert principal is not None
        data = validated(DirectComplete, request.data)
        answer = _call(lambda: direct.direct_complete(principal, upload_id, data["parts"]))
        return Response(DirectCompleteResponse(answer).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=TAG, parameters=[UPLOAD_ID])
class DirectUploadView(APIView):
    @extend_schema(
        operation_id="direct_uploads_abort",
        summary="Abort a direct-to-S3 upload: its parts are dropped",
        request=None,
        responses={204: None, **error_responses(*ERRORS)},
    )
    def delete(self, request: Request, upload_id: str) -> Response:
        principal = get_principal(request)
        assert principal is not None
        _call(lambda: direct.direct_abort(principal, upload_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
