from django.urls import path

from artifacts.tus import direct_views, views

urlpatterns = [
    path("tus/", views.TusCollectionView.as_view(), name="tus-collection"),
    path("tus/<str:upload_id>", views.TusUploadView.as_view(), name="tus-upload"),
    path("direct-uploads", direct_views.DirectUploadsView.as_view(), name="direct-uploads"),
    path(
        "direct-uploads/<str:upload_id>/complete",
        direct_views.DirectUploadCompleteView.as_view(),
        name="direct-upload-complete",
    ),
    path(
        "direct-uploads/<str:upload_id>",
        direct_views.DirectUploadView.as_view(),
        name="direct-upload",
    ),
]
