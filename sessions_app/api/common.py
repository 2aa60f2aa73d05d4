"""API plumbing shared by every app: strict request serializers, the 422 detail list, keyset
cursor pages and the error components of the OpenAPI schema."""

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from sessions_app.errors import DepotError, InvalidInput

M = TypeVar("M", bound=Model)

# DRF's error codes, renamed where the seed documents (pydantic) use another word.
ERROR_TYPES = {"required": "missing", "null": "missing", "invalid": "value_error"}


def drf_errors_to_detail(errors: Any, loc: list[str | int]) -> list[dict[str, Any]]:
    """Flatten DRF's nested error structure into `[{"loc", "msg", "type"}]`."""
    if isinstance(errors, Mapping):
        detail: list[dict[str, Any]] = []
        for key, value in errors.items():
            child_loc = loc if key in ("non_field_errors", "__all__") else [*loc, key]
            detail.extend(drf_errors_to_detail(value, child_loc))
        return detail
    if isinstance(errors, Sequence) and not isinstance(errors, str):
        detail = []
        for index, value in enumerate(errors):
            if isinstance(value, Mapping | list) and value:
                detail.extend(drf_errors_to_detail(value, [*loc, index]))
            elif not isinstance(value, Mapping | list):
                detail.extend(drf_errors_to_detail(value, loc))
        return detail
    code = getattr(errors, "code", None) or "value_error"
    return [{"loc": loc, "msg": str(errors), "type": ERROR_TYPES.get(code, code)}]


def contains_nul(value: Any) -> bool:
    """PostgreSQL text and jsonb cannot hold U+0000; find it anywhere in a JSON value."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(contains_nul(key) or contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(contains_nul(item) for item in value)
    return False


class JSONObjectField(serializers.DictField):
    """A JSON object whose strings can be stored as they are (no NUL characters)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if contains_nul(value):
            raise serializers.ValidationError("Null characters are not allowed.", "null_characters")
        return value


class StrictCharField(serializers.CharField):
    """A string that must arrive as a string (DRF would turn 42 into "42")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Input should be a valid string.", "string_type")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """A request serializer that rejects fields it does not know (seed 001: `[key]: never`)."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors: dict[str, Any] = {
            name: [serializers.ErrorDetail("Extra inputs are not permitted.", "extra_forbidden")]
            for name in unknown
        }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            # Report unknown and invalid fields together, as one 422.
            if isinstance(error.detail, Mapping):
                errors = {**error.detail, **errors}
            else:
                raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


def validated(
    serializer_class: type[serializers.Serializer],
    data: Any,
    *,
    location: str = "body",
    **kwargs: Any,
) -> dict[str, Any]:
    """Validate `data`; failures become a 422 whose `loc` starts with `location`."""
    serializer = serializer_class(data=data, **kwargs)
    if not serializer.is_valid():
        raise InvalidInput(drf_errors_to_detail(serializer.errors, [location]))
    return dict(serializer.validated_data)


def query_data(request: Any) -> dict[str, Any]:
    """Query parameters as a dict (last value wins), for `validated(..., location="query")`."""
    return {key: request.query_params.get(key) for key in request.query_params}


# --- keyset cursor pages ---


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput.single(["query", "cursor"], "Invalid cursor.", "value_error") from error


@dataclass
class Page:
    items: list[Any]
    has_more: bool
    next_cursor: str | None


def keyset_page(queryset: QuerySet[M], *, cursor: str | None, limit: int, key: str = "pk") -> Page:
    """Newest first by `key`, an integer that only grows for new rows (the primary key, or an
    artifact's root id, so a new version does not move its artifact). A walk that started
    earlier therefore never sees a repeat or a gap while rows are being inserted."""
    if cursor:
        queryset = queryset.filter(**{f"{key}__lt": decode_cursor(cursor)})
    rows = list(queryset.order_by(f"-{key}")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], key)) if has_more and rows else None
    return Page(items=rows, has_more=has_more, next_cursor=next_cursor)


class PageQuerySerializer(StrictSerializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    cursor = serializers.CharField(required=False, allow_blank=True)


# --- errors outside DRF ---


def error_body(exc: DepotError) -> dict[str, Any]:
    if isinstance(exc, InvalidInput):
        return {"detail": exc.errors}
    return {"detail": exc.detail}


# --- error components for the schema ---


class ValidationErrorItem(serializers.Serializer):
    loc = serializers.ListField(child=serializers.CharField())
    msg = serializers.CharField()
    type = serializers.CharField()


class ValidationErrorResponse(serializers.Serializer):
    detail = ValidationErrorItem(many=True)


class ErrorResponse(serializers.Serializer):
    detail = serializers.CharField()


ERROR_DESCRIPTIONS = {
    400: "Unparseable JSON or multipart body.",
    401: "No API key, or an invalid, revoked or expired one.",
    403: "The key is read-only, or the request is otherwise forbidden.",
    404: "Not found (also another tenant's object).",
    409: "Conflict with the current state.",
    410: "The bytes were removed (auto-clean).",
    413: "Upload larger than the configured limit.",
    416: "Requested range not satisfiable.",
    422: "Validation error.",
    503: "A dependency is unavailable.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(
            response=ValidationErrorResponse if code == 422 else ErrorResponse,
            description=ERROR_DESCRIPTIONS[code],
        )
        for code in codes
    }


READ_ERRORS = (401, 404, 422)
WRITE_ERRORS = (400, 401, 403, 404, 422)

SESSION_ID_PARAMETER = OpenApiParameter(
    "session_id",
    str,
    OpenApiParameter.PATH,
    description="Client-chosen (`^[A-Za-z0-9_-]{1,128}$`) or server-minted (`s-<uuid>`).",
)
