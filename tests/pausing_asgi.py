"""Depot's ASGI application with a pause between a response's headers and its body, for the
real-server race test in tests/test_download_races.py (never used outside tests).

A request with the header `X-Test-Pause: 1` has its headers sent as usual; then the server
waits, without blocking its event loop, until the file named by DEPOT_TEST_RELEASE_FILE
exists before Django may produce the first byte of the body. That stands for a slow disk or a
busy server, and gives the test a window in which to delete the file being downloaded."""

import asyncio
import os
from pathlib import Path
from typing import Any

from config.asgi import application as depot

RELEASE_FILE = Path(os.environ.get("DEPOT_TEST_RELEASE_FILE", "/nonexistent/release"))
MAX_PAUSE_SECONDS = 20.0  # a test that never releases must not hang the server for ever


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http" or (b"x-test-pause", b"1") not in scope.get("headers", []):
        await depot(scope, receive, send)
        return

    async def send_then_pause(message: dict[str, Any]) -> None:
        await send(message)
        if message["type"] == "http.response.start":
            deadline = asyncio.get_running_loop().time() + MAX_PAUSE_SECONDS
            while not RELEASE_FILE.exists() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)

    await depot(scope, receive, send_then_pause)
