from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.scope_enum import ScopeEnum
from typing import cast

if TYPE_CHECKING:
  from ..models.usage_kind import UsageKind





T = TypeVar("T", bound="UsageResponse")



@_attrs_define
class UsageResponse:
    """ 
        Attributes:
            organization (str):
            scope (ScopeEnum): * `organization` - organization
                * `workspace` - workspace
            bytes_used (int):
            quota_bytes (int | None): null: no quota.
            remaining_bytes (int | None):
            attachments (UsageKind):
            artifacts (UsageKind):
     """

    organization: str
    scope: ScopeEnum
    bytes_used: int
    quota_bytes: int | None
    remaining_bytes: int | None
    attachments: UsageKind
    artifacts: UsageKind
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.usage_kind import UsageKind # noqa: PLC0415
        organization = self.organization

        scope = self.scope.value

        bytes_used = self.bytes_used

        quota_bytes: int | None
        quota_bytes = self.quota_bytes

        remaining_bytes: int | None
        remaining_bytes = self.remaining_bytes

        attachments = self.attachments.to_dict()

        artifacts = self.artifacts.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "organization": organization,
            "scope": scope,
            "bytes_used": bytes_used,
            "quota_bytes": quota_bytes,
            "remaining_bytes": remaining_bytes,
            "attachments": attachments,
            "artifacts": artifacts,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.usage_kind import UsageKind # noqa: PLC0415
        d = dict(src_dict)
        organization = d.pop("organization")

        scope = ScopeEnum(d.pop("scope"))




        bytes_used = d.pop("bytes_used")

        def _parse_quota_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        quota_bytes = _parse_quota_bytes(d.pop("quota_bytes"))


        def _parse_remaining_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        remaining_bytes = _parse_remaining_bytes(d.pop("remaining_bytes"))


        attachments = UsageKind.from_dict(d.pop("attachments"))




        artifacts = UsageKind.from_dict(d.pop("artifacts"))




        usage_response = cls(
            organization=organization,
            scope=scope,
            bytes_used=bytes_used,
            quota_bytes=quota_bytes,
            remaining_bytes=remaining_bytes,
            attachments=attachments,
            artifacts=artifacts,
        )


        usage_response.additional_properties = d
        return usage_response

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
