"""Reads for sessions and tenancy; every query is scoped to the caller's principal."""

import re

from django.db.models import QuerySet

from sessions_app.errors import InvalidInput, NotFound
from sessions_app.models import SESSION_ID_MESSAGE, SESSION_ID_PATTERN, Namespace, Session
from sessions_app.principals import Principal

_session_id_re = re.compile(SESSION_ID_PATTERN)


def validate_session_id(session_id: str, *, loc: tuple[str, ...] = ("path", "session_id")) -> str:
    if not _session_id_re.fullmatch(session_id):
        raise InvalidInput.single(
            list(loc),
            SESSION_ID_MESSAGE,
            "string_pattern_mismatch",
        )
    return session_id


def session_list(
    *, principal: Principal, filters: dict[str, str] | None = None
) -> QuerySet[Session]:
    queryset = Session.objects.filter(organization_id=principal.organization_id)
    if principal.workspace_limit_id is not None:
        queryset = queryset.filter(namespace__workspace_id=principal.workspace_limit_id)
    queryset = queryset.select_related("namespace__workspace")
    for name, value in (filters or {}).items():
        if value not in (None, ""):
            queryset = queryset.filter(**{name: value})
    return queryset.order_by("-id")


def session_get(*, principal: Principal, session_id: str) -> Session:
    """The caller's session, or NotFound (also for another tenant's session of that id)."""
    validate_session_id(session_id)
    session = session_list(principal=principal).filter(session_id=session_id).first()
    if session is None:
        raise NotFound(f"Session '{session_id}' not found.")
    return session


def namespace_get(
    *, principal: Principal, workspace: str, namespace: str, org: str | None = None
) -> Namespace:
    """Resolve workspace/namespace slugs (and an org slug, where the path has one) within the
    caller's organization and reach, else 404."""
    found = (
        Namespace.objects.select_related("workspace__organization")
        .filter(
            workspace__organization_id=principal.organization_id,
            workspace__slug=workspace,
            slug=namespace,
        )
        .filter(**({"workspace__organization__slug": org} if org is not None else {}))
        .first()
    )
    if found is None or not principal.can_see_workspace(found.workspace_id):
        raise NotFound("Namespace not found.")
    return found
