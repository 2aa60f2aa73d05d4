from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.content_encoding_enum import ContentEncodingEnum






T = TypeVar("T", bound="FlatArtifactContentResponse")



@_attrs_define
class FlatArtifactContentResponse:
    """ 
        Attributes:
            artifact_id (str):
            content (str):
            content_type (str):
            content_encoding (ContentEncodingEnum): * `utf-8` - utf-8
                * `base64` - base64
            size_bytes (int):
     """

    artifact_id: str
    content: str
    content_type: str
    content_encoding: ContentEncodingEnum
    size_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        artifact_id = self.artifact_id

        content = self.content

        content_type = self.content_type

        content_encoding = self.content_encoding.value

        size_bytes = self.size_bytes


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact_id": artifact_id,
            "content": content,
            "content_type": content_type,
            "content_encoding": content_encoding,
            "size_bytes": size_bytes,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        artifact_id = d.pop("artifact_id")

        content = d.pop("content")

        content_type = d.pop("content_type")

        content_encoding = ContentEncodingEnum(d.pop("content_encoding"))




        size_bytes = d.pop("size_bytes")

        flat_artifact_content_response = cls(
            artifact_id=artifact_id,
            content=content,
            content_type=content_type,
            content_encoding=content_encoding,
            size_bytes=size_bytes,
        )


        flat_artifact_content_response.additional_properties = d
        return flat_artifact_content_response

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
