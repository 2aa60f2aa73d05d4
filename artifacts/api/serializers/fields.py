"""Fields the artifact serializers share."""

from typing import Any

from rest_framework import serializers

from attachments.file_identity import MAX_MEDIA_TYPE_LENGTH, normalize_media_type
from sessions_app.api.common import JSONObjectField, json_loads


class EmptyAsNullCharField(serializers.CharField):
    """Stored as "" (Django's convention for text), shown as null where the seeds say null."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    # None is the point of this field, though CharField's stub promises a str.
    def to_representation(self, value: Any) -> str | None:  # type: ignore[override]
        return value or None


class MediaTypeField(serializers.CharField):
    """A content type a client names for inline text: exactly one well-formed MIME type,
    stored in canonical form. A list (`text/plain, text/html`), a line break or anything else
    outside the grammar is a 422, because browsers act on the last type of a list."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", MAX_MEDIA_TYPE_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        normalized = normalize_media_type(value)
        if normalized is None:
            raise serializers.ValidationError(
                "Input should be one MIME type such as 'text/markdown' or "
                "'text/plain; charset=utf-8'.",
                "media_type",
            )
        return normalized


class StringListField(serializers.ListField):
    """A list of strings; in a form, also a JSON array or a comma-separated string."""

    child = serializers.CharField(max_length=255)

    def to_internal_value(self, data: Any) -> list[str]:
        if isinstance(data, str):
            stripped = data.strip()
            if stripped.startswith("["):
                try:
                    data = json_loads(stripped)
                except ValueError as error:
                    raise serializers.ValidationError("Must be a JSON array.") from error
            else:
                data = [item.strip() for item in stripped.split(",") if item.strip()]
        return super().to_internal_value(data)


class FormJSONObjectField(JSONObjectField):
    """A JSON object; in a form, a JSON string."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            try:
                data = json_loads(data) if data.strip() else {}
            except ValueError as error:
                raise serializers.ValidationError("Must be a JSON object.") from error
        return super().to_internal_value(data)
