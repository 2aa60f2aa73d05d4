"""DRF's side of who is calling: the key authentication class, the tenant permission and
`get_principal`. The domain objects are in sessions_app/principals.py (re-exported here for
the callers that still import them from this module)."""

from typing import Any

from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from sessions_app.models import ApiKey
from sessions_app.principals import (  # noqa: F401  (re-exported)
    ACTING_ORGANIZATION_SESSION_KEY,
    KEY_PREFIX,
    LAST_USED_RESOLUTION,
    SCOPE_API_KEY,
    Principal,
    acting_organization_of,
    authenticate_raw_key,
    generate_raw_key,
    hash_secret,
    principal_for_key,
    principal_for_user,
    raw_key_from_headers,
)


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key: <key>` or `Authorization: Bearer <key>`. A bad key is a 401, never a pass."""

    def authenticate(self, request: Request) -> tuple[Principal, ApiKey] | None:
        headers = {
            "x-api-key": request.META.get("HTTP_X_API_KEY", ""),
            "authorization": request.META.get("HTTP_AUTHORIZATION", ""),
        }
        raw_key = raw_key_from_headers(headers)
        if raw_key is None:
            return None
        scope = getattr(request._request, "scope", None) or {}
        api_key = scope.get(SCOPE_API_KEY) or authenticate_raw_key(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        return principal_for_key(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="depot"'


def get_principal(request: Request) -> Principal | None:
    user = request.user
    if isinstance(user, Principal):
        return user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(request, "_depot_principal", None)
    if cached is None:
        acting = acting_organization_of(getattr(request, "session", None))
        cached = principal_for_user(user, acting)
        request._depot_principal = cached  # type: ignore[attr-defined]
    return cached


class HasTenantAccess(permissions.BasePermission):
    """401 without credentials; 403 for a read-only key or member writing."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.user is None or not getattr(request.user, "is_authenticated", False):
            raise exceptions.NotAuthenticated()
        principal = get_principal(request)
        if principal is None:
            raise exceptions.PermissionDenied("This account is not a member of any organization.")
        # A view may mark an unsafe method as a read (the search POST): read-only keys may use it.
        reading = request.method in permissions.SAFE_METHODS or getattr(view, "reads_only", False)
        if not reading and principal.read_only:
            raise exceptions.PermissionDenied("This API key is read-only.")
        return True
