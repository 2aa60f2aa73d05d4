"""Seed 002: /api/v1/orgs/{org}/workspaces/{ws}/namespaces/{ns}/artifacts, one ViewSet on a
router (the `upload` and `query` list actions come before the detail route), and a thread's
artifacts."""

import time
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artifacts import list_pages, selectors, services
from artifacts.api.common import (
    ARTIFACT_PARAMETER,
    NAMESPACE_PARAMETERS,
    UPLOAD_ERRORS,
    lineage_targets,
    session_lookup_for,
)
from artifacts.api.serializers import (
    ArtifactCreate,
    ArtifactDetailQuery,
    ArtifactListQuery,
    ArtifactPageResponse,
    ArtifactResponse,
    ArtifactUpdate,
    ArtifactUpload,
    ArtifactVersionsResponse,
    ArtifactWithLineageResponse,
    DownloadQuery,
    DownloadUrlResponse,
    LineageItem,
    Promote,
    PromoteResponse,
    Query,
    QueryResponse,
    ThreadArtifactListQuery,
    list_items,
)
from artifacts.models import Artifact
from artifacts.search import artifact_search, query_terms
from artifacts.version_bytes import artifact_file
from attachments import storage
from attachments.file_identity import display_name, served_media_type
from attachments.uploads import form_data, require_upload, staged_upload
from sessions_app import selectors as session_selectors
from sessions_app.api.common import (
    FILE_OUTSIDE_DATA,
    READ_ERRORS,
    WRITE_ERRORS,
    DepotJSONParser,
    error_responses,
    query_data,
    validated,
)
from sessions_app.auth import get_principal
from sessions_app.errors import InvalidInput
from sessions_app.models import Namespace

# PUT takes new content as JSON or, with a file, as multipart.
UPDATE_PARSERS = [DepotJSONParser, MultiPartParser, FormParser]


# The namespace named by the path, and an artifact in it, for the caller's key. (No docstring:
# the schema would take it as every operation's description.)
class NamespaceScoped:
    kwargs: dict[str, Any]
    request: Any

    def namespace(self) -> Namespace:
        return session_selectors.namespace_get(
            principal=get_principal(self.request),
            org=self.kwargs["org"],
            workspace=self.kwargs["ws"],
            namespace=self.kwargs["ns"],
        )

    def listed_namespace(self) -> Namespace:
        # The same namespace by a written-out statement: a list's one read before its page.
        return list_pages.namespace_get(
            principal=get_principal(self.request),
            org=self.kwargs["org"],
            workspace=self.kwargs["ws"],
            namespace=self.kwargs["ns"],
        )

    def get_renderers(self) -> list[BaseRenderer]:
        # A list's page renders from its parts (list_items.PageJSONRenderer: the same bytes).
        return list_items.with_page_renderer(super().get_renderers())  # type: ignore[misc]

    def artifact(self, version: int | None = None) -> Artifact:
        return selectors.artifact_get_in_namespace(
            namespace=self.namespace(), artifact_id=self.kwargs["artifact_id"], version=version
        )


def _created(
    request: Request, namespace: Namespace, data: dict[str, Any], content: services.NewContent
) -> Response:
    """What a create from JSON and one from a file share: the session, thread and parents
    that `data` names, and the rest of it as the artifact's fields."""
    principal = get_principal(request)
    artifact = services.artifact_create(
        namespace=namespace,
        content=content,
        session_lookup=session_lookup_for(principal, namespace, data.pop("session_id", None)),
        thread_id=data.pop("thread_id", None),
        derived_from=lineage_targets(principal, data.pop("derived_from", None)),
        fields={key: value for key, value in data.items() if value is not None},
        created_by=principal.label,
    )
    artifact = selectors.artifact_reload(artifact=artifact)
    return Response(ArtifactResponse(artifact).data, status=status.HTTP_201_CREATED)


def _page(namespace: Namespace, params: dict[str, Any], thread_id: str | None) -> dict[str, Any]:
    """A page of the namespace's artifacts (of one thread, of some types) with its total:
    unfiltered, the namespace's counter read with the page's rows, else a COUNT; one cut-off
    for what has expired in both (list_pages.artifact_page), rendered by list_items."""
    found = list_pages.artifact_page(
        namespace=namespace,
        thread_id=thread_id,
        artifact_types=selectors.parse_type_list(params.get("artifact_types")),
        include_expired=params["include_expired"],
        cursor=params.get("cursor"),
        limit=params["limit"],
        now=timezone.now(),
    )
    return list_items.page(found, namespace)


@extend_schema(tags=["artifacts (seed 002)"], parameters=NAMESPACE_PARAMETERS)
class NamespacedArtifactViewSet(NamespaceScoped, viewsets.ViewSet):
    lookup_field = "artifact_id"
    # Any segment reaches the view (the schema's pattern documents the ids Depot mints).
    lookup_value_regex = "[^/]+"
    parser_classes = [DepotJSONParser]

    @property
    def reads_only(self) -> bool:
        # A POST only because the query is a body: read-only keys may search.
        return getattr(self, "action", None) == "query"

    def get_parsers(self) -> list[BaseParser]:
        # The action is known here from the method (DRF sets `self.action` only after it has
        # built the request, and with it the parsers).
        method = (self.request.method or "").lower() if self.request is not None else ""
        name = getattr(self, "action", None) or (self.action_map or {}).get(method)
        if name == "update":
            return [parser() for parser in UPDATE_PARSERS]
        return super().get_parsers()

    @extend_schema(
        operation_id="artifacts_list",
        parameters=[ArtifactListQuery],
        responses={200: ArtifactPageResponse, **error_responses(*READ_ERRORS)},
    )
    def list(self, request: Request, **kwargs: str) -> Response:
        params = validated(ArtifactListQuery, query_data(request), location="query")
        return Response(_page(self.listed_namespace(), params, params.get("thread_id")))

    @extend_schema(
        operation_id="artifacts_create",
        request=ArtifactCreate,
        responses={201: ArtifactResponse, **error_responses(*WRITE_ERRORS)},
    )
    def create(self, request: Request, **kwargs: str) -> Response:
        namespace = self.namespace()
        data = validated(ArtifactCreate, request.data)
        content = services.NewContent(
            text=data.pop("content", ""), content_type=data.pop("content_type")
        )
        return _created(request, namespace, data, content)

    @extend_schema(
        operation_id="artifacts_create_with_file",
        request={"multipart/form-data": ArtifactUpload},
        responses={201: ArtifactResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request: Request, **kwargs: str) -> Response:
        namespace = self.namespace()
        data = validated(ArtifactUpload, form_data(request), context=FILE_OUTSIDE_DATA)
        staged, file_name = require_upload(request)
        # Named after its file when no name is given: the client's raw file name, of any
        # length, cleaned and cut as every display name is (the name column holds 500).
        data.setdefault("name", display_name(file_name))
        content = services.NewContent(staged=staged, file_name=file_name)
        return _created(request, namespace, data, content)

    @extend_schema(
        operation_id="artifacts_query",
        summary="Search the latest, unexpired artifacts of a namespace",
        request=Query,
        responses={200: QueryResponse, **error_responses(400, 401, 404, 422)},
    )
    @action(detail=False, methods=["post"])
    def query(self, request: Request, **kwargs: str) -> Response:
        namespace = self.namespace()
        data = validated(Query, request.data)
        if not query_terms(data["query"]):
            raise InvalidInput.single(
                ["body", "query"], "The query has no words to search for.", "value_error"
            )
        result = artifact_search(
            namespace=namespace,
            query=data["query"],
            limit=data["limit"],
            artifact_types=data.get("artifact_types"),
            thread_id=data.get("thread_id"),
        )
        body = {
            "results": [
                {
                    "artifact": hit.artifact,
                    "score": hit.score,
                    "matched_chunk": hit.matched_chunk,
                    "highlight": hit.highlight,
                }
                for hit in result.hits
            ],
            "combined_context": result.combined_context,
            "total_results": result.total,
            "total_results_exact": result.total_exact,
            "query": data["query"],
            "mode": result.mode,
        }
        return Response(QueryResponse(body).data)

    @extend_schema(
        operation_id="artifacts_retrieve",
        parameters=[ARTIFACT_PARAMETER, ArtifactDetailQuery],
        responses={200: ArtifactWithLineageResponse, **error_responses(*READ_ERRORS)},
    )
    def retrieve(self, request: Request, **kwargs: str) -> Response:
        params = validated(ArtifactDetailQuery, query_data(request), location="query")
        artifact = self.artifact(version=params.get("version"))
        data = ArtifactResponse(artifact).data
        if params.get("include") == "lineage":
            found = selectors.artifact_lineage(artifact=artifact)
            data["lineage"] = {
                side: LineageItem(rows, many=True).data for side, rows in found.items()
            }
        return Response(data)

    @extend_schema(
        operation_id="artifacts_update",
        summary="New content or file → a new version; other fields alone → changed in place",
        parameters=[ARTIFACT_PARAMETER],
        request={
            "application/json": ArtifactUpdate,
            "multipart/form-data": ArtifactUpdate,
        },
        responses={200: ArtifactResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def update(self, request: Request, **kwargs: str) -> Response:
        principal = get_principal(request)
        # The namespace, the artifact's latest version and what the answer names in one read
        # (issue 11), or the usual two for any other id (and the 404s).
        artifact = (
            selectors.artifact_latest_in_namespace(
                principal=principal,
                org=self.kwargs["org"],
                workspace=self.kwargs["ws"],
                namespace=self.kwargs["ns"],
                artifact_id=self.kwargs["artifact_id"],
            )
            or self.artifact()
        )
        # A form body parses to a QueryDict (which is also a dict); JSON to a plain dict.
        is_form = hasattr(request.data, "getlist")
        raw = form_data(request) if is_form else request.data  # a list, a string: a 422
        data = validated(ArtifactUpdate, raw, context=FILE_OUTSIDE_DATA)
        version = services.artifact_put(
            artifact=artifact,
            data=data,
            upload=staged_upload(request) if is_form else None,
            created_by=principal.label,
        )
        if "metadata" in data:
            # PostgreSQL's jsonb orders an object's keys its own way: answer them as stored.
            return Response(ArtifactResponse(selectors.artifact_reload(artifact=version)).data)
        # A new version is answered from what was written, without reading it again.
        return Response(ArtifactResponse(selectors.artifact_answer(artifact=version)).data)

    @extend_schema(
        operation_id="artifacts_destroy",
        summary="Delete the artifact with all its versions",
        parameters=[ARTIFACT_PARAMETER],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*WRITE_ERRORS)},
    )
    def destroy(self, request: Request, **kwargs: str) -> Response:
        services.artifact_delete(artifact=self.artifact(), actor=get_principal(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="artifacts_versions",
        parameters=[ARTIFACT_PARAMETER],
        responses={200: ArtifactVersionsResponse, **error_responses(*READ_ERRORS)},
    )
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, **kwargs: str) -> Response:
        artifact = self.artifact()
        body = {
            "artifact_id": artifact.root_artifact_id,
            "versions": selectors.artifact_versions(artifact=artifact),
        }
        return Response(ArtifactVersionsResponse(body).data)

    @extend_schema(
        operation_id="artifacts_download_url",
        summary="A time-limited download URL (S3 presigned, or signed by Depot on local disk)",
        parameters=[ARTIFACT_PARAMETER, DownloadQuery],
        responses={200: DownloadUrlResponse, **error_responses(*READ_ERRORS)},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, **kwargs: str) -> Response:
        params = validated(DownloadQuery, query_data(request), location="query")
        artifact = self.artifact()
        expires_in = params["expires_in"]
        file = artifact_file(artifact)
        content_type = served_media_type(file.mime_type)
        url = None
        if file.key is not None:
            url = storage.presigned_url(
                file.key,
                expires_in=expires_in,
                file_name=file.name,
                content_type=content_type,
                as_attachment=True,
            )
        if url is None:
            token = storage.sign_download({"a": artifact.pk, "x": int(time.time()) + expires_in})
            url = request.build_absolute_uri(reverse("signed-download", kwargs={"token": token}))
        body = {
            "artifact_id": artifact.artifact_id,
            "download_url": url,
            "expires_in": expires_in,
            "file_name": file.name,
            "content_type": content_type,
            "file_size_bytes": file.size,
        }
        return Response(DownloadUrlResponse(body).data)

    @extend_schema(
        operation_id="artifacts_promote",
        summary="Promote an artifact to a knowledge source (idempotent)",
        parameters=[ARTIFACT_PARAMETER],
        request=Promote,
        responses={200: PromoteResponse, **error_responses(*WRITE_ERRORS)},
    )
    @action(detail=True, methods=["post"])
    def promote(self, request: Request, **kwargs: str) -> Response:
        validated(Promote, request.data or {})
        artifact = self.artifact()
        source, created = services.artifact_promote(
            artifact=artifact, created_by=get_principal(request).label
        )
        body = {
            "artifact_id": artifact.root_artifact_id,
            "source_id": source.source_id,
            "source_name": source.name,
            "message": "Promoted to a source." if created else "Already promoted; same source.",
        }
        return Response(PromoteResponse(body).data)


@extend_schema(
    tags=["artifacts (seed 002)"],
    parameters=[*NAMESPACE_PARAMETERS, OpenApiParameter("thread_id", str, OpenApiParameter.PATH)],
)
class ThreadArtifactListView(NamespaceScoped, APIView):
    @extend_schema(
        operation_id="thread_artifacts_list",
        parameters=[ThreadArtifactListQuery],
        responses={200: ArtifactPageResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, **kwargs: str) -> Response:
        params = validated(ThreadArtifactListQuery, query_data(request), location="query")
        return Response(_page(self.listed_namespace(), params, self.kwargs["thread_id"]))
