from django.urls import path

from artifacts.api import views

NAMESPACE = "v1/orgs/<str:org>/workspaces/<str:ws>/namespaces/<str:ns>"

urlpatterns = [
    # seed 000 routes that see attachments and artifacts
    path(
        "sessions/<str:session_id>/artifacts/<str:artifact_id>",
        views.SessionItemView.as_view(),
        name="session-item",
    ),
    path("sessions/<str:session_id>/download", views.SessionZipView.as_view(), name="session-zip"),
    # seed 001
    path("artifacts", views.FlatArtifactsView.as_view(), name="flat-artifacts"),
    path(
        "artifacts/<str:artifact_id>", views.FlatArtifactDetailView.as_view(), name="flat-artifact"
    ),
    path(
        "artifacts/<str:artifact_id>/content",
        views.FlatArtifactContentView.as_view(),
        name="flat-artifact-content",
    ),
    path(
        "artifacts/<str:artifact_id>/upload",
        views.FlatArtifactUploadView.as_view(),
        name="flat-artifact-upload",
    ),
    path(
        "artifacts/<str:artifact_id>/file",
        views.FlatArtifactFileView.as_view(),
        name="flat-artifact-file",
    ),
    # seed 002
    path(f"{NAMESPACE}/artifacts", views.NamespaceArtifactsView.as_view(), name="artifacts"),
    path(
        f"{NAMESPACE}/artifacts/upload",
        views.NamespaceArtifactUploadView.as_view(),
        name="artifacts-upload",
    ),
    path(
        f"{NAMESPACE}/artifacts/query",
        views.NamespaceArtifactQueryView.as_view(),
        name="artifacts-query",
    ),
    path(
        f"{NAMESPACE}/artifacts/<str:artifact_id>",
        views.NamespaceArtifactDetailView.as_view(),
        name="artifact",
    ),
    path(
        f"{NAMESPACE}/artifacts/<str:artifact_id>/versions",
        views.NamespaceArtifactVersionsView.as_view(),
        name="artifact-versions",
    ),
    path(
        f"{NAMESPACE}/artifacts/<str:artifact_id>/download",
        views.NamespaceArtifactDownloadView.as_view(),
        name="artifact-download",
    ),
    path(
        f"{NAMESPACE}/artifacts/<str:artifact_id>/promote",
        views.NamespaceArtifactPromoteView.as_view(),
        name="artifact-promote",
    ),
    path(
        f"{NAMESPACE}/threads/<str:thread_id>/artifacts",
        views.ThreadArtifactsView.as_view(),
        name="thread-artifacts",
    ),
    path("signed/<str:token>", views.SignedDownloadView.as_view(), name="signed-download"),
]
