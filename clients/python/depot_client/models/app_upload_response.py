from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="AppUploadResponse")



@_attrs_define
class AppUploadResponse:
    """ 
        Attributes:
            file_id (str):
            file_name (str):
            file_path (str):
            file_size (int):
            mime_type (str):
            extension (str):
            uploaded_at (str):
     """

    file_id: str
    file_name: str
    file_path: str
    file_size: int
    mime_type: str
    extension: str
    uploaded_at: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file_id = self.file_id

        file_name = self.file_name

        file_path = self.file_path

        file_size = self.file_size

        mime_type = self.mime_type

        extension = self.extension

        uploaded_at = self.uploaded_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "fileId": file_id,
            "fileName": file_name,
            "filePath": file_path,
            "fileSize": file_size,
            "mimeType": mime_type,
            "extension": extension,
            "uploadedAt": uploaded_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file_id = d.pop("fileId")

        file_name = d.pop("fileName")

        file_path = d.pop("filePath")

        file_size = d.pop("fileSize")

        mime_type = d.pop("mimeType")

        extension = d.pop("extension")

        uploaded_at = d.pop("uploadedAt")

        app_upload_response = cls(
            file_id=file_id,
            file_name=file_name,
            file_path=file_path,
            file_size=file_size,
            mime_type=mime_type,
            extension=extension,
            uploaded_at=uploaded_at,
        )


        app_upload_response.additional_properties = d
        return app_upload_response

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
