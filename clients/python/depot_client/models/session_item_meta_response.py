from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="SessionItemMetaResponse")



@_attrs_define
class SessionItemMetaResponse:
    """ Seed-000 meta for an attachment or an artifact (`artifact_id` null for attachments).

        Attributes:
            attachment_id (str):
            artifact_id (None | str):
            name (str):
            mime (str):
            mime_type (str):
            size (int):
            sha256 (str):
            created_at (datetime.datetime):
            data_uri (None | str): Present for files up to DEPOT_DATA_URI_MAX_BYTES, else null.
            purged (bool):
     """

    attachment_id: str
    artifact_id: None | str
    name: str
    mime: str
    mime_type: str
    size: int
    sha256: str
    created_at: datetime.datetime
    data_uri: None | str
    purged: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        attachment_id = self.attachment_id

        artifact_id: None | str
        artifact_id = self.artifact_id

        name = self.name

        mime = self.mime

        mime_type = self.mime_type

        size = self.size

        sha256 = self.sha256

        created_at = self.created_at.isoformat()

        data_uri: None | str
        data_uri = self.data_uri

        purged = self.purged


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "attachment_id": attachment_id,
            "artifact_id": artifact_id,
            "name": name,
            "mime": mime,
            "mime_type": mime_type,
            "size": size,
            "sha256": sha256,
            "created_at": created_at,
            "data_uri": data_uri,
            "purged": purged,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attachment_id = d.pop("attachment_id")

        def _parse_artifact_id(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        artifact_id = _parse_artifact_id(d.pop("artifact_id"))


        name = d.pop("name")

        mime = d.pop("mime")

        mime_type = d.pop("mime_type")

        size = d.pop("size")

        sha256 = d.pop("sha256")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        def _parse_data_uri(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        data_uri = _parse_data_uri(d.pop("data_uri"))


        purged = d.pop("purged")

        session_item_meta_response = cls(
            attachment_id=attachment_id,
            artifact_id=artifact_id,
            name=name,
            mime=mime,
            mime_type=mime_type,
            size=size,
            sha256=sha256,
            created_at=created_at,
            data_uri=data_uri,
            purged=purged,
        )


        session_item_meta_response.additional_properties = d
        return session_item_meta_response

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
