"""Schema additions that hold for every operation, made once after drf-spectacular's pass."""

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
