"""`Idempotency-Key` on every POST under /api/ (creates, uploads, actions), with Stripe's
semantics, applied by the request gate once the caller is authenticated and within its rate.

- The first request with a key claims it and runs. Its answer is kept for
  DEPOT_IDEMPOTENCY_SECONDS (24 h) when the endpoint ran to a result (2xx, or a 404/409/410
  it decided); an answer that refused the request before it ran (400, 413, 415, 422…) or
  failed (5xx) frees the key, so a corrected request may use it again.
- A replay (same caller, same key, same request) gets the kept answer again, byte for byte,
  with `Idempotent-Replayed: true`; nothing runs, nothing new is made.
- The same key with a different request (method, path, query, or body) is a 422.
- A request whose key is still being answered is a 409 at once, before its body is read.

"The same request" is decided by a SHA-256 over the method, path, query, content type and
body, streamed as the body passes (nothing is held). A multipart body's boundary is random per
attempt in most clients, so it is hashed as a fixed token. Keys are per caller (API key or
user), so two tenants' keys never meet. Claims and answers live in Django's cache: Redis in
production, shared by every Depot process.
"""

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from sessions_app.errors import InvalidInput, error_body

logger = logging.getLogger(__name__)
HEADER = b"idempotency-key"
MAX_KEY_LENGTH = 255
# Answers kept for replay: JSON documents, never file bodies (POSTs return none).
MAX_KEPT_BODY = 256 * 1024
# A claim outlives a crashed request only this long.
CLAIM_SECONDS = 3600
NOT_KEPT = {400, 401, 403, 405, 408, 411, 413, 415, 422, 429}
SKIPPED_HEADERS = {
    b"connection",
    b"date",
    b"server",
    b"retry-after",
    b"ratelimit-limit",
    b"ratelimit-remaining",
    b"ratelimit-reset",
}


def valid_key(value: bytes) -> bool:
    return 0 < len(value) <= MAX_KEY_LENGTH and all(0x21 <= byte <= 0x7E for byte in value)


class BodyHasher:
    """SHA-256 of a streamed body, with every occurrence of `boundary` (multipart) replaced by
    a fixed token, across chunk edges."""

    TOKEN = b"\x00boundary\x00"

    def __init__(self, boundary: bytes | None) -> None:
        self.digest = hashlib.sha256()
        self.boundary = boundary
        self.carry = b""
        self.complete = False

    def update(self, chunk: bytes) -> None:
        if not self.boundary:
            self.digest.update(chunk)
            return
        buffer = self.carry + chunk
        while (found := buffer.find(self.boundary)) != -1:
            self.digest.update(buffer[:found])
            self.digest.update(self.TOKEN)
            buffer = buffer[found + len(self.boundary) :]
        # The last bytes may be the start of a boundary that the next chunk completes.
        keep = len(self.boundary) - 1
        if len(buffer) > keep:
            self.digest.update(buffer[: len(buffer) - keep])
            buffer = buffer[len(buffer) - keep :]
        self.carry = buffer

    def finish(self) -> str:
        self.digest.update(self.carry)
        self.carry = b""
        return self.digest.hexdigest()


def _fingerprint_head(scope: dict[str, Any], content_type: bytes) -> bytes:
    base = content_type.split(b";", 1)[0].strip().lower()
    return b"\n".join(
        [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), base]
    )


@dataclass
class Recorder:
    """Wraps `receive` to hash the body and `send` to keep the answer."""

    receive_inner: Any
    send_inner: Any
    hasher: BodyHasher
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    too_big: bool = False

    async def receive(self) -> dict[str, Any]:
        message = await self.receive_inner()
        if message["type"] == "http.request":
            self.hasher.update(message.get("body", b""))
            if not message.get("more_body", False):
                self.hasher.complete = True
        return message

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = [
                (name, value)
                for name, value in message.get("headers", [])
                if name.lower() not in SKIPPED_HEADERS
            ]
        elif message["type"] == "http.response.body" and not self.too_big:
            self.body.extend(message.get("body", b""))
            if len(self.body) > MAX_KEPT_BODY:
                self.too_big = True
                self.body.clear()
        await self.send_inner(message)


def _cache_key(caller: str, key: bytes) -> str:
    # Hashed: a key may hold characters a cache backend refuses (memcached: spaces, length).
    return "depot:idempotency:" + hashlib.sha256(caller.encode() + b"\n" + key).hexdigest()


async def _drain(receive: Any, hasher: BodyHasher, cap: int) -> bool:
    """Read (and discard) the rest of the body into `hasher`; False past `cap` or on a
    disconnect."""
    received = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > cap:
            return False
        hasher.update(chunk)
        if not message.get("more_body", False):
            return True


async def idempotent(
    app: Any,
    scope: dict[str, Any],
    receive: Any,
    send: Any,
    *,
    caller: str,
    key: bytes,
    headers: dict[bytes, bytes],
    body_cap: int,
    send_json: Any,
) -> None:
    """Run `app` for this request at most once per (caller, key)."""
    from python_multipart.multipart import parse_options_header

    _, options = parse_options_header(headers.get(b"content-type", b""))
    boundary = b"--" + options[b"boundary"] if options.get(b"boundary") else None
    head = _fingerprint_head(scope, headers.get(b"content-type", b""))
    cache_key = _cache_key(caller, key)
    hasher = BodyHasher(boundary)
    hasher.digest.update(head + b"\n\n")

    try:
        kept = await cache.aget(cache_key)
    except Exception as error:
        # Without the cache (Redis in production) a repeat could not be recognised: refuse
        # rather than risk running the request twice.
        logger.warning("Idempotency-Key refused, the cache failed: %s", type(error).__name__)
        await send_json(send, 503, error_body(CACHE_DOWN), ((b"retry-after", b"5"),))
        return
    if kept is not None:
        if kept["state"] == "running":
            await send_json(send, 409, error_body(IN_PROGRESS))
            return
        if not await _drain(receive, hasher, body_cap):
            await send_json(send, 413, error_body("Request body is too large."))
            return
        if hasher.finish() != kept["fingerprint"]:
            await send_json(send, 422, error_body(_header_problem(MISMATCH, "key_reused")))
            return
        await _replay(send, kept)
        return

    if not await cache.aadd(cache_key, {"state": "running"}, timeout=CLAIM_SECONDS):
        await send_json(send, 409, error_body(IN_PROGRESS))
        return
    recorder = Recorder(receive, send, hasher)
    try:
        await app(scope, recorder.receive, recorder.send)
    finally:
        keep = (
            hasher.complete
            and not recorder.too_big
            and recorder.status
            and recorder.status < 500
            and recorder.status not in NOT_KEPT
        )
        if keep:
            await cache.aset(
                cache_key,
                {
                    "state": "done",
                    "fingerprint": hasher.finish(),
                    "status": recorder.status,
                    "headers": [
                        [n.decode("latin-1"), v.decode("latin-1")] for n, v in recorder.headers
                    ],
                    "body": bytes(recorder.body),
                },
                timeout=settings.DEPOT_IDEMPOTENCY_SECONDS,
            )
        else:
            await cache.adelete(cache_key)


CACHE_DOWN = "Idempotency-Key cannot be honoured now (its store is unavailable); retry later."
IN_PROGRESS = "A request with this Idempotency-Key is still being answered; retry later."
MISMATCH = "This Idempotency-Key was already used with a different request."


async def _replay(send: Any, kept: dict[str, Any]) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in kept["headers"]]
    headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
    await send(
        {
            "type": "http.response.start",
            "status": kept["status"],
            "headers": [
                *headers,
                (b"content-length", str(len(kept["body"])).encode()),
                (b"idempotent-replayed", b"true"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": kept["body"]})


def _header_problem(msg: str, type_: str) -> InvalidInput:
    """A 422 (product.md §2.5) located in the header."""
    return InvalidInput.single(["header", "Idempotency-Key"], msg, type_)


BAD_KEY = error_body(
    _header_problem(
        f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
        "string_pattern_mismatch",
    )
)
