from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="DownloadUrlResponse")



@_attrs_define
class DownloadUrlResponse:
    """ 
        Attributes:
            artifact_id (str):
            download_url (str):
            expires_in (int):
            file_name (str):
            content_type (str):
            file_size_bytes (int):
     """

    artifact_id: str
    download_url: str
    expires_in: int
    file_name: str
    content_type: str
    file_size_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        artifact_id = self.artifact_id

        download_url = self.download_url

        expires_in = self.expires_in

        file_name = self.file_name

        content_type = self.content_type

        file_size_bytes = self.file_size_bytes


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact_id": artifact_id,
            "download_url": download_url,
            "expires_in": expires_in,
            "file_name": file_name,
            "content_type": content_type,
            "file_size_bytes": file_size_bytes,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        artifact_id = d.pop("artifact_id")

        download_url = d.pop("download_url")

        expires_in = d.pop("expires_in")

        file_name = d.pop("file_name")

        content_type = d.pop("content_type")

        file_size_bytes = d.pop("file_size_bytes")

        download_url_response = cls(
            artifact_id=artifact_id,
            download_url=download_url,
            expires_in=expires_in,
            file_name=file_name,
            content_type=content_type,
            file_size_bytes=file_size_bytes,
        )


        download_url_response.additional_properties = d
        return download_url_response

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
