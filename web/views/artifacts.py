"""An artifact's page (versions, preview, diff, lineage), its files, and the namespace search."""

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from artifacts import selectors as artifact_selectors
from artifacts.search import artifact_search
from artifacts.version_bytes import artifact_file, download_name
from attachments.downloads import file_response
from sessions_app import selectors as session_selectors
from sessions_app.errors import NotFound
from sessions_app.principals import Principal
from web.previews import DiffLine, diff_versions, is_text, preview
from web.security import page

SEARCH_LIMIT = 20
QUERY_MAX = 1000


def _version_number(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 9:
        raise NotFound("No such version.")
    return int(value)


@require_GET
@page
def artifact_detail(request: HttpRequest, principal: Principal, artifact_id: str) -> HttpResponse:
    scope = artifact_selectors.artifact_scope(principal=principal)
    shown = artifact_selectors.artifact_get(
        scope=scope, artifact_id=artifact_id, version=_version_number(request.GET.get("version"))
    )
    versions = list(artifact_selectors.artifact_versions(artifact=shown))
    lineage = artifact_selectors.artifact_lineage(artifact=shown)
    text_versions = [v for v in versions if is_text(v)]
    diff: list[DiffLine] = []
    diff_note, old, new = "", None, None
    if len(text_versions) >= 2:
        by_number = {v.version: v for v in text_versions}
        old = by_number.get(_version_number(request.GET.get("from")) or -1, text_versions[1])
        new = by_number.get(_version_number(request.GET.get("to")) or -1, text_versions[0])
        diff, diff_note = diff_versions(old, new)
    context = {
        "artifact": shown,
        "root_id": shown.root.artifact_id if shown.root else shown.artifact_id,
        "file_name": download_name(shown),
        "versions": versions,
        "preview": preview(shown),
        "text_versions": text_versions,
        "diff": diff,
        "diff_note": diff_note,
        "diff_from": old,
        "diff_to": new,
        "ancestors": lineage["ancestors"],
        "descendants": lineage["descendants"],
    }
    return render(request, "web/artifact_detail.html", context)


@require_GET
@page
def artifact_file_view(
    request: HttpRequest, principal: Principal, artifact_id: str
) -> HttpResponseBase:
    """One version's bytes, by the API's download rules (attachments.downloads): only harmless
    types inline (for image previews), everything active as a sandboxed attachment."""
    scope = artifact_selectors.artifact_scope(principal=principal)
    version = artifact_selectors.artifact_get(
        scope=scope, artifact_id=artifact_id, version=_version_number(request.GET.get("version"))
    )
    download = request.GET.get("download", "true") != "false"
    return file_response(request, artifact_file(version), download=download)


@require_GET
@page
def search(request: HttpRequest, principal: Principal) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:QUERY_MAX]
    chosen = request.GET.get("ns", "")
    workspace, _, slug = chosen.partition("/")
    if workspace and slug:
        namespace = session_selectors.namespace_get(
            principal=principal, workspace=workspace, namespace=slug
        )
    else:
        namespace = principal.default_namespace
    result = None
    if query:
        result = artifact_search(namespace=namespace, query=query, limit=SEARCH_LIMIT)
    context = {
        "query": query,
        "namespace": f"{namespace.workspace.slug}/{namespace.slug}",
        "result": result,
    }
    return render(request, "web/search.html", context)
