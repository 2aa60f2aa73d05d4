"""The long-polls: a session's events (seed 000) and a namespace's feed.

Plain async Django views, because DRF views are sync and a waiting request must hold no
thread: authentication and reads run briefly in pool threads that hand their database
connection back, and the wait itself is an `await` on the channel layer. A DRF class beside
each view describes it for the OpenAPI schema (drf-spectacular reads `view.cls`)."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from sessions_app.api.common import (
    error_responses,
)
from sessions_app.events.long_poll import (
    EventQuery,
    FeedFor,
    answer_long_poll,
    namespace_feed,
    session_feed,
)
from sessions_app.schema import SESSION_ID_PATH


class EventItem(serializers.Serializer):
    event_id = serializers.CharField()
    sequence = serializers.IntegerField(allow_null=True, help_text="Per session; null outside one.")
    namespace_sequence = serializers.IntegerField()
    kind = serializers.CharField()
    change_type = serializers.ChoiceField(choices=["created", "updated", "deleted"])
    session_id = serializers.CharField(allow_null=True)
    artifact_id = serializers.CharField(allow_null=True)
    attachment_id = serializers.CharField(
        allow_null=True,
        help_text=(
            "The id `GET /api/sessions/{session_id}/artifacts/{id}` serves this file by: the "
            "attachment's, or for an artifact event the version's (`artifact_id`)."
        ),
    )
    node_id = serializers.CharField(allow_null=True)
    path = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    mime = serializers.CharField(allow_null=True)
    hash = serializers.CharField(allow_null=True, help_text="sha256:<hex>")
    timestamp = serializers.IntegerField(help_text="Epoch seconds.")
    created_at = serializers.DateTimeField()
    # The seed-000 server's own keys, which its clients read.
    file_name = serializers.CharField(allow_null=True, help_text="= `name`.")
    relative_path = serializers.CharField(allow_null=True, help_text="= `path`.")
    mime_type = serializers.CharField(allow_null=True, help_text="= `mime`.")
    sha256 = serializers.CharField(allow_null=True, help_text="Bare hex digest.")
    data_uri = serializers.CharField(
        allow_null=True,
        help_text="Always null on an event; the meta route carries the file's `data_uri`.",
    )
    extra = serializers.DictField(help_text="Always an empty object (the seed's extra fields).")


class EventPageResponse(serializers.Serializer):
    events = EventItem(many=True)
    next_cursor = serializers.IntegerField()
    has_more = serializers.BooleanField()
    timed_out = serializers.BooleanField()


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
        session=request.session,
    )
    return JsonResponse(body, status=status, headers=headers)


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
