from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.patched_session_update_request_metadata import PatchedSessionUpdateRequestMetadata





T = TypeVar("T", bound="PatchedSessionUpdateRequest")



@_attrs_define
class PatchedSessionUpdateRequest:
    """ A request serializer that rejects fields it does not know (seed 001: `[key]: never`)
    and, when its context says the data is a JSON body (`validated` does), values of the
    wrong JSON type.

        Attributes:
            reference (str | Unset):
            user_reference (str | Unset):
            workflow_id (str | Unset):
            metadata (PatchedSessionUpdateRequestMetadata | Unset):
     """

    reference: str | Unset = UNSET
    user_reference: str | Unset = UNSET
    workflow_id: str | Unset = UNSET
    metadata: PatchedSessionUpdateRequestMetadata | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.patched_session_update_request_metadata import PatchedSessionUpdateRequestMetadata # noqa: PLC0415
        reference = self.reference

        user_reference = self.user_reference

        workflow_id = self.workflow_id

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if reference is not UNSET:
            field_dict["reference"] = reference
        if user_reference is not UNSET:
            field_dict["user_reference"] = user_reference
        if workflow_id is not UNSET:
            field_dict["workflow_id"] = workflow_id
        if metadata is not UNSET:
            field_dict["metadata"] = metadata

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.patched_session_update_request_metadata import PatchedSessionUpdateRequestMetadata # noqa: PLC0415
        d = dict(src_dict)
        reference = d.pop("reference", UNSET)

        user_reference = d.pop("user_reference", UNSET)

        workflow_id = d.pop("workflow_id", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: PatchedSessionUpdateRequestMetadata | Unset
        if isinstance(_metadata,  Unset):
            metadata = UNSET
        else:
            metadata = PatchedSessionUpdateRequestMetadata.from_dict(_metadata)




        patched_session_update_request = cls(
            reference=reference,
            user_reference=user_reference,
            workflow_id=workflow_id,
            metadata=metadata,
        )


        patched_session_update_request.additional_properties = d
        return patched_session_update_request

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
