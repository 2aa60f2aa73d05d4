"""WhiteNoise, made async-capable.

WhiteNoiseMiddleware is sync-only, and one sync-only middleware makes Django run the whole
chain in a worker thread, which an async view (the long-poll) then blocks for as long as it
waits: 1,000 waiting polls held 1,000 threads. This subclass answers on the event loop for
everything that is not a static file (a dict lookup decides) and so keeps the chain async."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware


class AsyncWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], Any], *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(get_response, *args, **kwargs)
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if not self.is_async:
            return super().__call__(request)
        return self._acall(request)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
