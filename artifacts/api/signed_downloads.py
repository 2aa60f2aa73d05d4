"""Depot-signed download URLs: what seed 002's download answer links to on local disk (S3
links go to S3 itself)."""

import time
from typing import Any

from django.core import signing
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from artifacts import selectors
from artifacts.api.common import ANY_MEDIA_TYPE, BINARY
from artifacts.version_bytes import artifact_file
from attachments import storage
from attachments.downloads import file_response
from sessions_app.api.common import ErrorResponse
from sessions_app.errors import NotFound


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
        artifact = selectors.artifact_for_signed_download(pk=payload.get("a"))
        if artifact is None:
            raise NotFound("The artifact behind this link no longer exists.")
        return file_response(request, artifact_file(artifact), download=True)
