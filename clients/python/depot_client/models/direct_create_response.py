from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.presigned_part import PresignedPart





T = TypeVar("T", bound="DirectCreateResponse")



@_attrs_define
class DirectCreateResponse:
    """ 
        Attributes:
            upload_id (str):
            size (int):
            expires_at (datetime.datetime):
            parts (list[PresignedPart]):
     """

    upload_id: str
    size: int
    expires_at: datetime.datetime
    parts: list[PresignedPart]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.presigned_part import PresignedPart # noqa: PLC0415
        upload_id = self.upload_id

        size = self.size

        expires_at = self.expires_at.isoformat()

        parts = []
        for parts_item_data in self.parts:
            parts_item = parts_item_data.to_dict()
            parts.append(parts_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "upload_id": upload_id,
            "size": size,
            "expires_at": expires_at,
            "parts": parts,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.presigned_part import PresignedPart # noqa: PLC0415
        d = dict(src_dict)
        upload_id = d.pop("upload_id")

        size = d.pop("size")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        parts = []
        _parts = d.pop("parts")
        for parts_item_data in (_parts):
            parts_item = PresignedPart.from_dict(parts_item_data)



            parts.append(parts_item)


        direct_create_response = cls(
            upload_id=upload_id,
            size=size,
            expires_at=expires_at,
            parts=parts,
        )


        direct_create_response.additional_properties = d
        return direct_create_response

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
