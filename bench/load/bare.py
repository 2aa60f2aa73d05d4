"""The baseline server: a bare ASGI callable answering every request 200 `{}`, served by the
same uvicorn command as Depot (same `--http` protocol), so the ratio Depot/bare is what Depot
itself costs on top of uvicorn, the client and the loopback."""

from typing import Any

BODY = b"{}"
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"2")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":  # served with --lifespan on, as Depot is
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "http":
        return
    # Read the body as Depot would (uploads send up to 64 KiB), so a write costs its transfer.
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more_body = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
