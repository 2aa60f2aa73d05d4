from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.artifact_response import ArtifactResponse





T = TypeVar("T", bound="ArtifactPageResponse")



@_attrs_define
class ArtifactPageResponse:
    """ 
        Attributes:
            total (int):
            has_more (bool):
            next_cursor (None | str):
            artifacts (list[ArtifactResponse]):
     """

    total: int
    has_more: bool
    next_cursor: None | str
    artifacts: list[ArtifactResponse]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_response import ArtifactResponse # noqa: PLC0415
        total = self.total

        has_more = self.has_more

        next_cursor: None | str
        next_cursor = self.next_cursor

        artifacts = []
        for artifacts_item_data in self.artifacts:
            artifacts_item = artifacts_item_data.to_dict()
            artifacts.append(artifacts_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "total": total,
            "has_more": has_more,
            "next_cursor": next_cursor,
            "artifacts": artifacts,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_response import ArtifactResponse # noqa: PLC0415
        d = dict(src_dict)
        total = d.pop("total")

        has_more = d.pop("has_more")

        def _parse_next_cursor(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor"))


        artifacts = []
        _artifacts = d.pop("artifacts")
        for artifacts_item_data in (_artifacts):
            artifacts_item = ArtifactResponse.from_dict(artifacts_item_data)



            artifacts.append(artifacts_item)


        artifact_page_response = cls(
            total=total,
            has_more=has_more,
            next_cursor=next_cursor,
            artifacts=artifacts,
        )


        artifact_page_response.additional_properties = d
        return artifact_page_response

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
