from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.artifact_response import ArtifactResponse





T = TypeVar("T", bound="ArtifactVersionsResponse")



@_attrs_define
class ArtifactVersionsResponse:
    """ 
        Attributes:
            artifact_id (str):
            versions (list[ArtifactResponse]):
     """

    artifact_id: str
    versions: list[ArtifactResponse]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_response import ArtifactResponse # noqa: PLC0415
        artifact_id = self.artifact_id

        versions = []
        for versions_item_data in self.versions:
            versions_item = versions_item_data.to_dict()
            versions.append(versions_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact_id": artifact_id,
            "versions": versions,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_response import ArtifactResponse # noqa: PLC0415
        d = dict(src_dict)
        artifact_id = d.pop("artifact_id")

        versions = []
        _versions = d.pop("versions")
        for versions_item_data in (_versions):
            versions_item = ArtifactResponse.from_dict(versions_item_data)



            versions.append(versions_item)


        artifact_versions_response = cls(
            artifact_id=artifact_id,
            versions=versions,
        )


        artifact_versions_response.additional_properties = d
        return artifact_versions_response

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
