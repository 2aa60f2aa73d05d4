"""An MCP opening is counted against its key's share only until its answer starts: by then a
session it opened is in the SDK manager's owner table, and counting both made a client that
opens sessions one after another meet its cap one early while the previous handler finished
(tests/test_hostile_new_surfaces.py saw [200, 200, 429] for a cap of 3)."""

import asyncio
from types import SimpleNamespace
from typing import Any

from django.test import override_settings

from agents_mcp.server import McpApplication
from sessions_app.principals import SCOPE_API_KEY


class _Manager:
    """The SDK manager's part McpApplication uses: an opening registers its owner, answers,
    then lingers (the transport's own end) until `done` is set."""

    def __init__(self) -> None:
        self._session_owners: dict[str, dict[str, Any]] = {}
        self.done = asyncio.Event()
        self.counted_while_lingering: list[int] = []

    async def handle_request(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client_id = scope["user"].access_token.client_id
        self._session_owners[f"s{len(self._session_owners)}"] = {"client_id": client_id}
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
        await self.done.wait()


def test_an_answered_opening_is_counted_once_while_its_handler_ends() -> None:
    async def scenario() -> list[int]:
        app = McpApplication()
        manager = _Manager()
        app.manager = manager  # type: ignore[assignment]

        async def started() -> None:
            return None

        app._started = started  # type: ignore[method-assign]
        key = SimpleNamespace(pk=7, prefix="p7", read_only=False)
        scope = {"type": "http", "method": "POST", "headers": [], SCOPE_API_KEY: key}
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "http.disconnect"}

        with override_settings(DEPOT_MCP_MAX_SESSIONS_PER_KEY=2):
            first = asyncio.create_task(app(scope, receive, send))
            while len(sent) < 2:  # answered, its handler still running
                await asyncio.sleep(0)
            counts = [app._open_sessions("key:7")]
            second = asyncio.create_task(app(scope, receive, send))
            while len(sent) < 4:
                await asyncio.sleep(0)
            counts.append(app._open_sessions("key:7"))
            manager.done.set()
            await asyncio.gather(first, second)
            counts.append(app._open_sessions("key:7"))
        assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [200, 200]
        return counts

    assert asyncio.run(scenario()) == [1, 2, 2]
