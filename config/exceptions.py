"""One place that turns every error into the JSON shapes of product.md §2.5."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from attachments.storage import STORAGE_ERRORS
from sessions_app.api.common import drf_errors_to_detail, error_body
from sessions_app.errors import DatabaseUnavailable, DepotError, InvalidInput, StorageUnavailable

logger = logging.getLogger(__name__)


# Seconds a client is asked to wait after a 503: outages of a dependency are short or long,
# never instant.
RETRY_AFTER_SECONDS = 5


def _as_depot_error(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        return InvalidInput(drf_errors_to_detail(messages, ["body"]))
    if isinstance(exc, drf_exceptions.ValidationError):
        return InvalidInput(drf_errors_to_detail(exc.detail, ["body"]))
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        return DatabaseUnavailable()
    if isinstance(exc, STORAGE_ERRORS) and not isinstance(exc, FileNotFoundError):
        logger.warning("storage unavailable: %s: %s", type(exc).__name__, exc)
        return StorageUnavailable()
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = _as_depot_error(exc)
    if isinstance(exc, DepotError):
        set_rollback()
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status_code == 503 else {}
        return Response(error_body(exc), status=exc.status_code, headers=retry)
    if isinstance(exc, RequestDataTooBig):
        set_rollback()
        return Response({"detail": "Request body is too large."}, status=413)
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = drf_exceptions.ParseError("Too many form fields.")
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.APIException):
        set_rollback()
        headers: dict[str, str] = {}
        if auth_header := getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = auth_header
        if wait := getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(wait))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return Response({"detail": detail}, status=exc.status_code, headers=headers)
    # Anything else is a bug: log it and answer with a JSON 500, never a traceback.
    logger.exception("unhandled error in %s", context.get("view"))
    set_rollback()
    return Response({"detail": "Internal server error."}, status=500)
