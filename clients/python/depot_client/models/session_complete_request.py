from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.session_complete_status_enum import SessionCompleteStatusEnum
from ..types import UNSET, Unset






T = TypeVar("T", bound="SessionCompleteRequest")



@_attrs_define
class SessionCompleteRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            status (SessionCompleteStatusEnum | Unset): * `completed` - completed
                * `failed` - failed
     """

    status: SessionCompleteStatusEnum | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        status: str | Unset = UNSET
        if not isinstance(self.status, Unset):
            status = self.status.value



        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _status = d.pop("status", UNSET)
        status: SessionCompleteStatusEnum | Unset
        if isinstance(_status,  Unset):
            status = UNSET
        else:
            status = SessionCompleteStatusEnum(_status)




        session_complete_request = cls(
            status=status,
        )


        session_complete_request.additional_properties = d
        return session_complete_request

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
