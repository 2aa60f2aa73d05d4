from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PromoteResponse")



@_attrs_define
class PromoteResponse:
    """ 
        Attributes:
            artifact_id (str):
            source_id (str):
            source_name (str):
            message (str):
     """

    artifact_id: str
    source_id: str
    source_name: str
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        artifact_id = self.artifact_id

        source_id = self.source_id

        source_name = self.source_name

        message = self.message


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact_id": artifact_id,
            "source_id": source_id,
            "source_name": source_name,
            "message": message,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        artifact_id = d.pop("artifact_id")

        source_id = d.pop("source_id")

        source_name = d.pop("source_name")

        message = d.pop("message")

        promote_response = cls(
            artifact_id=artifact_id,
            source_id=source_id,
            source_name=source_name,
            message=message,
        )


        promote_response.additional_properties = d
        return promote_response

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
