from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.change_type_enum import ChangeTypeEnum
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.event_item_extra import EventItemExtra





T = TypeVar("T", bound="EventItem")



@_attrs_define
class EventItem:
    """ 
        Attributes:
            event_id (str):
            sequence (int | None): Per session; null outside one.
            namespace_sequence (int):
            kind (str):
            change_type (ChangeTypeEnum): * `created` - created
                * `updated` - updated
                * `deleted` - deleted
            session_id (None | str):
            artifact_id (None | str):
            attachment_id (None | str): The id `GET /api/sessions/{session_id}/artifacts/{id}` serves this file by: the
                attachment's, or for an artifact event the version's (`artifact_id`).
            node_id (None | str):
            path (None | str):
            name (None | str):
            size (int | None):
            mime (None | str):
            hash_ (None | str): sha256:<hex>
            timestamp (int): Epoch seconds.
            created_at (datetime.datetime):
            file_name (None | str): = `name`.
            relative_path (None | str): = `path`.
            mime_type (None | str): = `mime`.
            sha256 (None | str): Bare hex digest.
            data_uri (None | str): Always null on an event; the meta route carries the file's `data_uri`.
            extra (EventItemExtra): Always an empty object (the seed's extra fields).
     """

    event_id: str
    sequence: int | None
    namespace_sequence: int
    kind: str
    change_type: ChangeTypeEnum
    session_id: None | str
    artifact_id: None | str
    attachment_id: None | str
    node_id: None | str
    path: None | str
    name: None | str
    size: int | None
    mime: None | str
    hash_: None | str
    timestamp: int
    created_at: datetime.datetime
    file_name: None | str
    relative_path: None | str
    mime_type: None | str
    sha256: None | str
    data_uri: None | str
    extra: EventItemExtra
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.event_item_extra import EventItemExtra # noqa: PLC0415
        event_id = self.event_id

        sequence: int | None
        sequence = self.sequence

        namespace_sequence = self.namespace_sequence

        kind = self.kind

        change_type = self.change_type.value

        session_id: None | str
        session_id = self.session_id

        artifact_id: None | str
        artifact_id = self.artifact_id

        attachment_id: None | str
        attachment_id = self.attachment_id

        node_id: None | str
        node_id = self.node_id

        path: None | str
        path = self.path

        name: None | str
        name = self.name

        size: int | None
        size = self.size

        mime: None | str
        mime = self.mime

        hash_: None | str
        hash_ = self.hash_

        timestamp = self.timestamp

        created_at = self.created_at.isoformat()

        file_name: None | str
        file_name = self.file_name

        relative_path: None | str
        relative_path = self.relative_path

        mime_type: None | str
        mime_type = self.mime_type

        sha256: None | str
        sha256 = self.sha256

        data_uri: None | str
        data_uri = self.data_uri

        extra = self.extra.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "event_id": event_id,
            "sequence": sequence,
            "namespace_sequence": namespace_sequence,
            "kind": kind,
            "change_type": change_type,
            "session_id": session_id,
            "artifact_id": artifact_id,
            "attachment_id": attachment_id,
            "node_id": node_id,
            "path": path,
            "name": name,
            "size": size,
            "mime": mime,
            "hash": hash_,
            "timestamp": timestamp,
            "created_at": created_at,
            "file_name": file_name,
            "relative_path": relative_path,
            "mime_type": mime_type,
            "sha256": sha256,
            "data_uri": data_uri,
            "extra": extra,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.event_item_extra import EventItemExtra # noqa: PLC0415
        d = dict(src_dict)
        event_id = d.pop("event_id")

        def _parse_sequence(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        sequence = _parse_sequence(d.pop("sequence"))


        namespace_sequence = d.pop("namespace_sequence")

        kind = d.pop("kind")

        change_type = ChangeTypeEnum(d.pop("change_type"))




        def _parse_session_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        session_id = _parse_session_id(d.pop("session_id"))


        def _parse_artifact_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        artifact_id = _parse_artifact_id(d.pop("artifact_id"))


        def _parse_attachment_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        attachment_id = _parse_attachment_id(d.pop("attachment_id"))


        def _parse_node_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        node_id = _parse_node_id(d.pop("node_id"))


        def _parse_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        path = _parse_path(d.pop("path"))


        def _parse_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        name = _parse_name(d.pop("name"))


        def _parse_size(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        size = _parse_size(d.pop("size"))


        def _parse_mime(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        mime = _parse_mime(d.pop("mime"))


        def _parse_hash_(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        hash_ = _parse_hash_(d.pop("hash"))


        timestamp = d.pop("timestamp")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_file_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        file_name = _parse_file_name(d.pop("file_name"))


        def _parse_relative_path(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        relative_path = _parse_relative_path(d.pop("relative_path"))


        def _parse_mime_type(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        mime_type = _parse_mime_type(d.pop("mime_type"))


        def _parse_sha256(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        sha256 = _parse_sha256(d.pop("sha256"))


        def _parse_data_uri(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        data_uri = _parse_data_uri(d.pop("data_uri"))


        extra = EventItemExtra.from_dict(d.pop("extra"))




        event_item = cls(
            event_id=event_id,
            sequence=sequence,
            namespace_sequence=namespace_sequence,
            kind=kind,
            change_type=change_type,
            session_id=session_id,
            artifact_id=artifact_id,
            attachment_id=attachment_id,
            node_id=node_id,
            path=path,
            name=name,
            size=size,
            mime=mime,
            hash_=hash_,
            timestamp=timestamp,
            created_at=created_at,
            file_name=file_name,
            relative_path=relative_path,
            mime_type=mime_type,
            sha256=sha256,
            data_uri=data_uri,
            extra=extra,
        )


        event_item.additional_properties = d
        return event_item

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
