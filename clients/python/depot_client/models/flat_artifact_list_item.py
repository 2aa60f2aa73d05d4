from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="FlatArtifactListItem")



@_attrs_define
class FlatArtifactListItem:
    """ 
        Attributes:
            id (str):
            workflow_id (str):
            phase_id (None | str):
            artifact_type (str):
            title (str):
            size_bytes (int):
            created_at (datetime.datetime):
     """

    id: str
    workflow_id: str
    phase_id: None | str
    artifact_type: str
    title: str
    size_bytes: int
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        id = self.id

        workflow_id = self.workflow_id

        phase_id: None | str
        phase_id = self.phase_id

        artifact_type = self.artifact_type

        title = self.title

        size_bytes = self.size_bytes

        created_at = self.created_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "id": id,
            "workflow_id": workflow_id,
            "phase_id": phase_id,
            "artifact_type": artifact_type,
            "title": title,
            "size_bytes": size_bytes,
            "created_at": created_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        workflow_id = d.pop("workflow_id")

        def _parse_phase_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        phase_id = _parse_phase_id(d.pop("phase_id"))


        artifact_type = d.pop("artifact_type")

        title = d.pop("title")

        size_bytes = d.pop("size_bytes")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        flat_artifact_list_item = cls(
            id=id,
            workflow_id=workflow_id,
            phase_id=phase_id,
            artifact_type=artifact_type,
            title=title,
            size_bytes=size_bytes,
            created_at=created_at,
        )


        flat_artifact_list_item.additional_properties = d
        return flat_artifact_list_item

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
