""" Contains all the data models used in inputs/outputs """

from .app_upload_request import AppUploadRequest
from .app_upload_response import AppUploadResponse
from .artifact_create_request import ArtifactCreateRequest
from .artifact_create_request_metadata import ArtifactCreateRequestMetadata
from .artifact_lineage import ArtifactLineage
from .artifact_page_response import ArtifactPageResponse
from .artifact_response import ArtifactResponse
from .artifact_response_metadata import ArtifactResponseMetadata
from .artifact_update_form import ArtifactUpdateForm
from .artifact_update_form_metadata import ArtifactUpdateFormMetadata
from .artifact_update_request import ArtifactUpdateRequest
from .artifact_update_request_metadata import ArtifactUpdateRequestMetadata
from .artifact_upload_request import ArtifactUploadRequest
from .artifact_upload_request_metadata import ArtifactUploadRequestMetadata
from .artifact_versions_response import ArtifactVersionsResponse
from .artifact_with_lineage_response import ArtifactWithLineageResponse
from .artifact_with_lineage_response_metadata import ArtifactWithLineageResponseMetadata
from .artifacts_retrieve_include import ArtifactsRetrieveInclude
from .attachment_list_item import AttachmentListItem
from .attachment_page_response import AttachmentPageResponse
from .attachment_upload_request import AttachmentUploadRequest
from .attachment_upload_response import AttachmentUploadResponse
from .change_type_enum import ChangeTypeEnum
from .completed_part_request import CompletedPartRequest
from .content_encoding_enum import ContentEncodingEnum
from .direct_complete_request import DirectCompleteRequest
from .direct_complete_response import DirectCompleteResponse
from .direct_create_request import DirectCreateRequest
from .direct_create_response import DirectCreateResponse
from .download_url_response import DownloadUrlResponse
from .error_response import ErrorResponse
from .event_item import EventItem
from .event_item_extra import EventItemExtra
from .event_page_response import EventPageResponse
from .flat_artifact_content_response import FlatArtifactContentResponse
from .flat_artifact_create_request import FlatArtifactCreateRequest
from .flat_artifact_create_request_metadata import FlatArtifactCreateRequestMetadata
from .flat_artifact_create_response import FlatArtifactCreateResponse
from .flat_artifact_list_item import FlatArtifactListItem
from .flat_artifact_response import FlatArtifactResponse
from .flat_artifact_response_metadata import FlatArtifactResponseMetadata
from .flat_artifact_upload_request import FlatArtifactUploadRequest
from .flat_artifact_upload_response import FlatArtifactUploadResponse
from .index_status_enum import IndexStatusEnum
from .lineage_item import LineageItem
from .mode_enum import ModeEnum
from .patched_session_update_request import PatchedSessionUpdateRequest
from .patched_session_update_request_metadata import PatchedSessionUpdateRequestMetadata
from .presigned_part import PresignedPart
from .promote_request import PromoteRequest
from .promote_response import PromoteResponse
from .query_request import QueryRequest
from .query_response import QueryResponse
from .query_result_item import QueryResultItem
from .scope_enum import ScopeEnum
from .session_complete_request import SessionCompleteRequest
from .session_complete_status_enum import SessionCompleteStatusEnum
from .session_create_request import SessionCreateRequest
from .session_create_request_metadata import SessionCreateRequestMetadata
from .session_item_meta_response import SessionItemMetaResponse
from .session_page_response import SessionPageResponse
from .session_response import SessionResponse
from .session_status_enum import SessionStatusEnum
from .sessions_list_status import SessionsListStatus
from .source_enum import SourceEnum
from .target_metadata_request import TargetMetadataRequest
from .upload_type_enum import UploadTypeEnum
from .usage_kind import UsageKind
from .usage_response import UsageResponse
from .validation_error_item import ValidationErrorItem
from .validation_error_response import ValidationErrorResponse

__all__ = (
    "AppUploadRequest",
    "AppUploadResponse",
    "ArtifactCreateRequest",
    "ArtifactCreateRequestMetadata",
    "ArtifactLineage",
    "ArtifactPageResponse",
    "ArtifactResponse",
    "ArtifactResponseMetadata",
    "ArtifactsRetrieveInclude",
    "ArtifactUpdateForm",
    "ArtifactUpdateFormMetadata",
    "ArtifactUpdateRequest",
    "ArtifactUpdateRequestMetadata",
    "ArtifactUploadRequest",
    "ArtifactUploadRequestMetadata",
    "ArtifactVersionsResponse",
    "ArtifactWithLineageResponse",
    "ArtifactWithLineageResponseMetadata",
    "AttachmentListItem",
    "AttachmentPageResponse",
    "AttachmentUploadRequest",
    "AttachmentUploadResponse",
    "ChangeTypeEnum",
    "CompletedPartRequest",
    "ContentEncodingEnum",
    "DirectCompleteRequest",
    "DirectCompleteResponse",
    "DirectCreateRequest",
    "DirectCreateResponse",
    "DownloadUrlResponse",
    "ErrorResponse",
    "EventItem",
    "EventItemExtra",
    "EventPageResponse",
    "FlatArtifactContentResponse",
    "FlatArtifactCreateRequest",
    "FlatArtifactCreateRequestMetadata",
    "FlatArtifactCreateResponse",
    "FlatArtifactListItem",
    "FlatArtifactResponse",
    "FlatArtifactResponseMetadata",
    "FlatArtifactUploadRequest",
    "FlatArtifactUploadResponse",
    "IndexStatusEnum",
    "LineageItem",
    "ModeEnum",
    "PatchedSessionUpdateRequest",
    "PatchedSessionUpdateRequestMetadata",
    "PresignedPart",
    "PromoteRequest",
    "PromoteResponse",
    "QueryRequest",
    "QueryResponse",
    "QueryResultItem",
    "ScopeEnum",
    "SessionCompleteRequest",
    "SessionCompleteStatusEnum",
    "SessionCreateRequest",
    "SessionCreateRequestMetadata",
    "SessionItemMetaResponse",
    "SessionPageResponse",
    "SessionResponse",
    "SessionsListStatus",
    "SessionStatusEnum",
    "SourceEnum",
    "TargetMetadataRequest",
    "UploadTypeEnum",
    "UsageKind",
    "UsageResponse",
    "ValidationErrorItem",
    "ValidationErrorResponse",
)
