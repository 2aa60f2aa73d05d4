"""API plumbing shared by every app: strict request serializers, the 422 detail list, keyset
cursor pages and the error components of the OpenAPI schema."""

import base64
import binascii
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from sessions_app.errors import InvalidInput

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


# --- bounds that fit the columns (issue 14, item 4) ---

# The largest values of PostgreSQL's `integer` and `bigint` (SQLite's integers are all 64-bit,
# so these bind on both profiles). An integer a client sends is bounded by the column it lands
# in or is compared with: past it, PostgreSQL answers "integer out of range" and SQLite's
# driver raises OverflowError, both 500s.
MAX_INTEGER = 2**31 - 1
MAX_BIGINT = 2**63 - 1
# An artifact's lifetime lands in a PositiveIntegerField (`integer`, about 68 years), and
# `now + ttl` then stays far inside the dates Python and both databases can hold (year 9999).
MAX_TTL_SECONDS = MAX_INTEGER


# --- JSON values a client stores (issue 14, item 6) ---

# How deeply a stored JSON value (`metadata`) may nest objects and arrays, the top level being
# 1. Every later walk of the value recurses once per level: Django's and DRF's encoders, the
# JSON renderer, psycopg, the admin, the clients' own parsers. Python stops at 1,000 frames,
# and a request is already 100–200 frames deep when it encodes, so 900 levels failed. 64
# keeps all of those far from that ceiling, and is still well past anything metadata needs
# (the seeds' metadata is flat key/value pairs).
MAX_JSON_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON.")


def json_loads(text: str | bytes) -> Any:
    """`json.loads` for text a client sent in a form field: NaN and Infinity are refused (as
    DRF refuses them in a JSON body), and a document nested too deeply for Python's parser is
    a ValueError like any other unparseable JSON rather than a RecursionError."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as error:
        raise ValueError("JSON is nested too deeply.") from error


def stored_json_problem(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """(message, type) saying why a client's JSON value cannot be stored as it is, or None.

    Too deep (see MAX_JSON_DEPTH); U+0000 or a lone surrogate in a string (PostgreSQL's jsonb
    and text hold neither, and UTF-8 cannot encode a surrogate); a float that is not finite
    (`1e999` parses as infinity, which JSON cannot represent). Walked with an explicit stack,
    not recursion, so checking a deep value cannot itself exhaust Python's stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return "Null characters are not allowed.", "null_characters"
            if _SURROGATE.search(item):
                return "Unpaired surrogate characters are not allowed.", "surrogate_characters"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "Numbers must be finite.", "finite_number"
        elif isinstance(item, Mapping | list | tuple):
            if depth > max_depth:
                return (
                    f"JSON values may nest objects and arrays at most {max_depth} levels deep.",
                    "json_too_deep",
                )
            children = [*item.keys(), *item.values()] if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
    return None


class JSONObjectField(serializers.DictField):
    """A JSON object that can be stored as it is (see `stored_json_problem`)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        problem = stored_json_problem(value)
        if problem is not None:
            raise serializers.ValidationError(*problem)
        return value


class DepotJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested too deeply for Python's parser (100,000 levels)
    answered like any other unparseable JSON, a 400, instead of a RecursionError's 500."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error


class StrictCharField(serializers.CharField):
    """A string that must arrive as a string (DRF would turn 42 into "42")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Input should be a valid string.", "string_type")
        return super().to_internal_value(data)


class FormValues(dict[str, Any]):
    """Text values from a form or a query string: everything arrives as a string there, so
    `StrictSerializer` lets DRF read "5" as a number and "true" as a boolean."""


def _json_type_problem(field: serializers.Field, value: Any) -> tuple[str, str] | None:
    """(message, type) when a JSON value is not of the field's own type: DRF would turn 5
    into "5", 1 into True and "5" or 5.0 into 5 without a word, which a client generated
    from the schema never means."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.BooleanField):
        ok = isinstance(value, bool)
        return None if ok else ("Input should be a valid boolean.", "bool_type")
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else ("Input should be a valid integer.", "int_type")
    if isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else ("Input should be a valid number.", "float_type")
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        ok = isinstance(value, str)
        return None if ok else ("Input should be a valid string.", "string_type")
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        for item in value:
            if problem := _json_type_problem(field.child, item):
                return problem
    return None


class StrictSerializer(serializers.Serializer):
    """A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors: dict[str, Any] = {
            name: [serializers.ErrorDetail("Extra inputs are not permitted.", "extra_forbidden")]
            for name in unknown
        }
        if self.context.get("json_types") and isinstance(data, Mapping):
            for name, field in self.fields.items():
                problem = None if field.read_only else _json_type_problem(field, data.get(name))
                if problem is not None:
                    errors[name] = [serializers.ErrorDetail(*problem)]
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
    """Validate `data`; failures become a 422 whose `loc` starts with `location`. A JSON body
    (a plain dict in the body, not form or query values) must also hold values of each field's
    own JSON type."""
    json_types = (
        location == "body"
        and isinstance(data, Mapping)
        and not isinstance(data, FormValues | QueryDict)
    )
    context = {**kwargs.pop("context", {}), "json_types": json_types}
    serializer = serializer_class(data=data, context=context, **kwargs)
    if not serializer.is_valid():
        raise InvalidInput(drf_errors_to_detail(serializer.errors, [location]))
    return dict(serializer.validated_data)


def query_data(request: Any) -> FormValues:
    """Query parameters as a dict (last value wins), for `validated(..., location="query")`."""
    return FormValues({key: request.query_params.get(key) for key in request.query_params})


# The context that says a form's `file` part arrived outside `request.data` (staged while
# the body streamed, and checked apart).
FILE_OUTSIDE_DATA = {"file_outside_data": True}


# A form with a `file` part: the schema shows the part, and validation under FILE_OUTSIDE_DATA
# leaves it out (the upload code has already checked it). No docstring: the schema would take
# it as the description of every form that mixes it in.
class StagedFileFieldsMixin(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.context.get("file_outside_data"):
            fields.pop("file", None)
        return fields


# --- keyset cursor pages ---


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != "id":
            raise ValueError(kind)
        last_id = int(value)
        # Ids are bigints: a larger number would overflow the comparison (a 500).
        if not 0 <= last_id <= MAX_BIGINT:
            raise ValueError(value)
        return last_id
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


# --- error components for the schema ---


@extend_schema_field({"oneOf": [{"type": "string"}, {"type": "integer"}]})
class LocPartField(serializers.Field):
    """One step of a `loc`: a field name, or a list index (`["body", "tags", 0]`), as the
    seeds' pydantic errors have it."""

    def to_representation(self, value: Any) -> str | int:
        return value if isinstance(value, int) else str(value)


class ValidationErrorItem(serializers.Serializer):
    loc = serializers.ListField(child=LocPartField())
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
