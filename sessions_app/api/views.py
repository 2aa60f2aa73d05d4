from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from sessions_app import selectors, services
from sessions_app.api.common import (
    READ_ERRORS,
    WRITE_ERRORS,
    DepotJSONParser,
    error_responses,
    query_data,
    validated,
)
from sessions_app.api.serializers import (
    SESSION_PAGES,
    SessionComplete,
    SessionCreate,
    SessionListQuery,
    SessionPageResponse,
    SessionResponse,
    SessionUpdate,
)
from sessions_app.auth import get_principal
from sessions_app.schema import SESSION_ID_PATH


@extend_schema(tags=["sessions"])
class SessionViewSet(viewsets.ViewSet):
    lookup_field = "session_id"
    # Any path segment reaches the view, so a malformed id is a 422, not a 404.
    lookup_value_regex = "[^/]+"
    # JSON bodies only: with form and multipart parsers too, the schema offered three body
    # types on one model, and generated clients sent a multipart body under a form header.
    parser_classes = [DepotJSONParser]

    @extend_schema(
        operation_id="sessions_list",
        parameters=[SessionListQuery],
        responses={200: SessionPageResponse, **error_responses(*READ_ERRORS)},
    )
    def list(self, request: Request) -> Response:
        params = validated(SessionListQuery, query_data(request), location="query")
        limit, cursor = params.pop("limit"), params.pop("cursor", None)
        queryset = selectors.session_list(principal=get_principal(request), filters=params)
        return Response(SESSION_PAGES.page(queryset, cursor=cursor, limit=limit))

    @extend_schema(
        operation_id="sessions_create",
        request=SessionCreate,
        responses={201: SessionResponse, **error_responses(*WRITE_ERRORS, 409)},
    )
    def create(self, request: Request) -> Response:
        data = validated(SessionCreate, request.data)
        principal = get_principal(request)
        session = services.session_create(
            organization_id=principal.organization_id,
            namespace=principal.default_namespace,
            **data,
        )
        return Response(SessionResponse(session).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="sessions_retrieve",
        parameters=[SESSION_ID_PATH],
        responses={200: SessionResponse, **error_responses(*READ_ERRORS)},
    )
    def retrieve(self, request: Request, session_id: str) -> Response:
        session = selectors.session_get(principal=get_principal(request), session_id=session_id)
        return Response(SessionResponse(session).data)

    @extend_schema(
        operation_id="sessions_update",
        parameters=[SESSION_ID_PATH],
        request=SessionUpdate,
        responses={200: SessionResponse, **error_responses(*WRITE_ERRORS)},
    )
    def partial_update(self, request: Request, session_id: str) -> Response:
        session = selectors.session_get(principal=get_principal(request), session_id=session_id)
        data = validated(SessionUpdate, request.data)
        session = services.session_update(session=session, **data)
        return Response(SessionResponse(session).data)

    @extend_schema(
        operation_id="sessions_destroy",
        parameters=[SESSION_ID_PATH],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*WRITE_ERRORS)},
    )
    def destroy(self, request: Request, session_id: str) -> Response:
        session = selectors.session_get(principal=get_principal(request), session_id=session_id)
        services.session_delete(session=session, actor=get_principal(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="sessions_complete",
        parameters=[SESSION_ID_PATH],
        request=SessionComplete,
        responses={200: SessionResponse, **error_responses(*WRITE_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, session_id: str) -> Response:
        session = selectors.session_get(principal=get_principal(request), session_id=session_id)
        data = validated(SessionComplete, request.data or {})
        session = services.session_complete(session=session, status=data["status"])
        return Response(SessionResponse(session).data)
