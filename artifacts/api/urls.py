"""Artifact routes: seed 000's by-id routes and zip, seed 001 (flat), seed 002 (a router for
the namespaced ViewSet) and signed downloads."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from artifacts.api import flat, namespaced, session_files, signed_downloads

# The router writes regular expressions: each slug is any one path segment, as <str:…> is.
NAMESPACE = r"v1/orgs/(?P<org>[^/]+)/workspaces/(?P<ws>[^/]+)/namespaces/(?P<ns>[^/]+)"

# The `upload` and `query` list actions come before the detail route, so they are never
# read as an artifact id.
router = SimpleRouter(trailing_slash=False)
router.register(f"{NAMESPACE}/artifacts", namespaced.NamespacedArtifactViewSet, basename="artifact")

urlpatterns = [
    # seed 000 routes that see attachments and artifacts
    path(
        "sessions/<str:session_id>/artifacts/<str:artifact_id>",
        session_files.SessionFileView.as_view(),
        name="session-file",
    ),
    path(
        "sessions/<str:session_id>/artifacts/<str:artifact_id>/stream",
        session_files.SessionFileStreamView.as_view(),
        name="session-file-stream",
    ),
    path(
        "sessions/<str:session_id>/download",
        session_files.SessionZipView.as_view(),
        name="session-zip",
    ),
    # seed 001
    path("artifacts", flat.FlatArtifactListView.as_view(), name="flat-artifacts"),
    path(
        "artifacts/<str:artifact_id>", flat.FlatArtifactDetailView.as_view(), name="flat-artifact"
    ),
    path(
        "artifacts/<str:artifact_id>/content",
        flat.FlatArtifactContentView.as_view(),
        name="flat-artifact-content",
    ),
    path(
        "artifacts/<str:artifact_id>/upload",
        flat.FlatArtifactUploadView.as_view(),
        name="flat-artifact-upload",
    ),
    path(
        "artifacts/<str:artifact_id>/file",
        flat.FlatArtifactFileView.as_view(),
        name="flat-artifact-file",
    ),
    # seed 002
    *router.urls,
    path(
        "v1/orgs/<str:org>/workspaces/<str:ws>/namespaces/<str:ns>"
        "/threads/<str:thread_id>/artifacts",
        namespaced.ThreadArtifactListView.as_view(),
        name="thread-artifacts",
    ),
    path(
        "signed/<str:token>", signed_downloads.SignedDownloadView.as_view(), name="signed-download"
    ),
]
