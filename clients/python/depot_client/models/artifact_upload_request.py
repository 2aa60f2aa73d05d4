from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO
from typing import cast

if TYPE_CHECKING:
  from ..models.artifact_upload_request_metadata import ArtifactUploadRequestMetadata





T = TypeVar("T", bound="ArtifactUploadRequest")



@_attrs_define
class ArtifactUploadRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            file (File):
            description (str | Unset):
            artifact_type (str | Unset):
            thread_id (str | Unset):
            session_id (str | Unset):
            workflow_id (str | Unset):
            phase_id (str | Unset):
            tags (list[str] | Unset):
            keywords (list[str] | Unset):
            summary (str | Unset):
            metadata (ArtifactUploadRequestMetadata | Unset):
            source (str | Unset):
            source_execution_id (str | Unset):
            source_step_id (str | Unset):
            source_tool (str | Unset):
            scope (str | Unset):
            status (str | Unset):
            is_primary_deliverable (bool | Unset):
            ttl_seconds (int | None | Unset):
            is_pinned (bool | Unset):
            derived_from (list[str] | Unset):
            name (str | Unset):
     """

    file: File
    description: str | Unset = UNSET
    artifact_type: str | Unset = UNSET
    thread_id: str | Unset = UNSET
    session_id: str | Unset = UNSET
    workflow_id: str | Unset = UNSET
    phase_id: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    keywords: list[str] | Unset = UNSET
    summary: str | Unset = UNSET
    metadata: ArtifactUploadRequestMetadata | Unset = UNSET
    source: str | Unset = UNSET
    source_execution_id: str | Unset = UNSET
    source_step_id: str | Unset = UNSET
    source_tool: str | Unset = UNSET
    scope: str | Unset = UNSET
    status: str | Unset = UNSET
    is_primary_deliverable: bool | Unset = UNSET
    ttl_seconds: int | None | Unset = UNSET
    is_pinned: bool | Unset = UNSET
    derived_from: list[str] | Unset = UNSET
    name: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_upload_request_metadata import ArtifactUploadRequestMetadata # noqa: PLC0415
        file = self.file.to_tuple()


        description = self.description

        artifact_type = self.artifact_type

        thread_id = self.thread_id

        session_id = self.session_id

        workflow_id = self.workflow_id

        phase_id = self.phase_id

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags



        keywords: list[str] | Unset = UNSET
        if not isinstance(self.keywords, Unset):
            keywords = self.keywords



        summary = self.summary

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        source = self.source

        source_execution_id = self.source_execution_id

        source_step_id = self.source_step_id

        source_tool = self.source_tool

        scope = self.scope

        status = self.status

        is_primary_deliverable = self.is_primary_deliverable

        ttl_seconds: int | None | Unset
        if isinstance(self.ttl_seconds, Unset):
            ttl_seconds = UNSET
        else:
            ttl_seconds = self.ttl_seconds

        is_pinned = self.is_pinned

        derived_from: list[str] | Unset = UNSET
        if not isinstance(self.derived_from, Unset):
            derived_from = self.derived_from



        name = self.name


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
        })
        if description is not UNSET:
            field_dict["description"] = description
        if artifact_type is not UNSET:
            field_dict["artifact_type"] = artifact_type
        if thread_id is not UNSET:
            field_dict["thread_id"] = thread_id
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if workflow_id is not UNSET:
            field_dict["workflow_id"] = workflow_id
        if phase_id is not UNSET:
            field_dict["phase_id"] = phase_id
        if tags is not UNSET:
            field_dict["tags"] = tags
        if keywords is not UNSET:
            field_dict["keywords"] = keywords
        if summary is not UNSET:
            field_dict["summary"] = summary
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if source is not UNSET:
            field_dict["source"] = source
        if source_execution_id is not UNSET:
            field_dict["source_execution_id"] = source_execution_id
        if source_step_id is not UNSET:
            field_dict["source_step_id"] = source_step_id
        if source_tool is not UNSET:
            field_dict["source_tool"] = source_tool
        if scope is not UNSET:
            field_dict["scope"] = scope
        if status is not UNSET:
            field_dict["status"] = status
        if is_primary_deliverable is not UNSET:
            field_dict["is_primary_deliverable"] = is_primary_deliverable
        if ttl_seconds is not UNSET:
            field_dict["ttl_seconds"] = ttl_seconds
        if is_pinned is not UNSET:
            field_dict["is_pinned"] = is_pinned
        if derived_from is not UNSET:
            field_dict["derived_from"] = derived_from
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        from ..models.artifact_upload_request_metadata import ArtifactUploadRequestMetadata # noqa: PLC0415
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        if not isinstance(self.description, Unset):
            files.append(("description", (None, str(self.description).encode(), "text/plain")))



        if not isinstance(self.artifact_type, Unset):
            files.append(("artifact_type", (None, str(self.artifact_type).encode(), "text/plain")))



        if not isinstance(self.thread_id, Unset):
            files.append(("thread_id", (None, str(self.thread_id).encode(), "text/plain")))



        if not isinstance(self.session_id, Unset):
            files.append(("session_id", (None, str(self.session_id).encode(), "text/plain")))



        if not isinstance(self.workflow_id, Unset):
            files.append(("workflow_id", (None, str(self.workflow_id).encode(), "text/plain")))



        if not isinstance(self.phase_id, Unset):
            files.append(("phase_id", (None, str(self.phase_id).encode(), "text/plain")))



        if not isinstance(self.tags, Unset):
            for tags_item_element in self.tags:
                files.append(("tags", (None, str(tags_item_element).encode(), "text/plain")))




        if not isinstance(self.keywords, Unset):
            for keywords_item_element in self.keywords:
                files.append(("keywords", (None, str(keywords_item_element).encode(), "text/plain")))




        if not isinstance(self.summary, Unset):
            files.append(("summary", (None, str(self.summary).encode(), "text/plain")))



        if not isinstance(self.metadata, Unset):
            files.append(("metadata", (None, json.dumps( self.metadata.to_dict()).encode(), "application/json")))



        if not isinstance(self.source, Unset):
            files.append(("source", (None, str(self.source).encode(), "text/plain")))



        if not isinstance(self.source_execution_id, Unset):
            files.append(("source_execution_id", (None, str(self.source_execution_id).encode(), "text/plain")))



        if not isinstance(self.source_step_id, Unset):
            files.append(("source_step_id", (None, str(self.source_step_id).encode(), "text/plain")))



        if not isinstance(self.source_tool, Unset):
            files.append(("source_tool", (None, str(self.source_tool).encode(), "text/plain")))



        if not isinstance(self.scope, Unset):
            files.append(("scope", (None, str(self.scope).encode(), "text/plain")))



        if not isinstance(self.status, Unset):
            files.append(("status", (None, str(self.status).encode(), "text/plain")))



        if not isinstance(self.is_primary_deliverable, Unset):
            files.append(("is_primary_deliverable", (None, str(self.is_primary_deliverable).encode(), "text/plain")))



        if not isinstance(self.ttl_seconds, Unset):
            if isinstance(self.ttl_seconds, int):

                files.append(("ttl_seconds", (None, str(self.ttl_seconds).encode(), "text/plain")))
            else:
                files.append(("ttl_seconds", (None, str(self.ttl_seconds).encode(), "text/plain")))


        if not isinstance(self.is_pinned, Unset):
            files.append(("is_pinned", (None, str(self.is_pinned).encode(), "text/plain")))



        if not isinstance(self.derived_from, Unset):
            for derived_from_item_element in self.derived_from:
                files.append(("derived_from", (None, str(derived_from_item_element).encode(), "text/plain")))




        if not isinstance(self.name, Unset):
            files.append(("name", (None, str(self.name).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_upload_request_metadata import ArtifactUploadRequestMetadata # noqa: PLC0415
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        description = d.pop("description", UNSET)

        artifact_type = d.pop("artifact_type", UNSET)

        thread_id = d.pop("thread_id", UNSET)

        session_id = d.pop("session_id", UNSET)

        workflow_id = d.pop("workflow_id", UNSET)

        phase_id = d.pop("phase_id", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))


        keywords = cast(list[str], d.pop("keywords", UNSET))


        summary = d.pop("summary", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: ArtifactUploadRequestMetadata | Unset
        if isinstance(_metadata,  Unset):
            metadata = UNSET
        else:
            metadata = ArtifactUploadRequestMetadata.from_dict(_metadata)




        source = d.pop("source", UNSET)

        source_execution_id = d.pop("source_execution_id", UNSET)

        source_step_id = d.pop("source_step_id", UNSET)

        source_tool = d.pop("source_tool", UNSET)

        scope = d.pop("scope", UNSET)

        status = d.pop("status", UNSET)

        is_primary_deliverable = d.pop("is_primary_deliverable", UNSET)

        def _parse_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_seconds = _parse_ttl_seconds(d.pop("ttl_seconds", UNSET))


        is_pinned = d.pop("is_pinned", UNSET)

        derived_from = cast(list[str], d.pop("derived_from", UNSET))


        name = d.pop("name", UNSET)

        artifact_upload_request = cls(
            file=file,
            description=description,
            artifact_type=artifact_type,
            thread_id=thread_id,
            session_id=session_id,
            workflow_id=workflow_id,
            phase_id=phase_id,
            tags=tags,
            keywords=keywords,
            summary=summary,
            metadata=metadata,
            source=source,
            source_execution_id=source_execution_id,
            source_step_id=source_step_id,
            source_tool=source_tool,
            scope=scope,
            status=status,
            is_primary_deliverable=is_primary_deliverable,
            ttl_seconds=ttl_seconds,
            is_pinned=is_pinned,
            derived_from=derived_from,
            name=name,
        )


        artifact_upload_request.additional_properties = d
        return artifact_upload_request

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
