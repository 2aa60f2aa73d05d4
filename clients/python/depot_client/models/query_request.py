from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="QueryRequest")



@_attrs_define
class QueryRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            query (str): Up to 4,096 characters.
            limit (int | Unset): Default: `10`.
            artifact_types (list[str] | Unset):
            thread_id (str | Unset):
     """

    query: str
    limit: int | Unset = UNSET
    artifact_types: list[str] | Unset = UNSET
    thread_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        query = self.query

        limit = self.limit

        artifact_types: list[str] | Unset = UNSET
        if not isinstance(self.artifact_types, Unset):
            artifact_types = self.artifact_types



        thread_id = self.thread_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "query": query,
        })
        if limit is not UNSET:
            field_dict["limit"] = limit
        if artifact_types is not UNSET:
            field_dict["artifact_types"] = artifact_types
        if thread_id is not UNSET:
            field_dict["thread_id"] = thread_id

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        query = d.pop("query")

        limit = d.pop("limit", UNSET)

        artifact_types = cast(list[str], d.pop("artifact_types", UNSET))


        thread_id = d.pop("thread_id", UNSET)

        query_request = cls(
            query=query,
            limit=limit,
            artifact_types=artifact_types,
            thread_id=thread_id,
        )


        query_request.additional_properties = d
        return query_request

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
