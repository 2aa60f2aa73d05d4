from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.target_metadata_request import TargetMetadataRequest





T = TypeVar("T", bound="DirectCreateRequest")



@_attrs_define
class DirectCreateRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            size (int):
            parts (int):
            metadata (TargetMetadataRequest): What the file becomes: `session_id` (an attachment), or `namespace` with
                `artifact_id`
                (its next version) or `name` (a new artifact), as tus's Upload-Metadata names it.
     """

    size: int
    parts: int
    metadata: TargetMetadataRequest
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.target_metadata_request import TargetMetadataRequest # noqa: PLC0415
        size = self.size

        parts = self.parts

        metadata = self.metadata.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "size": size,
            "parts": parts,
            "metadata": metadata,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.target_metadata_request import TargetMetadataRequest # noqa: PLC0415
        d = dict(src_dict)
        size = d.pop("size")

        parts = d.pop("parts")

        metadata = TargetMetadataRequest.from_dict(d.pop("metadata"))




        direct_create_request = cls(
            size=size,
            parts=parts,
            metadata=metadata,
        )


        direct_create_request.additional_properties = d
        return direct_create_request

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
