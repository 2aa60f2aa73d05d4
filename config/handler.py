"""Django's ASGI handler with the middleware chain run in one thread hop.

Django's own ASGI handler runs the middleware chain in async mode. Every middleware Depot uses
is a sync `MiddlewareMixin`, which in async mode moves each `process_request` and
`process_response` to the request's thread and back: fourteen thread hops around a sync view,
about 1.5 ms of a `/healthz` here (issue 11). This handler loads the chain in sync mode and
runs all of it, view included, in one `sync_to_async` call on the request's thread (one of
config/threads.py's kept threads); receiving the body, the request signals and sending the
response (streamed from async iterators as before) stay async. An async view still runs on the
event loop, reached from the thread through `async_to_sync`, as under WSGI.
"""

from typing import Any

import django
from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class OneHopASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


def depot_asgi_application() -> Any:
    """What `django.core.asgi.get_asgi_application` does, with the one-hop handler."""
    django.setup(set_prefix=False)
    return OneHopASGIHandler()
