"""The tus server as an ASGI app: the request gate (config/request_gate.py) hands it every
request under `/api/tus/` once the caller is authenticated, with no body cap of its own (the
upload bounds its bytes itself: its declared length, the upload limit, the quota).

Each request runs in one worker thread; a PATCH's body is pulled from the event loop chunk by
chunk as the thread writes it, so memory holds one chunk and a slow writer slows the client
(back-pressure) instead of piling bytes up."""

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http.request import split_domain_port, validate_host

from artifacts.tus import core, protocol
from artifacts.tus.protocol import Answer, TusError
from artifacts.tus.targets import depot_error
from artifacts.tus.writing import ClientGone
from attachments import storage
from sessions_app.errors import DepotError
from sessions_app.principals import SCOPE_API_KEY, principal_for_key

logger = logging.getLogger(__name__)
REASONS = {460: b"Checksum Mismatch"}
# A PATCH body reaches the writer in pieces of about this size (two at most in memory).
BATCH = 1024 * 1024


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for name, value in scope["headers"]:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        joined[key] = f"{joined[key]}, {text}" if key in joined else text
    return joined


def _allowed_host(host: str) -> bool:
    """Django's ALLOWED_HOSTS check (HttpRequest.get_host), for a request Django never sees."""
    domain, _ = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _has_body(headers: dict[str, str]) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0").strip() not in (
        "",
        "0",
    )


class TusApp:
    prefix = protocol.PREFIX

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = _headers(scope)
        if not _allowed_host(headers.get("host", "")):
            # What every Django route answers for a Host Depot does not serve.
            error = TusError(400, "Invalid HTTP_HOST header.")
            await _send(send, protocol.error_answer(error), scope["method"], close=True)
            return
        method = headers.get("x-http-method-override", scope["method"]).upper()
        rest = scope["path"][len(protocol.PREFIX) :].strip("/")
        loop = asyncio.get_running_loop()

        async def gather() -> tuple[bytes, str]:
            """About BATCH bytes of the body, read on the loop, and what follows them: "more",
            "end", or "gone" (the client went away; the bytes that came still count)."""
            pieces: list[bytes] = []
            size = 0
            while size < BATCH:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return b"".join(pieces), "gone"
                if chunk := message.get("body", b""):
                    pieces.append(chunk)
                    size += len(chunk)
                if not message.get("more_body", False):
                    return b"".join(pieces), "end"
            return b"".join(pieces), "more"

        def body() -> Iterator[bytes]:
            # The next batch is received while the worker thread writes this one.
            pending = asyncio.run_coroutine_threadsafe(gather(), loop)
            try:
                while True:
                    chunk, then = pending.result()
                    if then == "more":
                        pending = asyncio.run_coroutine_threadsafe(gather(), loop)
                    if chunk:
                        yield chunk
                    if then == "gone":
                        raise ClientGone()
                    if then == "end":
                        return
            finally:
                pending.cancel()  # a refused body: stop reading it

        api_key = scope.get(SCOPE_API_KEY)
        if method == "OPTIONS":
            await _send(send, core.options(), method)
            return
        if api_key is None:
            error = TusError(401, "An API key is required (X-API-Key or Bearer).")
            await _send(send, protocol.error_answer(error), method, close=True)
            return
        principal = principal_for_key(api_key)
        base_url = f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}"
        handler: Callable[[], Answer]
        if not rest and method == "POST":
            stream = body() if _has_body(headers) else None
            handler = lambda: core.create(principal, headers, stream, base_url)  # noqa: E731
        elif protocol.is_upload_id(rest) and method == "HEAD":
            handler = lambda: core.head(principal, rest, headers)  # noqa: E731
        elif protocol.is_upload_id(rest) and method == "PATCH":
            handler = lambda: core.patch(principal, rest, headers, body())  # noqa: E731
        elif protocol.is_upload_id(rest) and method == "DELETE":
            handler = lambda: core.terminate(principal, rest, headers)  # noqa: E731
        elif rest and not protocol.is_upload_id(rest):
            not_found = TusError(404, "Upload not found.")
            await _send(send, protocol.error_answer(not_found), method, close=True)
            return
        else:
            error = TusError(405, f"{method} is not allowed here.")
            await _send(send, protocol.error_answer(error), method, close=True)
            return
        try:
            answer = await asyncio.to_thread(_run, handler)
        except ClientGone:
            return  # nobody to answer
        await _send(send, answer, method, close=answer.status >= 400)


def _run(handler: Callable[[], Answer]) -> Answer:
    try:
        return handler()
    except TusError as error:
        return protocol.error_answer(error)
    except DepotError as error:
        return protocol.error_answer(depot_error(error))
    except storage.STORAGE_ERRORS as error:
        logger.warning("storage failed during a tus request: %s", error)
        unavailable = TusError(503, "Storage is unavailable; retry later.", {"Retry-After": "5"})
        return protocol.error_answer(unavailable)
    except DatabaseError as error:
        logger.warning("database failed during a tus request: %s", error)
        return protocol.error_answer(TusError(503, "The database is unavailable; retry later."))
    finally:
        connections.close_all()  # this worker thread's connections only


async def _send(send: Any, answer: Answer, method: str, *, close: bool = False) -> None:
    payload = b"" if answer.body is None else json.dumps(answer.body).encode()
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers.items()
    ]
    if payload:
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(payload)).encode()))
    headers.append((b"x-content-type-options", b"nosniff"))
    if close:
        headers.append((b"connection", b"close"))
    start: dict[str, Any] = {"type": "http.response.start", "status": answer.status}
    start["headers"] = headers
    if answer.status in REASONS:
        start["reason"] = REASONS[answer.status]
    await send(start)
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else payload})
