from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="TargetMetadataRequest")



@_attrs_define
class TargetMetadataRequest:
    """ What the file becomes: `session_id` (an attachment), or `namespace` with `artifact_id`
    (its next version) or `name` (a new artifact), as tus's Upload-Metadata names it.

        Attributes:
            session_id (str | Unset):
            filename (str | Unset):
            filetype (str | Unset):
            description (str | Unset):
            namespace (str | Unset):
            artifact_id (str | Unset):
            name (str | Unset):
     """

    session_id: str | Unset = UNSET
    filename: str | Unset = UNSET
    filetype: str | Unset = UNSET
    description: str | Unset = UNSET
    namespace: str | Unset = UNSET
    artifact_id: str | Unset = UNSET
    name: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        filename = self.filename

        filetype = self.filetype

        description = self.description

        namespace = self.namespace

        artifact_id = self.artifact_id

        name = self.name


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if session_id is not UNSET:
            field_dict["session_id"] = session_id
        if filename is not UNSET:
            field_dict["filename"] = filename
        if filetype is not UNSET:
            field_dict["filetype"] = filetype
        if description is not UNSET:
            field_dict["description"] = description
        if namespace is not UNSET:
            field_dict["namespace"] = namespace
        if artifact_id is not UNSET:
            field_dict["artifact_id"] = artifact_id
        if name is not UNSET:
            field_dict["name"] = name

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id", UNSET)

        filename = d.pop("filename", UNSET)

        filetype = d.pop("filetype", UNSET)

        description = d.pop("description", UNSET)

        namespace = d.pop("namespace", UNSET)

        artifact_id = d.pop("artifact_id", UNSET)

        name = d.pop("name", UNSET)

        target_metadata_request = cls(
            session_id=session_id,
            filename=filename,
            filetype=filetype,
            description=description,
            namespace=namespace,
            artifact_id=artifact_id,
            name=name,
        )


        target_metadata_request.additional_properties = d
        return target_metadata_request

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
