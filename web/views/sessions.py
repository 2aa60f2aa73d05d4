"""The sessions list and a session's page (and its one form: complete)."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from artifacts import selectors as artifact_selectors
from artifacts.models import Artifact
from attachments import selectors as attachment_selectors
from attachments.models import Attachment
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.models import Namespace, SessionStatus
from sessions_app.principals import Principal
from web.security import page, require_writer

PAGE_SIZE = 25
LIST_LIMIT = 500  # rows per list on a session's page; the zip and the API have them all
SEARCH_MAX = 128


def _counts(model: type[Attachment] | type[Artifact], ids: list[int], **extra: object) -> dict:
    rows = model.objects.filter(session_id__in=ids, **extra).values("session_id")
    return {row["session_id"]: row["n"] for row in rows.annotate(n=Count("id"))}


@require_GET
@page
def session_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    status = request.GET.get("status", "")
    status = status if status in SessionStatus.values else ""
    workflow = request.GET.get("workflow", "").strip()[:255]
    sessions = session_selectors.session_list(
        principal=principal, filters={"status": status, "workflow_id": workflow}
    )
    if query:
        sessions = sessions.filter(Q(session_id__icontains=query) | Q(reference__icontains=query))
    paginator = Paginator(sessions, PAGE_SIZE)
    page_obj = paginator.get_page(request.GET.get("page"))
    rows = list(page_obj.object_list)
    ids = [session.pk for session in rows]
    files = _counts(Attachment, ids)
    artifacts = _counts(Artifact, ids, is_latest=True)
    workflows = (
        session_selectors.session_list(principal=principal)
        .exclude(workflow_id="")
        .order_by("workflow_id")
        .values_list("workflow_id", flat=True)
        .distinct()[:100]
    )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "rows": [(s, files.get(s.pk, 0), artifacts.get(s.pk, 0)) for s in rows],
        "page_obj": page_obj,
        "query": query,
        "status": status,
        "workflow": workflow,
        "statuses": SessionStatus.choices,
        "workflows": list(workflows),
        "filter_query": params.urlencode(),
        "namespaces": _namespaces(principal),
    }
    return render(request, "web/session_list.html", context)


def _namespaces(principal: Principal) -> list[str]:
    namespaces = Namespace.objects.filter(
        workspace__organization_id=principal.organization_id
    ).select_related("workspace")
    if principal.workspace_limit_id is not None:
        namespaces = namespaces.filter(workspace_id=principal.workspace_limit_id)
    return [f"{n.workspace.slug}/{n.slug}" for n in namespaces.order_by("workspace__slug", "slug")]


@require_GET
@page
def session_detail(request: HttpRequest, principal: Principal, session_id: str) -> HttpResponse:
    session = session_selectors.session_get(principal=principal, session_id=session_id)
    attachments = attachment_selectors.attachment_list(session=session)[:LIST_LIMIT]
    artifacts = artifact_selectors.artifact_list(
        namespace=session.namespace, session_id=session.pk
    )[:LIST_LIMIT]
    context = {
        "session": session,
        "attachments": attachments,
        "artifacts": artifacts,
        "can_write": not principal.read_only,
        "is_active": session.status == SessionStatus.ACTIVE,
    }
    return render(request, "web/session_detail.html", context)


@require_POST
@page
def session_complete(request: HttpRequest, principal: Principal, session_id: str) -> HttpResponse:
    session = session_selectors.session_get(principal=principal, session_id=session_id)
    require_writer(principal)
    status = SessionStatus.FAILED if request.POST.get("status") == "failed" else None
    session_services.session_complete(session=session, **({"status": status} if status else {}))
    return redirect("web:session", session_id=session.session_id)


@require_GET
@page
def session_artifact_rows(
    request: HttpRequest, principal: Principal, session_id: str
) -> HttpResponse:
    """The artifact table's rows alone: the live page reloads them when an artifact event
    arrives, so versions and links come from the server as on first load."""
    session = session_selectors.session_get(principal=principal, session_id=session_id)
    artifacts = artifact_selectors.artifact_list(
        namespace=session.namespace, session_id=session.pk
    )[:LIST_LIMIT]
    context = {"artifacts": artifacts, "count": len(artifacts)}
    return render(request, "web/_artifact_rows.html", context)
