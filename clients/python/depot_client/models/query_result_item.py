from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.artifact_response import ArtifactResponse





T = TypeVar("T", bound="QueryResultItem")



@_attrs_define
class QueryResultItem:
    """ 
        Attributes:
            artifact (ArtifactResponse):
            score (float): Higher is better; comparable within one answer.
            matched_chunk (str): The best-matching piece of the content.
            highlight (str): An excerpt around the matched words.
     """

    artifact: ArtifactResponse
    score: float
    matched_chunk: str
    highlight: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_response import ArtifactResponse # noqa: PLC0415
        artifact = self.artifact.to_dict()

        score = self.score

        matched_chunk = self.matched_chunk

        highlight = self.highlight


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "artifact": artifact,
            "score": score,
            "matched_chunk": matched_chunk,
            "highlight": highlight,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_response import ArtifactResponse # noqa: PLC0415
        d = dict(src_dict)
        artifact = ArtifactResponse.from_dict(d.pop("artifact"))




        score = d.pop("score")

        matched_chunk = d.pop("matched_chunk")

        highlight = d.pop("highlight")

        query_result_item = cls(
            artifact=artifact,
            score=score,
            matched_chunk=matched_chunk,
            highlight=highlight,
        )


        query_result_item.additional_properties = d
        return query_result_item

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
