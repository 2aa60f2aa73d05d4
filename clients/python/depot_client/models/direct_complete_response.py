from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="DirectCompleteResponse")



@_attrs_define
class DirectCompleteResponse:
    """ 
        Attributes:
            upload_id (str):
            result_id (str): The attachment or artifact version made.
            size (int):
            sha256 (str):
     """

    upload_id: str
    result_id: str
    size: int
    sha256: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        upload_id = self.upload_id

        result_id = self.result_id

        size = self.size

        sha256 = self.sha256


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "upload_id": upload_id,
            "result_id": result_id,
            "size": size,
            "sha256": sha256,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        upload_id = d.pop("upload_id")

        result_id = d.pop("result_id")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        direct_complete_response = cls(
            upload_id=upload_id,
            result_id=result_id,
            size=size,
            sha256=sha256,
        )


        direct_complete_response.additional_properties = d
        return direct_complete_response

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
