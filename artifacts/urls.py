from django.urls import path

from artifacts.api import views

urlpatterns = [
    path(
        "sessions/<str:session_id>/artifacts/<str:artifact_id>",
        views.SessionItemView.as_view(),
        name="session-item",
    ),
    path("sessions/<str:session_id>/download", views.SessionZipView.as_view(), name="session-zip"),
]
