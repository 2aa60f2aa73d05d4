"""What every page shares: login, the caller's principal, a strict CSP, and domain errors as
the pages' 404/403.

The policy allows script, style, images and connections from Depot's own origin only: no
inline script or style (the pages' JavaScript is static files), no frames, no plugins, forms
posting only here. `connect-src 'self'` covers the session WebSocket (CSP Level 3 matches ws:
and wss: against an http: or https: 'self')."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from sessions_app.errors import InvalidInput, NotFound
from sessions_app.principals import Principal, principal_for_user

LOGIN_URL = "/login/"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

View = Callable[..., HttpResponseBase]


def with_policy(response: HttpResponseBase) -> HttpResponseBase:
    # A response that set its own policy (a served file's `sandbox`) keeps it.
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def csp(view: View) -> View:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return with_policy(view(request, *args, **kwargs))

    return wrapped


def error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    title = {403: "Not allowed", 404: "Not found"}.get(status, "Error")
    context = {"title": title, "message": message, "status": status}
    return render(request, "web/error.html", context, status=status)


def page(view: View) -> View:
    """A page for a signed-in member: `view(request, principal, ...)`. Not signed in → the
    login page; no membership → 403; a domain NotFound (also another tenant's id) or a
    malformed id → 404, as HTML pages under the same policy."""

    @csp
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        principal = principal_for_user(request.user)
        if principal is None:
            return error_page(request, 403, "This account is not a member of any organization.")
        try:
            return view(request, principal, *args, **kwargs)
        except (NotFound, InvalidInput, Http404):
            # One answer for "no such id" and "another tenant's id": nothing tells them apart.
            return error_page(request, 404, "There is nothing here, or it is not yours to see.")
        except PermissionDenied as error:
            return error_page(request, 403, str(error) or "Not allowed.")

    return wrapped


def require_writer(principal: Principal) -> None:
    if principal.read_only:
        raise PermissionDenied("This membership is read-only.")
