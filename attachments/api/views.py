from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from attachments import listing, selectors, services
from attachments.api.serializers import (
    AppDelete,
    AppUpload,
    AppUploadResponse,
    AttachmentPageResponse,
    AttachmentUpload,
    AttachmentUploadResponse,
)
from attachments.models import parse_attachment_id
from attachments.uploads import form_data, json_object_field, require_upload, staged_upload
from sessions_app import selectors as session_selectors
from sessions_app import services as session_services
from sessions_app.api.common import (
    READ_ERRORS,
    WRITE_ERRORS,
    DepotJSONParser,
    PageQuerySerializer,
    decode_cursor,
    error_responses,
    query_data,
    validated,
)
from sessions_app.auth import get_principal
from sessions_app.errors import InvalidInput, NotFound
from sessions_app.models import ARTIFACT_ID_PREFIX, VERSION_FILE_PREFIX, Namespace, Session
from sessions_app.schema import SESSION_ID_PATH

UPLOAD_ERRORS = (*WRITE_ERRORS, 409, 413)
FILE_OUTSIDE_DATA = {"file_outside_data": True}


@extend_schema(tags=["uploads (seed 000)"], parameters=[SESSION_ID_PATH])
class SessionUploadsView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="uploads_create",
        summary="Upload a file into a session (created on first write)",
        request={"multipart/form-data": AttachmentUpload},
        responses={201: AttachmentUploadResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def post(self, request: Request, session_id: str) -> Response:
        principal = get_principal(request)
        session_selectors.validate_session_id(session_id)
        fields = validated(AttachmentUpload, form_data(request), context=FILE_OUTSIDE_DATA)
        metadata = json_object_field(fields.get("metadata"), loc=["body", "metadata"])
        staged, file_name = require_upload(request)
        attachment = services.attachment_create(
            session_lookup=lambda: session_services.session_get_or_create_by_id(
                principal=principal, session_id=session_id
            ),
            staged=staged,
            original_name=file_name,
            description=fields.get("description", ""),
            metadata=metadata,
            node_id=fields.get("node_id", ""),
            path=fields.get("path", ""),
        )
        return Response(AttachmentUploadResponse(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="uploads_list",
        summary="List a session's attachments, newest first",
        parameters=[PageQuerySerializer],
        responses={200: AttachmentPageResponse, **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, session_id: str) -> Response:
        params = validated(PageQuerySerializer, query_data(request), location="query")
        session_selectors.validate_session_id(session_id)
        # One statement for the session and its page, as tuples rendered here, not model
        # instances through a ModelSerializer (issue 11); the request gate answers the plain
        # case itself with the same code (config/gate_reads.py). The shape is
        # AttachmentListItem's, which the schema shows and a test compares with this.
        try:
            before_id = decode_cursor(params["cursor"]) if params.get("cursor") else None
        except InvalidInput:
            # A missing session is a 404 before a bad cursor is a 422, as it always was.
            session_selectors.session_get(principal=get_principal(request), session_id=session_id)
            raise
        rows = listing.page_rows(
            principal=get_principal(request),  # type: ignore[arg-type]  # HasTenantAccess
            session_id=session_id,
            limit=params["limit"],
            before_id=before_id,
        )
        if rows is None:
            raise NotFound(f"Session '{session_id}' not found.")
        return Response(listing.page(rows, params["limit"]))


@extend_schema(tags=["uploads (seed 000)"])
class SessionUploadDetailView(APIView):
    @extend_schema(
        operation_id="uploads_destroy",
        parameters=[SESSION_ID_PATH],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*WRITE_ERRORS)},
    )
    def delete(self, request: Request, session_id: str, attachment_id: str) -> Response:
        session = session_selectors.session_get(
            principal=get_principal(request), session_id=session_id
        )
        if attachment_id.startswith((ARTIFACT_ID_PREFIX, VERSION_FILE_PREFIX)):
            # An artifact event's attachment_id (README, seed 000): readable here, but this
            # route deletes uploads only; nothing is deleted.
            raise NotFound(
                f"'{attachment_id}' is an artifact, not an upload: this route deletes uploads "
                "only (an artifact, with all its versions, goes with DELETE on seed 002's "
                "/artifacts/{artifact_id})."
            )
        attachment = selectors.attachment_get(session=session, public_id=attachment_id)
        services.attachment_delete(attachment=attachment, actor=get_principal(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- seed 003 ---

APP_PARAMETERS = [
    OpenApiParameter("appId", str, OpenApiParameter.PATH, description="Workspace slug."),
    OpenApiParameter("envName", str, OpenApiParameter.PATH, description="Namespace slug."),
]


def _app_namespace(request: Request, app_id: str, env_name: str) -> Namespace:
    """Seed 003's app and environment are a workspace and a namespace of the key's organization."""
    try:
        return session_selectors.namespace_get(
            principal=get_principal(request), workspace=app_id, namespace=env_name
        )
    except NotFound:
        raise NotFound(f"App '{app_id}' with environment '{env_name}' not found.") from None


def _session_for_app_upload(
    *, organization_id: int, namespace: Namespace, session_id: str | None, user_reference: str
) -> Session:
    """The `sessionId` session (made on demand), else the one whose reference is
    `userReference` (made on demand)."""
    if session_id:
        session = session_services.session_get_or_create(
            organization_id=organization_id,
            namespace=namespace,
            session_id=session_id,
            reference=user_reference,
            user_reference=user_reference,
        )
        if session.namespace_id != namespace.pk:
            raise NotFound(f"Session '{session_id}' is not in this environment.")
        return session
    existing = (
        Session.objects.filter(
            organization_id=organization_id, namespace=namespace, reference=user_reference
        )
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    return session_services.session_create(
        organization_id=organization_id,
        namespace=namespace,
        reference=user_reference,
        user_reference=user_reference,
    )


@extend_schema(tags=["app uploads (seed 003)"], parameters=APP_PARAMETERS)
class AppUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="app_attachments_upload",
        summary="Upload a runtime attachment (x-api-key)",
        request={"multipart/form-data": AppUpload},
        responses={201: AppUploadResponse, **error_responses(*UPLOAD_ERRORS)},
    )
    def post(self, request: Request, appId: str, envName: str) -> Response:
        principal = get_principal(request)
        namespace = _app_namespace(request, appId, envName)
        fields = validated(
            AppUpload,
            form_data(request, file_fields=("file", "File")),
            context=FILE_OUTSIDE_DATA,
        )
        if fields.get("sessionId"):
            session_selectors.validate_session_id(fields["sessionId"], loc=("body", "sessionId"))
        # The seed's table calls the part `File`; its curl example sends `file`.
        found = staged_upload(request, "file") or staged_upload(request, "File")
        if found is None:
            raise InvalidInput.single(["body", "file"], "Field required (a file).", "missing")
        staged, file_name = found
        attachment = services.attachment_create(
            session_lookup=lambda: _session_for_app_upload(
                organization_id=principal.organization_id,
                namespace=namespace,
                session_id=fields.get("sessionId"),
                user_reference=fields["userReference"],
            ),
            staged=staged,
            original_name=file_name,
            user_reference=fields["userReference"],
        )
        return Response(AppUploadResponse(attachment).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["app uploads (seed 003)"], parameters=APP_PARAMETERS)
class AppAttachmentDetailView(APIView):
    parser_classes = [DepotJSONParser, MultiPartParser, FormParser]

    @extend_schema(
        operation_id="app_attachments_delete",
        summary="Delete an uploaded file",
        parameters=[
            # Without the pattern `upload` was a valid id, and its DELETE reached the upload
            # route's 405.
            OpenApiParameter(
                "fileId",
                str,
                OpenApiParameter.PATH,
                pattern=r"^f-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                description="`f-<uuid>`",
            ),
            OpenApiParameter("sessionId", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("sessionReference", str, OpenApiParameter.QUERY, required=False),
        ],
        request=AppDelete,
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(*WRITE_ERRORS)},
    )
    def delete(self, request: Request, appId: str, envName: str, fileId: str) -> Response:
        namespace = _app_namespace(request, appId, envName)
        body = request.data if isinstance(request.data, dict) else {}
        criteria = {
            **validated(AppDelete, query_data(request), location="query"),
            **validated(AppDelete, dict(body.items())),
        }
        if not fileId.startswith("f-") or not parse_attachment_id(fileId):
            raise InvalidInput.single(["path", "fileId"], "File ids look like f-<uuid>.")
        attachment = selectors.attachment_get_in_namespace(namespace=namespace, public_id=fileId)
        session = attachment.session
        if criteria.get("sessionId") and criteria["sessionId"] != session.session_id:
            raise NotFound(f"File '{fileId}' not found in session '{criteria['sessionId']}'.")
        if criteria.get("sessionReference") and criteria["sessionReference"] != session.reference:
            raise NotFound(f"File '{fileId}' not found for that session reference.")
        services.attachment_delete(attachment=attachment, actor=get_principal(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
