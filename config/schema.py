"""Schema additions that hold for every operation, made once after drf-spectacular's pass."""

import copy
import json
from collections.abc import Iterator
from typing import Any

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
_INTEGER = {"schema": {"type": "integer"}}
RATE_LIMITED = {
    "description": (
        "Too many requests from this key (or, without credentials, this address): see "
        "DEPOT_RATE_LIMIT_READS, DEPOT_RATE_LIMIT_WRITES and DEPOT_RATE_LIMIT_ANONYMOUS."
    ),
    "headers": {
        "Retry-After": {**_INTEGER, "description": "Seconds until the window ends."},
        "RateLimit-Limit": {**_INTEGER, "description": "Requests allowed in the window."},
        "RateLimit-Remaining": {**_INTEGER, "description": "Requests left in the window."},
        "RateLimit-Reset": {**_INTEGER, "description": "Seconds until the window ends."},
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "Run this request at most once: a repeat with the same key and the same request gets "
        "the first answer again (with `Idempotent-Replayed: true`); the same key with another "
        "request is a 422, and one still running a 409. Kept 24 h."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def add_gate_behaviour(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """What the request gate adds to every operation under /api/: any of them may answer 429
    (config/rate_limits.py), and every POST takes an Idempotency-Key (config/idempotency.py)."""
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            operation.setdefault("responses", {}).setdefault("429", RATE_LIMITED)
            if method == "post":
                operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    return result


# --- what generators and linters need (openapi-python-client, openapi-typescript, Redocly) ---

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
_VALIDATION = {
    "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorResponse"}}
}
_RETRY_AFTER = {"Retry-After": {**_INTEGER, "description": "Seconds to wait before retrying."}}
# What any operation may answer besides its own errors, and who answers it: the database or
# storage being down (config/exceptions.py) for every one; a body that stops arriving, passes
# its cap or has a type the operation does not read (config/request_gate.py, DRF's parsers)
# for those that take a body; and an Idempotency-Key still running, reused for another request
# or not storable (config/idempotency.py) for every POST.
UNAVAILABLE = {
    "description": "The database, the storage or the shared cache is unavailable.",
    "headers": _RETRY_AFTER,
    "content": _ERROR,
}
BODY_ERRORS = {
    "408": {
        "description": "The request body stopped arriving; nothing was kept.",
        "content": _ERROR,
    },
    "413": {"description": "The request body is larger than its cap.", "content": _ERROR},
    "415": {"description": "A body media type this operation does not read.", "content": _ERROR},
}
POST_ERRORS = {
    "409": {
        "description": "A request with this Idempotency-Key is still running.",
        "content": _ERROR,
    },
    "422": {"description": "Malformed or reused Idempotency-Key.", "content": _VALIDATION},
}
# Summaries for the operations whose views give none (a view's own summary always wins).
SUMMARIES = {
    "sessions_list": "List sessions, newest first",
    "sessions_create": "Create a session",
    "sessions_retrieve": "Get a session",
    "sessions_update": "Change a session's title, status or metadata",
    "sessions_destroy": "Delete a session with its attachments",
    "sessions_complete": "Mark a session completed or failed",
    "uploads_destroy": "Delete an attachment",
    "flat_artifacts_retrieve": "Get an artifact with its latest version",
    "artifacts_list": "List a namespace's artifacts",
    "artifacts_create": "Create an artifact from JSON content",
    "artifacts_retrieve": "Get an artifact",
    "artifacts_versions": "List an artifact's versions",
    "artifacts_create_with_file": "Create an artifact from an uploaded file",
    "thread_artifacts_list": "List a thread's artifacts",
}
LICENSE = {"name": "Apache-2.0"}


def _operations(result: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"].rsplit("/", 1)[-1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _request_components(result: dict[str, Any]) -> set[str]:
    """Components reachable from a request body and from no response."""
    schemas = result.get("components", {}).get("schemas", {})

    def reachable(roots: list[Any]) -> set[str]:
        seen: set[str] = set()
        todo = [name for root in roots for name in _refs(root)]
        while todo:
            name = todo.pop()
            if name in seen or name not in schemas:
                continue
            seen.add(name)
            todo.extend(_refs(schemas[name]))
        return seen

    operations = [operation for _, _, operation in _operations(result)]
    requests = reachable([operation.get("requestBody", {}) for operation in operations])
    responses = reachable([operation.get("responses", {}) for operation in operations])
    return requests - responses


def _drop_defaults(schema: Any) -> None:
    """A `default` in a request body makes openapi-typescript type the field as required; the
    server applies it anyway, so it moves into the description."""
    if not isinstance(schema, dict):
        return
    if "default" in schema:
        told = schema.get("description", "")
        schema["description"] = (
            f"{told}\n\nDefault: `{json.dumps(schema.pop('default'))}`.".lstrip()
        )
    for child in schema.get("properties", {}).values():
        _drop_defaults(child)
    for key in ("items", "additionalProperties", "not"):
        _drop_defaults(schema.get(key))
    for key in ("allOf", "oneOf", "anyOf"):
        for child in schema.get(key, []):
            _drop_defaults(child)


def _name_the_bytes(response: dict[str, Any]) -> None:
    """Stored bytes go out under the type they were stored with, so their response is `*/*`.
    Generators pick a decoder by media type and know no `*/*` (openapi-python-client drops the
    response), so `application/octet-stream`, one of the types `*/*` covers, comes first."""
    content = response.get("content", {})
    if list(content) == ["*/*"] and content["*/*"].get("schema", {}).get("format") == "binary":
        response["content"] = {"application/octet-stream": content["*/*"], **content}


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _one_model_per_body(result: dict[str, Any], operation: dict[str, Any]) -> None:
    """A body that JSON and a form share one component: a generator picks the encoding by the
    body's class, so with one class it cannot tell them apart (openapi-python-client sent a
    JSON body as multipart too). The form gets a copy of its own, `<name>Form`; binary fields,
    which JSON cannot carry, stay on the form only."""
    schemas = result.get("components", {}).get("schemas", {})
    content = operation.get("requestBody", {}).get("content", {})
    json_ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    name = json_ref.rsplit("/", 1)[-1]
    shared = [t for t in FORM_TYPES if content.get(t, {}).get("schema", {}).get("$ref") == json_ref]
    if not json_ref or not shared or name not in schemas:
        return
    form = f"{name.removesuffix('Request')}Form"
    schemas.setdefault(form, copy.deepcopy(schemas[name]))
    for media_type in shared:
        content[media_type]["schema"] = {"$ref": f"#/components/schemas/{form}"}
    if "multipart/form-data" in shared:
        content.pop("application/x-www-form-urlencoded", None)  # the same class again
    properties = schemas[name].get("properties", {})
    for field, field_schema in list(properties.items()):
        if field_schema.get("format") == "binary":
            del properties[field]


def for_generators(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Makes the schema one that openapi-spec-validator and Redocly's recommended rules accept
    and that generators read as meant: every error an operation can answer, with its body; a
    summary per operation; request components without defaults; an explicit empty security on
    the operations anyone may call. (Request serializers carry no `Request` suffix, so
    drf-spectacular's own `<name>Request` is the component name.)"""
    schemas = result.get("components", {}).get("schemas", {})
    for path, method, operation in _operations(result):
        if not path.startswith("/api/"):
            continue
        _one_model_per_body(result, operation)
        responses = operation.setdefault("responses", {})
        if "requestBody" in operation:
            for status, response in BODY_ERRORS.items():
                responses.setdefault(status, response)
        if method == "post":
            for status, response in POST_ERRORS.items():
                responses.setdefault(status, response)
        responses.setdefault("503", UNAVAILABLE)
        for response in responses.values():
            _name_the_bytes(response)
        operation["responses"] = dict(sorted(responses.items()))
        if not operation.get("summary") and operation.get("operationId") in SUMMARIES:
            operation["summary"] = SUMMARIES[operation["operationId"]]
        operation.setdefault("security", [])
    result.setdefault("servers", [{"url": "/", "description": "This Depot server."}])
    result.setdefault("info", {}).setdefault("license", LICENSE)
    for name in _request_components(result):
        _drop_defaults(schemas[name])
    return result
