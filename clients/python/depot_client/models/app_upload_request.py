from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field
import json
from .. import types

from ..types import UNSET, Unset

from ..models.upload_type_enum import UploadTypeEnum
from ..types import File, FileTypes
from ..types import UNSET, Unset
from io import BytesIO






T = TypeVar("T", bound="AppUploadRequest")



@_attrs_define
class AppUploadRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            file (File): The file to upload.
            user_reference (str):
            upload_type (UploadTypeEnum): * `runtime` - runtime
            session_id (str | Unset):
     """

    file: File
    user_reference: str
    upload_type: UploadTypeEnum
    session_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        file = self.file.to_tuple()


        user_reference = self.user_reference

        upload_type = self.upload_type.value

        session_id = self.session_id


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "file": file,
            "userReference": user_reference,
            "uploadType": upload_type,
        })
        if session_id is not UNSET:
            field_dict["sessionId"] = session_id

        return field_dict


    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("file", self.file.to_tuple()))



        files.append(("userReference", (None, str(self.user_reference).encode(), "text/plain")))



        files.append(("uploadType",  (None, str(self.upload_type.value).encode(), "text/plain")))



        if not isinstance(self.session_id, Unset):
            files.append(("sessionId", (None, str(self.session_id).encode(), "text/plain")))




        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        file = File(
             payload = BytesIO(d.pop("file"))
        )




        user_reference = d.pop("userReference")

        upload_type = UploadTypeEnum(d.pop("uploadType"))




        session_id = d.pop("sessionId", UNSET)

        app_upload_request = cls(
            file=file,
            user_reference=user_reference,
            upload_type=upload_type,
            session_id=session_id,
        )


        app_upload_request.additional_properties = d
        return app_upload_request

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
