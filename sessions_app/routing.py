from channels.auth import AuthMiddlewareStack
from django.urls import re_path

from sessions_app.consumers import LongPollConsumer, SessionEventsConsumer

websocket_urlpatterns = [
    # Any segment reaches the consumer, which closes with 4422 on a malformed id.
    re_path(r"^ws/sessions/(?P<session_id>[^/]+)/?$", SessionEventsConsumer.as_asgi()),
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
