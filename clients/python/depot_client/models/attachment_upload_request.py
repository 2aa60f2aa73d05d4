from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO






T = TypeVar("T", bound="AttachmentUploadRequest")



@_attrs_define
class AttachmentUploadRequest:
    """ Text fields of `POST /api/uploads/{session_id}`; the file itself is the `file` part.

        Attributes:
            file (File): The file (multipart part named `file`).
            description (str | Unset):
            metadata (str | Unset): A JSON object, as a string.
            node_id (str | Unset):
            path (str | Unset): Workspace-relative path.
     """

    file: File
    description: str | Unset = UNSET
    metadata: str | Unset = UNSET
    node_id: str | Unset = UNSET
    path: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        description = self.description

        metadata = self.metadata

        node_id = self.node_id

        path = self.path


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
        })
        if description is not UNSET:
            field_dict["description"] = description
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if node_id is not UNSET:
            field_dict["node_id"] = node_id
        if path is not UNSET:
            field_dict["path"] = path

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        if not isinstance(self.description, Unset):
            files.append(("description", (None, str(self.description).encode(), "text/plain")))



        if not isinstance(self.metadata, Unset):
            files.append(("metadata", (None, str(self.metadata).encode(), "text/plain")))



        if not isinstance(self.node_id, Unset):
            files.append(("node_id", (None, str(self.node_id).encode(), "text/plain")))



        if not isinstance(self.path, Unset):
            files.append(("path", (None, str(self.path).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        description = d.pop("description", UNSET)

        metadata = d.pop("metadata", UNSET)

        node_id = d.pop("node_id", UNSET)

        path = d.pop("path", UNSET)

        attachment_upload_request = cls(
            file=file,
            description=description,
            metadata=metadata,
            node_id=node_id,
            path=path,
        )


        attachment_upload_request.additional_properties = d
        return attachment_upload_request

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
