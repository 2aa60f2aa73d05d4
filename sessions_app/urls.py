from django.urls import path
from rest_framework.routers import SimpleRouter

from sessions_app.api.event_views import namespace_events, session_events
from sessions_app.api.usage import UsageView
from sessions_app.api.views import SessionViewSet

router = SimpleRouter(trailing_slash=False)
router.register("sessions", SessionViewSet, basename="session")

urlpatterns = [
    path("usage", UsageView.as_view(), name="usage"),
    path("sessions/<str:session_id>/artifact-events", session_events, name="session-events"),
    path(
        "v1/orgs/<str:org>/workspaces/<str:ws>/namespaces/<str:ns>/events",
        namespace_events,
        name="namespace-events",
    ),
    *router.urls,
]
