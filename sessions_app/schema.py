"""Teaches drf-spectacular how Depot authenticates, and holds the schema pieces several apps'
views share (the session id path parameter)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter

from sessions_app.models import SESSION_ID_PATTERN


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "sessions_app.auth.ApiKeyAuthentication"
    name = ["ApiKeyHeader", "BearerKey"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            {"type": "http", "scheme": "bearer", "description": "The same key as a bearer token."},
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        # Either header carries the key. One requirement object naming both would mean both
        # at once (OpenAPI ANDs the schemes inside one object and ORs the objects).
        return [{"ApiKeyHeader": []}, {"BearerKey": []}]


# The pattern is the one every view checks (sessions_app.selectors.validate_session_id), so a
# generated client or fuzzer knows which ids are valid, and anything else is the 422 it gets.
SESSION_ID_PATH = OpenApiParameter(
    "session_id",
    str,
    OpenApiParameter.PATH,
    pattern=SESSION_ID_PATTERN,
    description="Client-chosen (`^[A-Za-z0-9_-]{1,128}$`) or server-minted (`s-<uuid>`).",
)
