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


def add_rate_limit_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Every operation under /api/ passes the rate limiter (config/rate_limits.py), so every
    one of them may answer 429."""
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS:
                operation.setdefault("responses", {}).setdefault("429", RATE_LIMITED)
    return result
