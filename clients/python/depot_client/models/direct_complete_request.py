from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.completed_part_request import CompletedPartRequest





T = TypeVar("T", bound="DirectCompleteRequest")



@_attrs_define
class DirectCompleteRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            parts (list[CompletedPartRequest]):
     """

    parts: list[CompletedPartRequest]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.completed_part_request import CompletedPartRequest # noqa: PLC0415
        parts = []
        for parts_item_data in self.parts:
            parts_item = parts_item_data.to_dict()
            parts.append(parts_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "parts": parts,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.completed_part_request import CompletedPartRequest # noqa: PLC0415
        d = dict(src_dict)
        parts = []
        _parts = d.pop("parts")
        for parts_item_data in (_parts):
            parts_item = CompletedPartRequest.from_dict(parts_item_data)



            parts.append(parts_item)


        direct_complete_request = cls(
            parts=parts,
        )


        direct_complete_request.additional_properties = d
        return direct_complete_request

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
