from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="AttachmentUploadResponse")



@_attrs_define
class AttachmentUploadResponse:
    """ 
        Attributes:
            attachment_id (str):
            name (str):
            mime (str):
            mime_type (str):
            size (int):
            sha256 (str):
            created_at (datetime.datetime):
     """

    attachment_id: str
    name: str
    mime: str
    mime_type: str
    size: int
    sha256: str
    created_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        attachment_id = self.attachment_id

        name = self.name

        mime = self.mime

        mime_type = self.mime_type

        size = self.size

        sha256 = self.sha256

        created_at = self.created_at.isoformat()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attachment_id": attachment_id,
            "name": name,
            "mime": mime,
            "mime_type": mime_type,
            "size": size,
            "sha256": sha256,
            "created_at": created_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attachment_id = d.pop("attachment_id")

        name = d.pop("name")

        mime = d.pop("mime")

        mime_type = d.pop("mime_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        attachment_upload_response = cls(
            attachment_id=attachment_id,
            name=name,
            mime=mime,
            mime_type=mime_type,
            size=size,
            sha256=sha256,
            created_at=created_at,
        )


        attachment_upload_response.additional_properties = d
        return attachment_upload_response

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
