"""DRF's exception handler for Depot: translate Depot's and Django's errors into DRF's, let
DRF's own handler answer them (status, WWW-Authenticate and Retry-After headers, the rollback),
and give the answer the one error body (`sessions_app.errors.error_body`, product.md §2.5).

Anything else is a bug: the handler returns None, DRF re-raises, and Django's own 500 path
logs it and answers with `config.views.server_error` (a JSON 500, no traceback)."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from attachments.storage import STORAGE_ERRORS
from sessions_app.api.common import drf_errors_to_detail
from sessions_app.errors import (
    DatabaseUnavailable,
    DepotError,
    InvalidInput,
    StorageUnavailable,
    error_body,
)

logger = logging.getLogger(__name__)


# Seconds a client is asked to wait after a 503: outages of a dependency are short or long,
# never instant.
RETRY_AFTER_SECONDS = 5


class DepotAPIException(drf_exceptions.APIException):
    """A DepotError as DRF's handler takes it; the error itself gives the body."""

    def __init__(self, error: DepotError) -> None:
        super().__init__(error.detail)
        self.error = error
        self.status_code = error.status_code
        if error.status_code == 503:
            self.wait = RETRY_AFTER_SECONDS


class RequestTooLarge(drf_exceptions.APIException):
    status_code = 413
    default_detail = "Request body is too large."


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


def translate(exc: Exception) -> Exception:
    """The DRF exception that stands for `exc`, or `exc` itself when it is none of Depot's or
    Django's known errors. Django's 404 and 403 keep DRF's default messages (not the text
    Django's exception carries, which may name a model)."""
    exc = _as_depot_error(exc)
    if isinstance(exc, DepotError):
        return DepotAPIException(exc)
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return drf_exceptions.ParseError("Too many form fields.")
    if isinstance(exc, Http404):
        return drf_exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return drf_exceptions.PermissionDenied()
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    translated = translate(exc)
    response = drf_exception_handler(translated, context)
    if response is None:
        return None  # unknown: Django's 500 path
    if isinstance(translated, DepotAPIException):
        response.data = error_body(translated.error)
    else:
        detail = getattr(translated, "detail", "")
        response.data = error_body(detail if isinstance(detail, str) else str(detail))
    return response
