"""WebSocket consumers. The events issue adds the replay-and-push loop to this consumer."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Close codes in the application range (4000–4999), mirroring HTTP statuses.
CLOSE_UNAUTHENTICATED = 4401


class SessionEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        if self.scope.get("principal") is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.session_id: str = self.scope["url_route"]["kwargs"]["session_id"]
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
