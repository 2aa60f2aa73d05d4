"""The long-polls: a session's events (seed 000) and a namespace's feed.

Plain async Django views, because DRF views are sync and a waiting request must hold no
thread: authentication and reads run briefly in pool threads that hand their database
connection back, and the wait itself is an `await` on the channel layer. A DRF class beside
each view describes it for the OpenAPI schema (drf-spectacular reads `view.cls`)."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from sessions_app import selectors
from sessions_app.api.common import (
    StrictSerializer,
    error_body,
    error_responses,
    validated,
)
from sessions_app.auth import (
    Principal,
    authenticate_raw_key,
    principal_for_key,
    principal_for_user,
    raw_key_from_headers,
)
from sessions_app.errors import DepotError
from sessions_app.events import EventFilter, Feed, events_wait, release_connection
from sessions_app.schema import SESSION_ID_PATH


class NotAuthenticated(DepotError):
    status_code = 401
    default_detail = "Authentication credentials were not provided."


class Forbidden(DepotError):
    status_code = 403


class EventQuery(StrictSerializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Return events after this cursor."
    )
    wait_seconds = serializers.FloatField(min_value=0, max_value=60, default=25)
    include_mime = serializers.CharField(required=False, help_text="Comma list of MIME prefixes.")
    include_ext = serializers.CharField(
        required=False, help_text="Comma list of extensions, no dot."
    )
    max_size = serializers.IntegerField(min_value=0, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)


class EventItem(serializers.Serializer):
    event_id = serializers.CharField()
    sequence = serializers.IntegerField(allow_null=True, help_text="Per session; null outside one.")
    namespace_sequence = serializers.IntegerField()
    kind = serializers.CharField()
    change_type = serializers.ChoiceField(choices=["created", "updated", "deleted"])
    session_id = serializers.CharField(allow_null=True)
    artifact_id = serializers.CharField(allow_null=True)
    attachment_id = serializers.CharField(allow_null=True)
    node_id = serializers.CharField(allow_null=True)
    path = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    mime = serializers.CharField(allow_null=True)
    hash = serializers.CharField(allow_null=True, help_text="sha256:<hex>")
    timestamp = serializers.IntegerField(help_text="Epoch seconds.")
    created_at = serializers.DateTimeField()


class EventPageResponse(serializers.Serializer):
    events = EventItem(many=True)
    next_cursor = serializers.IntegerField()
    has_more = serializers.BooleanField()
    timed_out = serializers.BooleanField()


def _authenticate_key(raw_key: str) -> Principal | None:
    try:
        api_key = authenticate_raw_key(raw_key)
        return principal_for_key(api_key) if api_key else None
    finally:
        release_connection()


def _principal_of_user(user: Any) -> Principal | None:
    try:
        return principal_for_user(user)
    finally:
        release_connection()


async def principal_for_credentials(
    headers: dict[str, str], load_user: Callable[[], Awaitable[Any]]
) -> Principal:
    """The caller, from `x-api-key`/`authorization` (lower-case names), else a logged-in user."""
    raw_key = raw_key_from_headers(headers)
    if raw_key is not None:
        principal = await sync_to_async(_authenticate_key, thread_sensitive=False)(raw_key)
        if principal is None:
            raise NotAuthenticated("Invalid, revoked or expired API key.")
        return principal
    user = await load_user()
    if user is None or not user.is_authenticated:
        raise NotAuthenticated()
    principal = await sync_to_async(_principal_of_user, thread_sensitive=False)(user)
    if principal is None:
        raise Forbidden("This account is not a member of any organization.")
    return principal


def _comma_list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in (value or "").split(",") if part.strip())


def _filters(params: dict[str, Any]) -> EventFilter:
    return EventFilter(
        mime_prefixes=_comma_list(params.get("include_mime")),
        extensions=tuple(ext.lstrip(".") for ext in _comma_list(params.get("include_ext"))),
        max_size=params.get("max_size"),
    )


FeedFor = Callable[[Principal], Awaitable[Feed]]


async def answer_long_poll(
    *,
    method: str,
    headers: dict[str, str],
    query: dict[str, str],
    load_user: Callable[[], Awaitable[Any]],
    feed_for: FeedFor,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """The long-poll, whatever carried the request: (status, JSON body, extra headers)."""
    try:
        if method not in ("GET", "HEAD"):
            return 405, {"detail": f'Method "{method}" not allowed.'}, {"Allow": "GET"}
        principal = await principal_for_credentials(headers, load_user)
        params = validated(EventQuery, query, location="query")
        feed = await feed_for(principal)
        page, timed_out = await events_wait(
            feed=feed,
            after=params["after"],
            limit=params["limit"],
            filters=_filters(params),
            wait_seconds=params["wait_seconds"],
        )
    except NotAuthenticated as error:
        return 401, error_body(error), {"WWW-Authenticate": 'Bearer realm="depot"'}
    except DepotError as error:
        return error.status_code, error_body(error), {}
    body = {
        "events": page.events,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "timed_out": timed_out,
    }
    return 200, body, {}


async def _django_long_poll(request: HttpRequest, feed_for: FeedFor) -> JsonResponse:
    async def load_user() -> Any:
        return await request.auser()

    status, body, headers = await answer_long_poll(
        method=request.method or "GET",
        headers={
            "x-api-key": request.headers.get("X-API-Key", ""),
            "authorization": request.headers.get("Authorization", ""),
        },
        query=dict(request.GET.items()),
        load_user=load_user,
        feed_for=feed_for,
    )
    return JsonResponse(body, status=status, headers=headers)


def session_feed(session_id: str) -> FeedFor:
    """A session that has no events yet, or does not exist yet in the caller's organization,
    is waited on rather than refused, so a watcher can subscribe before the first write."""

    async def feed_for(principal: Principal) -> Feed:
        selectors.validate_session_id(session_id)
        return Feed(
            organization_id=principal.organization_id,
            session_id=session_id,
            workspace_limit_id=principal.workspace_limit_id,
        )

    return feed_for


def namespace_feed(org: str, ws: str, ns: str) -> FeedFor:
    async def feed_for(principal: Principal) -> Feed:
        namespace_id = await sync_to_async(_namespace_id, thread_sensitive=False)(
            principal, org, ws, ns
        )
        return Feed(organization_id=principal.organization_id, namespace_id=namespace_id)

    return feed_for


def documented_by(schema_view: type[APIView]) -> Callable[[Any], Any]:
    """Let drf-spectacular describe a plain view through a DRF class."""

    def attach(view: Any) -> Any:
        view.cls = schema_view
        view.initkwargs = {}
        return view

    return attach


class SessionEventsSchema(APIView):
    @extend_schema(
        operation_id="session_artifact_events",
        tags=["events"],
        summary="Long-poll a session's events (answers at once when there are some)",
        parameters=[EventQuery, SESSION_ID_PATH],
        responses={200: EventPageResponse, **error_responses(401, 403, 422)},
    )
    def get(self, request: Any, session_id: str) -> Any:  # pragma: no cover - schema only
        raise NotImplementedError


class NamespaceEventsSchema(APIView):
    @extend_schema(
        operation_id="namespace_events",
        tags=["events"],
        summary="Long-poll a namespace's feed (every session, and artifacts outside sessions)",
        parameters=[
            EventQuery,
            OpenApiParameter("org", str, OpenApiParameter.PATH),
            OpenApiParameter("ws", str, OpenApiParameter.PATH),
            OpenApiParameter("ns", str, OpenApiParameter.PATH),
        ],
        responses={200: EventPageResponse, **error_responses(401, 403, 404, 422)},
    )
    def get(self, request: Any, **kwargs: str) -> Any:  # pragma: no cover - schema only
        raise NotImplementedError


def _namespace_id(principal: Principal, org: str, ws: str, ns: str) -> int:
    try:
        return selectors.namespace_get(principal=principal, org=org, workspace=ws, namespace=ns).pk
    finally:
        release_connection()


# In production these paths are answered by `sessions_app.consumers.LongPollConsumer` before
# Django (see config/asgi.py), because Django parks a thread for every request it handles.
# The views serve the same answers elsewhere (test client, other servers) and carry the schema.
# GET only, and no cookie-authenticated state change happens here, so CSRF does not apply;
# exempting it lets a wrong method get its JSON 405.
@documented_by(SessionEventsSchema)
@csrf_exempt
async def session_events(request: HttpRequest, session_id: str) -> JsonResponse:
    return await _django_long_poll(request, session_feed(session_id))


@documented_by(NamespaceEventsSchema)
@csrf_exempt
async def namespace_events(request: HttpRequest, org: str, ws: str, ns: str) -> JsonResponse:
    return await _django_long_poll(request, namespace_feed(org, ws, ns))
