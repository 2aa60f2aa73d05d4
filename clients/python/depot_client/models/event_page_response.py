from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.event_item import EventItem





T = TypeVar("T", bound="EventPageResponse")



@_attrs_define
class EventPageResponse:
    """ 
        Attributes:
            events (list[EventItem]):
            next_cursor (int):
            has_more (bool):
            timed_out (bool):
     """

    events: list[EventItem]
    next_cursor: int
    has_more: bool
    timed_out: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.event_item import EventItem # noqa: PLC0415
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.to_dict()
            events.append(events_item)



        next_cursor = self.next_cursor

        has_more = self.has_more

        timed_out = self.timed_out


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "events": events,
            "next_cursor": next_cursor,
            "has_more": has_more,
            "timed_out": timed_out,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_item import EventItem # noqa: PLC0415
        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in (_events):
            events_item = EventItem.from_dict(events_item_data)



            events.append(events_item)


        next_cursor = d.pop("next_cursor")

        has_more = d.pop("has_more")

        timed_out = d.pop("timed_out")

        event_page_response = cls(
            events=events,
            next_cursor=next_cursor,
            has_more=has_more,
            timed_out=timed_out,
        )


        event_page_response.additional_properties = d
        return event_page_response

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
