from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.content_encoding_enum import ContentEncodingEnum
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.flat_artifact_response_metadata import FlatArtifactResponseMetadata





T = TypeVar("T", bound="FlatArtifactResponse")



@_attrs_define
class FlatArtifactResponse:
    """ 
        Attributes:
            id (str):
            version_id (str):
            version (int):
            workflow_id (str):
            phase_id (None | str):
            artifact_type (str):
            is_primary_deliverable (bool):
            content (None | str): The content as `/content` renders it: UTF-8 text as is, any other file as base64 (see
                `content_encoding`); null with `include_content=false`.
            content_type (str):
            content_hash (str):
            size_bytes (int):
            title (str):
            derived_from (list[str]):
            created_at (datetime.datetime):
            created_by (str):
            metadata (FlatArtifactResponseMetadata):
            session_id (None | str | Unset):
            content_encoding (ContentEncodingEnum | Unset): * `utf-8` - utf-8
                * `base64` - base64
     """

    id: str
    version_id: str
    version: int
    workflow_id: str
    phase_id: None | str
    artifact_type: str
    is_primary_deliverable: bool
    content: None | str
    content_type: str
    content_hash: str
    size_bytes: int
    title: str
    derived_from: list[str]
    created_at: datetime.datetime
    created_by: str
    metadata: FlatArtifactResponseMetadata
    session_id: None | str | Unset = UNSET
    content_encoding: ContentEncodingEnum | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.flat_artifact_response_metadata import FlatArtifactResponseMetadata # noqa: PLC0415
        id = self.id

        version_id = self.version_id

        version = self.version

        workflow_id = self.workflow_id

        phase_id: None | str
        phase_id = self.phase_id

        artifact_type = self.artifact_type

        is_primary_deliverable = self.is_primary_deliverable

        content: None | str
        content = self.content

        content_type = self.content_type

        content_hash = self.content_hash

        size_bytes = self.size_bytes

        title = self.title

        derived_from = self.derived_from



        created_at = self.created_at.isoformat()

        created_by = self.created_by

        metadata = self.metadata.to_dict()

        session_id: None | str | Unset
        if isinstance(self.session_id, Unset):
            session_id = UNSET
        else:
            session_id = self.session_id

        content_encoding: str | Unset = UNSET
        if not isinstance(self.content_encoding, Unset):
            content_encoding = self.content_encoding.value



        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "version_id": version_id,
            "version": version,
            "workflow_id": workflow_id,
            "phase_id": phase_id,
            "artifact_type": artifact_type,
            "is_primary_deliverable": is_primary_deliverable,
            "content": content,
            "content_type": content_type,
            "content_hash": content_hash,
            "size_bytes": size_bytes,
            "title": title,
            "derived_from": derived_from,
            "created_at": created_at,
            "created_by": created_by,
            "metadata": metadata,
        })
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if content_encoding is not UNSET:
            field_dict["content_encoding"] = content_encoding

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.flat_artifact_response_metadata import FlatArtifactResponseMetadata # noqa: PLC0415
        d = dict(src_dict)
        id = d.pop("id")

        version_id = d.pop("version_id")

        version = d.pop("version")

        workflow_id = d.pop("workflow_id")

        def _parse_phase_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        phase_id = _parse_phase_id(d.pop("phase_id"))


        artifact_type = d.pop("artifact_type")

        is_primary_deliverable = d.pop("is_primary_deliverable")

        def _parse_content(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        content = _parse_content(d.pop("content"))


        content_type = d.pop("content_type")

        content_hash = d.pop("content_hash")

        size_bytes = d.pop("size_bytes")

        title = d.pop("title")

        derived_from = cast(list[str], d.pop("derived_from"))


        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        created_by = d.pop("created_by")

        metadata = FlatArtifactResponseMetadata.from_dict(d.pop("metadata"))




        def _parse_session_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session_id = _parse_session_id(d.pop("session_id", UNSET))


        _content_encoding = d.pop("content_encoding", UNSET)
        content_encoding: ContentEncodingEnum | Unset
        if isinstance(_content_encoding,  Unset):
            content_encoding = UNSET
        else:
            content_encoding = ContentEncodingEnum(_content_encoding)




        flat_artifact_response = cls(
            id=id,
            version_id=version_id,
            version=version,
            workflow_id=workflow_id,
            phase_id=phase_id,
            artifact_type=artifact_type,
            is_primary_deliverable=is_primary_deliverable,
            content=content,
            content_type=content_type,
            content_hash=content_hash,
            size_bytes=size_bytes,
            title=title,
            derived_from=derived_from,
            created_at=created_at,
            created_by=created_by,
            metadata=metadata,
            session_id=session_id,
            content_encoding=content_encoding,
        )


        flat_artifact_response.additional_properties = d
        return flat_artifact_response

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
