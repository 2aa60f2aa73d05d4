"""uvicorn's httptools protocol with two bounds it lacks: the size of a request head and the
time a client may take to send it.

httptools buffers a header line whole before it hands it over, so without a bound one client
could make the server hold a 50 MiB header (seen: +90 MiB RSS), and a client trickling a byte
every few seconds keeps a connection forever (uvicorn's keep-alive timer stops at the first
byte). Neither can be checked in ASGI: the scope exists only once the head is complete.
Served with `uvicorn --http config.http_protocol:BoundedHttpToolsProtocol` (`make run`, the
Dockerfile and the benchmarks do); behind a proxy, set the proxy's own limits as well (README,
"Deployment").
"""

import asyncio
import json

from django.conf import settings
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from sessions_app.errors import error_body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._max_head_bytes: int = settings.DEPOT_MAX_HEADER_BYTES
        self._head_timeout: float = settings.DEPOT_HEADER_TIMEOUT_SECONDS
        self._head_bytes = 0
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None and self._head_timeout > 0:
                self._head_timer = self.loop.call_later(
                    self._head_timeout, self._refuse, 408, "Request Timeout"
                )
        super().data_received(data)
        # Counted a chunk at a time: httptools holds at most one chunk past the limit.
        if self._in_head and self._head_bytes > self._max_head_bytes:
            self._refuse(431, "Request Header Fields Too Large")

    def on_headers_complete(self) -> None:
        self._end_of_head()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # A pipelined or kept-alive request's head starts after this one's body.
        self._in_head = True
        self._head_bytes = 0

    def connection_lost(self, exc: Exception | None) -> None:
        self._end_of_head()
        super().connection_lost(exc)

    def _end_of_head(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, reason: str) -> None:
        self._end_of_head()
        if self.transport.is_closing():
            return
        detail = (
            f"Request head is larger than the limit of {self._max_head_bytes} bytes."
            if status == 431
            else "The request head did not arrive in time."
        )
        body = json.dumps(error_body(detail)).encode()
        self.transport.write(
            b"".join(
                [
                    f"HTTP/1.1 {status} {reason}\r\n".encode(),
                    b"content-type: application/json\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()
