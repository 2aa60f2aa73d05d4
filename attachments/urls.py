from django.urls import path

from attachments.api import views

urlpatterns = [
    path("uploads/<str:session_id>", views.SessionUploadsView.as_view(), name="uploads"),
    path(
        "uploads/<str:session_id>/<str:attachment_id>",
        views.SessionUploadDetailView.as_view(),
        name="upload-detail",
    ),
    path(
        "v2/apps/<str:appId>/environments/<str:envName>/attachments/upload",
        views.AppUploadView.as_view(),
        name="app-upload",
    ),
    path(
        "v2/apps/<str:appId>/environments/<str:envName>/attachments/<str:fileId>",
        views.AppAttachmentDetailView.as_view(),
        name="app-attachment",
    ),
]
