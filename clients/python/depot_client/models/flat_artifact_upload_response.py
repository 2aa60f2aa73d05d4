from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="FlatArtifactUploadResponse")



@_attrs_define
class FlatArtifactUploadResponse:
    """ 
        Attributes:
            artifact_id (str):
            storage_url (str):
            status (str):
     """

    artifact_id: str
    storage_url: str
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        artifact_id = self.artifact_id

        storage_url = self.storage_url

        status = self.status


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact_id": artifact_id,
            "storage_url": storage_url,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        artifact_id = d.pop("artifact_id")

        storage_url = d.pop("storage_url")

        status = d.pop("status")

        flat_artifact_upload_response = cls(
            artifact_id=artifact_id,
            storage_url=storage_url,
            status=status,
        )


        flat_artifact_upload_response.additional_properties = d
        return flat_artifact_upload_response

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
