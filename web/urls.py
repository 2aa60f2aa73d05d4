"""The pages' routes, included at the site root by config/urls.py."""

from django.urls import path, re_path

from web.views import accounts, artifacts, sessions

app_name = "web"

urlpatterns = [
    path("", sessions.session_list, name="sessions"),
    path("login/", accounts.login, name="login"),
    path("logout/", accounts.logout, name="logout"),
    path("search/", artifacts.search, name="search"),
    # Any text up to the slash: a malformed id reaches the selector's own check (a 404 here).
    re_path(r"^sessions/(?P<session_id>[^/]+)/$", sessions.session_detail, name="session"),
    re_path(
        r"^sessions/(?P<session_id>[^/]+)/complete$",
        sessions.session_complete,
        name="session-complete",
    ),
    re_path(
        r"^sessions/(?P<session_id>[^/]+)/artifact-rows$",
        sessions.session_artifact_rows,
        name="session-artifact-rows",
    ),
    re_path(r"^artifacts/(?P<artifact_id>[^/]+)/$", artifacts.artifact_detail, name="artifact"),
    re_path(
        r"^artifacts/(?P<artifact_id>[^/]+)/file$",
        artifacts.artifact_file_view,
        name="artifact-file",
    ),
]
