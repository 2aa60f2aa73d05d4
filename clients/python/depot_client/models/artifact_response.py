from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.index_status_enum import IndexStatusEnum
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.artifact_response_metadata import ArtifactResponseMetadata





T = TypeVar("T", bound="ArtifactResponse")



@_attrs_define
class ArtifactResponse:
    """ 
        Attributes:
            artifact_id (str):
            workspace_id (str):
            namespace_id (str):
            name (str):
            description (str):
            artifact_type (str):
            workflow_id (str):
            phase_id (str):
            version (int):
            root_artifact_id (str):
            is_latest (bool):
            replaced_by_version (int):
            content (None | str):
            content_preview (str):
            content_text (str):
            file_name (None | str):
            mime_type (str):
            size_bytes (int):
            has_file (bool):
            content_hash (str):
            summary (str):
            keywords (list[str]):
            tags (list[str]):
            metadata (ArtifactResponseMetadata):
            source (str):
            source_execution_id (str):
            source_step_id (str):
            source_tool (str):
            scope (str):
            status (str):
            is_primary_deliverable (bool):
            ttl_seconds (int | None):
            expires_at (datetime.datetime | None):
            is_pinned (bool):
            is_expired (bool):
            index_status (IndexStatusEnum): * `pending` - pending
                * `indexed` - indexed
                * `failed` - failed
            is_indexed (bool):
            indexed_at (datetime.datetime | None):
            index_collection (str):
            index_error (str):
            index_attempts (int):
            embedding_model_id (str):
            chunk_count (int):
            created_by (str):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            thread_id (None | str | Unset):
            session_id (None | str | Unset):
            promoted_to_source_id (None | str | Unset):
     """

    artifact_id: str
    workspace_id: str
    namespace_id: str
    name: str
    description: str
    artifact_type: str
    workflow_id: str
    phase_id: str
    version: int
    root_artifact_id: str
    is_latest: bool
    replaced_by_version: int
    content: None | str
    content_preview: str
    content_text: str
    file_name: None | str
    mime_type: str
    size_bytes: int
    has_file: bool
    content_hash: str
    summary: str
    keywords: list[str]
    tags: list[str]
    metadata: ArtifactResponseMetadata
    source: str
    source_execution_id: str
    source_step_id: str
    source_tool: str
    scope: str
    status: str
    is_primary_deliverable: bool
    ttl_seconds: int | None
    expires_at: datetime.datetime | None
    is_pinned: bool
    is_expired: bool
    index_status: IndexStatusEnum
    is_indexed: bool
    indexed_at: datetime.datetime | None
    index_collection: str
    index_error: str
    index_attempts: int
    embedding_model_id: str
    chunk_count: int
    created_by: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    thread_id: None | str | Unset = UNSET
    session_id: None | str | Unset = UNSET
    promoted_to_source_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_response_metadata import ArtifactResponseMetadata # noqa: PLC0415
        artifact_id = self.artifact_id

        workspace_id = self.workspace_id

        namespace_id = self.namespace_id

        name = self.name

        description = self.description

        artifact_type = self.artifact_type

        workflow_id = self.workflow_id

        phase_id = self.phase_id

        version = self.version

        root_artifact_id = self.root_artifact_id

        is_latest = self.is_latest

        replaced_by_version = self.replaced_by_version

        content: None | str
        content = self.content

        content_preview = self.content_preview

        content_text = self.content_text

        file_name: None | str
        file_name = self.file_name

        mime_type = self.mime_type

        size_bytes = self.size_bytes

        has_file = self.has_file

        content_hash = self.content_hash

        summary = self.summary

        keywords = self.keywords



        tags = self.tags



        metadata = self.metadata.to_dict()

        source = self.source

        source_execution_id = self.source_execution_id

        source_step_id = self.source_step_id

        source_tool = self.source_tool

        scope = self.scope

        status = self.status

        is_primary_deliverable = self.is_primary_deliverable

        ttl_seconds: int | None
        ttl_seconds = self.ttl_seconds

        expires_at: None | str
        if isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        is_pinned = self.is_pinned

        is_expired = self.is_expired

        index_status = self.index_status.value

        is_indexed = self.is_indexed

        indexed_at: None | str
        if isinstance(self.indexed_at, datetime.datetime):
            indexed_at = self.indexed_at.isoformat()
        else:
            indexed_at = self.indexed_at

        index_collection = self.index_collection

        index_error = self.index_error

        index_attempts = self.index_attempts

        embedding_model_id = self.embedding_model_id

        chunk_count = self.chunk_count

        created_by = self.created_by

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        thread_id: None | str | Unset
        if isinstance(self.thread_id, Unset):
            thread_id = UNSET
        else:
            thread_id = self.thread_id

        session_id: None | str | Unset
        if isinstance(self.session_id, Unset):
            session_id = UNSET
        else:
            session_id = self.session_id

        promoted_to_source_id: None | str | Unset
        if isinstance(self.promoted_to_source_id, Unset):
            promoted_to_source_id = UNSET
        else:
            promoted_to_source_id = self.promoted_to_source_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact_id": artifact_id,
            "workspace_id": workspace_id,
            "namespace_id": namespace_id,
            "name": name,
            "description": description,
            "artifact_type": artifact_type,
            "workflow_id": workflow_id,
            "phase_id": phase_id,
            "version": version,
            "root_artifact_id": root_artifact_id,
            "is_latest": is_latest,
            "replaced_by_version": replaced_by_version,
            "content": content,
            "content_preview": content_preview,
            "content_text": content_text,
            "file_name": file_name,
            "mime_type": mime_type,
            "size_bytes": size_bytes,
            "has_file": has_file,
            "content_hash": content_hash,
            "summary": summary,
            "keywords": keywords,
            "tags": tags,
            "metadata": metadata,
            "source": source,
            "source_execution_id": source_execution_id,
            "source_step_id": source_step_id,
            "source_tool": source_tool,
            "scope": scope,
            "status": status,
            "is_primary_deliverable": is_primary_deliverable,
            "ttl_seconds": ttl_seconds,
            "expires_at": expires_at,
            "is_pinned": is_pinned,
            "is_expired": is_expired,
            "index_status": index_status,
            "is_indexed": is_indexed,
            "indexed_at": indexed_at,
            "index_collection": index_collection,
            "index_error": index_error,
            "index_attempts": index_attempts,
            "embedding_model_id": embedding_model_id,
            "chunk_count": chunk_count,
            "created_by": created_by,
            "created_at": created_at,
            "updated_at": updated_at,
        })
        if thread_id is not UNSET:
            field_dict["thread_id"] = thread_id
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if promoted_to_source_id is not UNSET:
            field_dict["promoted_to_source_id"] = promoted_to_source_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_response_metadata import ArtifactResponseMetadata # noqa: PLC0415
        d = dict(src_dict)
        artifact_id = d.pop("artifact_id")

        workspace_id = d.pop("workspace_id")

        namespace_id = d.pop("namespace_id")

        name = d.pop("name")

        description = d.pop("description")

        artifact_type = d.pop("artifact_type")

        workflow_id = d.pop("workflow_id")

        phase_id = d.pop("phase_id")

        version = d.pop("version")

        root_artifact_id = d.pop("root_artifact_id")

        is_latest = d.pop("is_latest")

        replaced_by_version = d.pop("replaced_by_version")

        def _parse_content(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        content = _parse_content(d.pop("content"))


        content_preview = d.pop("content_preview")

        content_text = d.pop("content_text")

        def _parse_file_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        file_name = _parse_file_name(d.pop("file_name"))


        mime_type = d.pop("mime_type")

        size_bytes = d.pop("size_bytes")

        has_file = d.pop("has_file")

        content_hash = d.pop("content_hash")

        summary = d.pop("summary")

        keywords = cast(list[str], d.pop("keywords"))


        tags = cast(list[str], d.pop("tags"))


        metadata = ArtifactResponseMetadata.from_dict(d.pop("metadata"))




        source = d.pop("source")

        source_execution_id = d.pop("source_execution_id")

        source_step_id = d.pop("source_step_id")

        source_tool = d.pop("source_tool")

        scope = d.pop("scope")

        status = d.pop("status")

        is_primary_deliverable = d.pop("is_primary_deliverable")

        def _parse_ttl_seconds(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        ttl_seconds = _parse_ttl_seconds(d.pop("ttl_seconds"))


        def _parse_expires_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)



                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        expires_at = _parse_expires_at(d.pop("expires_at"))


        is_pinned = d.pop("is_pinned")

        is_expired = d.pop("is_expired")

        index_status = IndexStatusEnum(d.pop("index_status"))




        is_indexed = d.pop("is_indexed")

        def _parse_indexed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                indexed_at_type_0 = datetime.datetime.fromisoformat(data)



                return indexed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        indexed_at = _parse_indexed_at(d.pop("indexed_at"))


        index_collection = d.pop("index_collection")

        index_error = d.pop("index_error")

        index_attempts = d.pop("index_attempts")

        embedding_model_id = d.pop("embedding_model_id")

        chunk_count = d.pop("chunk_count")

        created_by = d.pop("created_by")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_thread_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        thread_id = _parse_thread_id(d.pop("thread_id", UNSET))


        def _parse_session_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session_id = _parse_session_id(d.pop("session_id", UNSET))


        def _parse_promoted_to_source_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        promoted_to_source_id = _parse_promoted_to_source_id(d.pop("promoted_to_source_id", UNSET))


        artifact_response = cls(
            artifact_id=artifact_id,
            workspace_id=workspace_id,
            namespace_id=namespace_id,
            name=name,
            description=description,
            artifact_type=artifact_type,
            workflow_id=workflow_id,
            phase_id=phase_id,
            version=version,
            root_artifact_id=root_artifact_id,
            is_latest=is_latest,
            replaced_by_version=replaced_by_version,
            content=content,
            content_preview=content_preview,
            content_text=content_text,
            file_name=file_name,
            mime_type=mime_type,
            size_bytes=size_bytes,
            has_file=has_file,
            content_hash=content_hash,
            summary=summary,
            keywords=keywords,
            tags=tags,
            metadata=metadata,
            source=source,
            source_execution_id=source_execution_id,
            source_step_id=source_step_id,
            source_tool=source_tool,
            scope=scope,
            status=status,
            is_primary_deliverable=is_primary_deliverable,
            ttl_seconds=ttl_seconds,
            expires_at=expires_at,
            is_pinned=is_pinned,
            is_expired=is_expired,
            index_status=index_status,
            is_indexed=is_indexed,
            indexed_at=indexed_at,
            index_collection=index_collection,
            index_error=index_error,
            index_attempts=index_attempts,
            embedding_model_id=embedding_model_id,
            chunk_count=chunk_count,
            created_by=created_by,
            created_at=created_at,
            updated_at=updated_at,
            thread_id=thread_id,
            session_id=session_id,
            promoted_to_source_id=promoted_to_source_id,
        )


        artifact_response.additional_properties = d
        return artifact_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
