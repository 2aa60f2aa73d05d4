from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.flat_artifact_create_request_metadata import FlatArtifactCreateRequestMetadata





T = TypeVar("T", bound="FlatArtifactCreateRequest")



@_attrs_define
class FlatArtifactCreateRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            workflow_id (str):
            artifact_type (str):
            title (str):
            content (str):
            phase_id (None | str | Unset):
            session_id (None | str | Unset):
            content_type (str | Unset): Default: `"text/markdown"`.
            derived_from (list[str] | Unset):
            metadata (FlatArtifactCreateRequestMetadata | Unset):
            is_primary_deliverable (bool | Unset): Default: `false`.
     """

    workflow_id: str
    artifact_type: str
    title: str
    content: str
    phase_id: None | str | Unset = UNSET
    session_id: None | str | Unset = UNSET
    content_type: str | Unset = UNSET
    derived_from: list[str] | Unset = UNSET
    metadata: FlatArtifactCreateRequestMetadata | Unset = UNSET
    is_primary_deliverable: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.flat_artifact_create_request_metadata import FlatArtifactCreateRequestMetadata # noqa: PLC0415
        workflow_id = self.workflow_id

        artifact_type = self.artifact_type

        title = self.title

        content = self.content

        phase_id: None | str | Unset
        if isinstance(self.phase_id, Unset):
            phase_id = UNSET
        else:
            phase_id = self.phase_id

        session_id: None | str | Unset
        if isinstance(self.session_id, Unset):
            session_id = UNSET
        else:
            session_id = self.session_id

        content_type = self.content_type

        derived_from: list[str] | Unset = UNSET
        if not isinstance(self.derived_from, Unset):
            derived_from = self.derived_from



        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        is_primary_deliverable = self.is_primary_deliverable


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "workflow_id": workflow_id,
            "artifact_type": artifact_type,
            "title": title,
            "content": content,
        })
        if phase_id is not UNSET:
            field_dict["phase_id"] = phase_id
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if content_type is not UNSET:
            field_dict["content_type"] = content_type
        if derived_from is not UNSET:
            field_dict["derived_from"] = derived_from
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if is_primary_deliverable is not UNSET:
            field_dict["is_primary_deliverable"] = is_primary_deliverable

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.flat_artifact_create_request_metadata import FlatArtifactCreateRequestMetadata # noqa: PLC0415
        d = dict(src_dict)
        workflow_id = d.pop("workflow_id")

        artifact_type = d.pop("artifact_type")

        title = d.pop("title")

        content = d.pop("content")

        def _parse_phase_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        phase_id = _parse_phase_id(d.pop("phase_id", UNSET))


        def _parse_session_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session_id = _parse_session_id(d.pop("session_id", UNSET))


        content_type = d.pop("content_type", UNSET)

        derived_from = cast(list[str], d.pop("derived_from", UNSET))


        _metadata = d.pop("metadata", UNSET)
        metadata: FlatArtifactCreateRequestMetadata | Unset
        if isinstance(_metadata,  Unset):
            metadata = UNSET
        else:
            metadata = FlatArtifactCreateRequestMetadata.from_dict(_metadata)




        is_primary_deliverable = d.pop("is_primary_deliverable", UNSET)

        flat_artifact_create_request = cls(
            workflow_id=workflow_id,
            artifact_type=artifact_type,
            title=title,
            content=content,
            phase_id=phase_id,
            session_id=session_id,
            content_type=content_type,
            derived_from=derived_from,
            metadata=metadata,
            is_primary_deliverable=is_primary_deliverable,
        )


        flat_artifact_create_request.additional_properties = d
        return flat_artifact_create_request

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
