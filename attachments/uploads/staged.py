"""Where a view finds an uploaded file: staged by the ASGI middleware while it streamed, or
(test client, WSGI) parsed by Django, in which case it is staged here."""

from typing import Any

from attachments import storage
from attachments.uploads.middleware import STAGED_SCOPE_KEY
from sessions_app.api.common import FormValues, json_loads, stored_json_problem
from sessions_app.errors import InvalidInput


def staged_upload(request: Any, field: str = "file") -> tuple[storage.StagedBlob, str] | None:
    """(staged bytes, client file name) for `field`, or None when the request has no file."""
    django_request = getattr(request, "_request", request)
    staged = getattr(django_request, "scope", {}).get(STAGED_SCOPE_KEY, {})
    if field in staged:
        upload = staged[field]
        return upload.blob, upload.file_name
    files = getattr(request, "FILES", {})
    if field in files:
        uploaded = files[field]
        return storage.write_stream(uploaded.chunks()), uploaded.name or ""
    return None


def require_upload(request: Any, field: str = "file") -> tuple[storage.StagedBlob, str]:
    found = staged_upload(request, field)
    if found is None:
        raise InvalidInput.single(["body", field], "Field required (a file).", "missing")
    return found


def form_data(request: Any, *, file_fields: tuple[str, ...] = ("file",)) -> FormValues:
    """The text fields of a form (files left out). A field sent as several parts
    (`tags=a`, `tags=b`, as generated clients send a list) keeps all of them, as a list."""
    data = request.data
    values = FormValues()
    for key in data:
        if key in file_fields or key in getattr(request, "FILES", {}):
            continue
        every = data.getlist(key) if hasattr(data, "getlist") else [data.get(key)]
        values[key] = every if len(every) > 1 else every[0]
    return values


def json_object_field(value: Any, *, loc: list[str | int]) -> dict[str, Any]:
    """A form field that carries a JSON object (e.g. `metadata`)."""
    if value in (None, ""):
        return {}
    try:
        parsed = value if isinstance(value, dict) else json_loads(value)
    except (TypeError, ValueError) as error:
        raise InvalidInput.single(loc, "Must be a JSON object.", "json_invalid") from error
    if not isinstance(parsed, dict):
        raise InvalidInput.single(loc, "Must be a JSON object.", "dict_type")
    problem = stored_json_problem(parsed)
    if problem is not None:
        raise InvalidInput.single(loc, *problem)
    return parsed
