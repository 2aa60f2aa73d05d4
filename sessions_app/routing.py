from django.urls import re_path

from sessions_app.consumers import SessionEventsConsumer

websocket_urlpatterns = [
    re_path(
        r"^ws/sessions/(?P<session_id>[A-Za-z0-9_-]{1,128})/?$", SessionEventsConsumer.as_asgi()
    ),
]
