from typing import Any, cast

from channels.auth import AuthMiddlewareStack
from django.urls import re_path

from sessions_app.consumers import LongPollConsumer, SessionEventsConsumer
from sessions_app.ws_auth import CLOSE_NOT_FOUND, WebsocketRefusal

websocket_urlpatterns = [
    # Any segment reaches the consumer, which closes with 4422 on a malformed id.
    re_path(r"^ws/sessions/(?P<session_id>[^/]+)/?$", SessionEventsConsumer.as_asgi()),
    # Any other path: accepted and closed with 4404, rather than URLRouter's "No route found"
    # exception (a 500 with a traceback in the server's log).
    # (Channels' URLRouter takes ASGI apps; Django's re_path stub types only views.)
    re_path(r"", cast(Any, WebsocketRefusal(CLOSE_NOT_FOUND))),
]

# HTTP long-polls served before Django (see LongPollConsumer); the session cookie is read by
# Channels' auth stack, API keys by the consumer.
long_poll_urlpatterns = [
    re_path(
        r"^api/sessions/(?P<session_id>[^/]+)/artifact-events$",
        AuthMiddlewareStack(LongPollConsumer.as_asgi()),
    ),
    re_path(
        r"^api/v1/orgs/(?P<org>[^/]+)/workspaces/(?P<ws>[^/]+)/namespaces/(?P<ns>[^/]+)/events$",
        AuthMiddlewareStack(LongPollConsumer.as_asgi()),
    ),
]
