from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.session_status_enum import SessionStatusEnum
from typing import cast
import datetime






T = TypeVar("T", bound="SessionResponse")



@_attrs_define
class SessionResponse:
    """ 
        Attributes:
            session_id (str):
            status (SessionStatusEnum): * `active` - Active
                * `completed` - Completed
                * `failed` - Failed
            reference (str):
            user_reference (str):
            workflow_id (str):
            metadata (Any):
            workspace (str):
            namespace (str):
            created_at (datetime.datetime):
            updated_at (datetime.datetime):
            completed_at (datetime.datetime | None):
     """

    session_id: str
    status: SessionStatusEnum
    reference: str
    user_reference: str
    workflow_id: str
    metadata: Any
    workspace: str
    namespace: str
    created_at: datetime.datetime
    updated_at: datetime.datetime
    completed_at: datetime.datetime | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        session_id = self.session_id

        status = self.status.value

        reference = self.reference

        user_reference = self.user_reference

        workflow_id = self.workflow_id

        metadata = self.metadata

        workspace = self.workspace

        namespace = self.namespace

        created_at = self.created_at.isoformat()

        updated_at = self.updated_at.isoformat()

        completed_at: None | str
        if isinstance(self.completed_at, datetime.datetime):
            completed_at = self.completed_at.isoformat()
        else:
            completed_at = self.completed_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "session_id": session_id,
            "status": status,
            "reference": reference,
            "user_reference": user_reference,
            "workflow_id": workflow_id,
            "metadata": metadata,
            "workspace": workspace,
            "namespace": namespace,
            "created_at": created_at,
            "updated_at": updated_at,
            "completed_at": completed_at,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        session_id = d.pop("session_id")

        status = SessionStatusEnum(d.pop("status"))




        reference = d.pop("reference")

        user_reference = d.pop("user_reference")

        workflow_id = d.pop("workflow_id")

        metadata = d.pop("metadata")

        workspace = d.pop("workspace")

        namespace = d.pop("namespace")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))




        def _parse_completed_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                completed_at_type_0 = datetime.datetime.fromisoformat(data)



                return completed_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        completed_at = _parse_completed_at(d.pop("completed_at"))


        session_response = cls(
            session_id=session_id,
            status=status,
            reference=reference,
            user_reference=user_reference,
            workflow_id=workflow_id,
            metadata=metadata,
            workspace=workspace,
            namespace=namespace,
            created_at=created_at,
            updated_at=updated_at,
            completed_at=completed_at,
        )


        session_response.additional_properties = d
        return session_response

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
