from django.urls import path

from artifacts.tus import views

urlpatterns = [
    path("tus/", views.TusCollectionView.as_view(), name="tus-collection"),
    path("tus/<str:upload_id>", views.TusUploadView.as_view(), name="tus-upload"),
]
