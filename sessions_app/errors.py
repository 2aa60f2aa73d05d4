"""Domain errors. Services raise these; `config.exceptions` turns them into the JSON shapes of
product.md §2.5, for DRF views and plain async views alike."""

from typing import Any


class DepotError(Exception):
    status_code = 400
    default_detail = "Bad request."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class NotFound(DepotError):
    status_code = 404
    default_detail = "Not found."


class Conflict(DepotError):
    status_code = 409
    default_detail = "Conflict."


class Gone(DepotError):
    status_code = 410
    default_detail = "Gone."


class StorageUnavailable(DepotError):
    status_code = 503
    default_detail = "Storage is unavailable; nothing was stored. Retry later."


class DatabaseUnavailable(DepotError):
    status_code = 503
    default_detail = "The database is unavailable; nothing was changed. Retry later."


class InvalidInput(DepotError):
    """A 422 with the detail list `[{"loc": [...], "msg": ..., "type": ...}]`."""

    status_code = 422

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(error["msg"]) for error in errors))

    @classmethod
    def single(cls, loc: list[str | int], msg: str, type_: str = "value_error") -> "InvalidInput":
        return cls([{"loc": loc, "msg": msg, "type": type_}])


def error_body(error: DepotError | str) -> dict[str, Any]:
    """The JSON body of every error answer (product.md §2.5): `{"detail": "<message>"}`, or
    for a 422 `{"detail": [{"loc", "msg", "type"}, ...]}`. DRF views (through
    config.exceptions), the long-poll, the 416 of a download, Django's own error views and the
    ASGI layers in front of Django (the request gate, Idempotency-Key, the upload middleware,
    the HTTP protocol's 408/431, /metrics, tus, MCP) all build it here."""
    if isinstance(error, InvalidInput):
        return {"detail": error.errors}
    if isinstance(error, DepotError):
        return {"detail": error.detail}
    return {"detail": error}
