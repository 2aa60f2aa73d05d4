from rest_framework.routers import SimpleRouter

from sessions_app.api.views import SessionViewSet

router = SimpleRouter(trailing_slash=False)
router.register("sessions", SessionViewSet, basename="session")

urlpatterns = router.urls
