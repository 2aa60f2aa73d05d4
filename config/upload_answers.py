"""`POST /api/uploads/{sid}` finished by the streaming upload middleware itself, without
Django, for the plain case.

By the time the middleware has a whole upload, the gate has authenticated the key and the file
is hashed and written but for its last piece. Handing it to Django then cost about 2 ms of CPU
of a 1 MiB upload's 8-10 (issue 11): Django's handler (its signals, the request, eight
middlewares, each signal a trip to the request's thread) and DRF (a second pass over the key,
content negotiation, a form parser and a serializer over a form that is mostly empty) around
one service call. Here the file's last piece and its `fdatasync`, then that service call, are
made in one trip to the request's kept thread (the middleware's own trip for the last piece was
one more hop, about 0.5 ms), and the answer is the bytes and headers Django's view sends
(tests/test_upload_answers.py compares them, for the 201 and for each error the service can
raise).

Only the plain case: a key (no cookie), plain HTTP to an allowed host, JSON accepted, a good
session id, a part named `file`, and text fields the view's serializer takes as they are
(`description`, `metadata`, `node_id`, `path`, each once, within their lengths, nothing its
CharField would trim). Anything else, a bad `metadata` included, goes to Django as before, which
answers its errors; no row has been written then, and the file is finished as before.
"""

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from rest_framework import serializers

from attachments import listing, services
from attachments.models import Attachment
from attachments.uploads.middleware import BodyParts
from attachments.uploads.staged import json_object_field
from config import gate_reads
from config.exceptions import exception_handler
from config.gate_reads import headers_of
from config.observability import route_of
from sessions_app import services as session_services
from sessions_app.errors import InvalidInput, error_body
from sessions_app.models import ApiKey
from sessions_app.principals import SCOPE_API_KEY, SCOPE_SESSION_PK, principal_for_key

logger = logging.getLogger(__name__)

UPLOAD_PREFIX = "/api/uploads/"
UPLOAD_ROUTE = "api/uploads/<str:session_id>"
# AttachmentUpload's text fields and their max_length (None: none).
TEXT_FIELDS: dict[str, int | None] = {
    "description": 10000,
    "metadata": None,
    "node_id": 255,
    "path": 1024,
}
# DRF's DateTimeField, which AttachmentUploadResponse writes `created_at` with.
_TIME = serializers.DateTimeField()
# config.views.server_error's JsonResponse (json.dumps' default separators).
SERVER_ERROR = json.dumps(error_body("Internal server error.")).encode()

Answer = tuple[int, bytes, tuple[tuple[bytes, bytes], ...]]


def upload_item(attachment: Attachment) -> dict[str, Any]:
    """AttachmentUploadResponse's data for `attachment` (a test compares the two)."""
    return {
        "attachment_id": attachment.attachment_id,
        "name": attachment.name,
        "mime": attachment.mime_type,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": _TIME.to_representation(attachment.created_at),
    }


def plain_fields(fields: list[tuple[str, str]]) -> dict[str, str] | None:
    """The text fields as the view's serializer would pass them, or None when it might do
    anything else with them (refuse, trim, make a list of a repeated one). The middleware
    decoded them as strict UTF-8, so none holds a lone surrogate."""
    values: dict[str, str] = {}
    for name, value in fields:
        if name not in TEXT_FIELDS or name in values:
            return None
        limit = TEXT_FIELDS[name]
        if value != value.strip() or "\x00" in value or (limit is not None and len(value) > limit):
            return None
        values[name] = value
    return values


def session_id_of(scope: dict[str, Any]) -> str | None:
    """The session id of a plain `POST /api/uploads/{sid}` the middleware may finish."""
    path = scope["path"]
    if scope["method"] != "POST" or not path.startswith(UPLOAD_PREFIX):
        return None
    if scope.get(SCOPE_API_KEY) is None:
        return None  # a browser's session: Django's authentication and CSRF
    if settings.DEBUG:
        return None  # a bug is Django's technical 500 then, not the JSON one
    if settings.USE_X_FORWARDED_HOST or settings.PREPEND_WWW or settings.DISALLOWED_USER_AGENTS:
        return None  # CommonMiddleware's redirect or 403, or a host Django reads elsewhere
    headers = headers_of(scope)
    # No Accept header is `*/*`; an empty one is DRF's 406, Django's to answer.
    if b"cookie" in headers or headers.get(b"accept", b"*/*") not in gate_reads.JSON_ACCEPTS:
        return None
    if scope.get("query_string") or not gate_reads.plain_http(scope, headers):
        return None
    if scope.get("root_path") or settings.FORCE_SCRIPT_NAME:
        return None  # Django routes the path without its script prefix
    session_id = gate_reads.upload_session_id(scope)
    return session_id if session_id is not None and route_of(path) == UPLOAD_ROUTE else None


def _error_answer(error: Exception) -> Answer:
    """What DRF's exception handler (config/exceptions.py) and Django answer for `error`."""
    response = exception_handler(error, {})
    if response is None:
        # Django's 500 path: logged with its traceback, and the JSON body of its handler500.
        logger.error("Internal Server Error: an upload", exc_info=error)
        return 500, SERVER_ERROR, ()
    extra = tuple(
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower() != "content-type"
    )
    return response.status_code, listing.render(response.data), extra


def _create(
    api_key: ApiKey,
    session_id: str,
    session_pk: int | None,
    parts: BodyParts,
    values: dict[str, str],
    metadata: dict[str, Any],
) -> Answer:
    """The file's last bytes written and synced (`parts.finish()`, whose storage errors are the
    middleware's 503), then SessionUploadsView.post's service call, in one trip to the
    request's kept thread. `session_pk`: the session the gate read with the key
    (config/loop_keys.KeyRead), which the write starts from."""
    upload = parts.finish()["file"]
    principal = principal_for_key(api_key)
    try:
        attachment = services.attachment_create(
            session_lookup=lambda: session_services.session_get_or_create_by_id(
                principal=principal, session_id=session_id
            ),
            session_pk=session_pk,
            staged=upload.blob,
            original_name=upload.file_name,
            description=values.get("description", ""),
            metadata=metadata,
            node_id=values.get("node_id", ""),
            path=values.get("path", ""),
        )
    except Exception as error:
        return _error_answer(error)
    return 201, listing.render(upload_item(attachment)), ()


async def finish_upload(scope: dict[str, Any], parts: BodyParts, send: Any) -> bool:
    """Answer the upload and return True, or return False (nothing done) for Django to."""
    session_id = session_id_of(scope)
    has_file = parts.file("file") is not None
    values = plain_fields(parts.fields) if session_id is not None and has_file else None
    if values is None or session_id is None:
        return False
    try:
        metadata = json_object_field(values.get("metadata"), loc=["body", "metadata"])
    except InvalidInput:
        return False  # the view answers it, after checking the other fields first
    status, body, extra = await database_sync_to_async(_create)(
        scope[SCOPE_API_KEY], session_id, scope.get(SCOPE_SESSION_PK), parts, values, metadata
    )
    headers = gate_reads.view_headers(len(body), extra)
    if status == 500:  # Django's own JsonResponse, not DRF's: no Vary, no Allow
        headers = [header for header in headers if header[0] not in (b"Vary", b"Allow")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return True
