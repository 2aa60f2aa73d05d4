from django.urls import re_path

from sessions_app.consumers import SessionEventsConsumer

websocket_urlpatterns = [
    # Any segment reaches the consumer, which closes with 4422 on a malformed id.
    re_path(r"^ws/sessions/(?P<session_id>[^/]+)/?$", SessionEventsConsumer.as_asgi()),
]
