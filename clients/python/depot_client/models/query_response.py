from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.mode_enum import ModeEnum
from typing import cast

if TYPE_CHECKING:
  from ..models.query_result_item import QueryResultItem





T = TypeVar("T", bound="QueryResponse")



@_attrs_define
class QueryResponse:
    """ 
        Attributes:
            results (list[QueryResultItem]):
            combined_context (str): The matched chunks, best first, within DEPOT_SEARCH_CONTEXT_CHARS.
            total_results (int): How many artifacts contain at least one of the words (exact when total_results_exact, else
                a lower bound).
            total_results_exact (bool): false when a word was common enough that only its newest matches were ranked
                (DEPOT_SEARCH_RANK_WINDOW): total_results then counts those.
            query (str):
            mode (ModeEnum): * `lexical` - lexical
                * `hybrid` - hybrid
     """

    results: list[QueryResultItem]
    combined_context: str
    total_results: int
    total_results_exact: bool
    query: str
    mode: ModeEnum
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.query_result_item import QueryResultItem # noqa: PLC0415
        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)



        combined_context = self.combined_context

        total_results = self.total_results

        total_results_exact = self.total_results_exact

        query = self.query

        mode = self.mode.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "results": results,
            "combined_context": combined_context,
            "total_results": total_results,
            "total_results_exact": total_results_exact,
            "query": query,
            "mode": mode,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.query_result_item import QueryResultItem # noqa: PLC0415
        d = dict(src_dict)
        results = []
        _results = d.pop("results")
        for results_item_data in (_results):
            results_item = QueryResultItem.from_dict(results_item_data)



            results.append(results_item)


        combined_context = d.pop("combined_context")

        total_results = d.pop("total_results")

        total_results_exact = d.pop("total_results_exact")

        query = d.pop("query")

        mode = ModeEnum(d.pop("mode"))




        query_response = cls(
            results=results,
            combined_context=combined_context,
            total_results=total_results,
            total_results_exact=total_results_exact,
            query=query,
            mode=mode,
        )


        query_response.additional_properties = d
        return query_response

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
