from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.artifact_update_request_metadata import ArtifactUpdateRequestMetadata





T = TypeVar("T", bound="ArtifactUpdateRequest")



@_attrs_define
class ArtifactUpdateRequest:
    """ Content (or a file, as multipart) makes a new version; the other fields alone change
    the latest version in place.

        Attributes:
            content (str | Unset):
            content_type (str | Unset):
            name (str | Unset):
            description (str | Unset):
            tags (list[str] | Unset):
            keywords (list[str] | Unset):
            summary (str | Unset):
            metadata (ArtifactUpdateRequestMetadata | Unset):
            status (str | Unset):
            is_pinned (bool | Unset):
            ttl_seconds (int | None | Unset):
     """

    content: str | Unset = UNSET
    content_type: str | Unset = UNSET
    name: str | Unset = UNSET
    description: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    keywords: list[str] | Unset = UNSET
    summary: str | Unset = UNSET
    metadata: ArtifactUpdateRequestMetadata | Unset = UNSET
    status: str | Unset = UNSET
    is_pinned: bool | Unset = UNSET
    ttl_seconds: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_update_request_metadata import ArtifactUpdateRequestMetadata # noqa: PLC0415
        content = self.content

        content_type = self.content_type

        name = self.name

        description = self.description

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags



        keywords: list[str] | Unset = UNSET
        if not isinstance(self.keywords, Unset):
            keywords = self.keywords



        summary = self.summary

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        status = self.status

        is_pinned = self.is_pinned

        ttl_seconds: int | None | Unset
        if isinstance(self.ttl_seconds, Unset):
            ttl_seconds = UNSET
        else:
            ttl_seconds = self.ttl_seconds


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
        })
        if content is not UNSET:
            field_dict["content"] = content
        if content_type is not UNSET:
            field_dict["content_type"] = content_type
        if name is not UNSET:
            field_dict["name"] = name
        if description is not UNSET:
            field_dict["description"] = description
        if tags is not UNSET:
            field_dict["tags"] = tags
        if keywords is not UNSET:
            field_dict["keywords"] = keywords
        if summary is not UNSET:
            field_dict["summary"] = summary
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if status is not UNSET:
            field_dict["status"] = status
        if is_pinned is not UNSET:
            field_dict["is_pinned"] = is_pinned
        if ttl_seconds is not UNSET:
            field_dict["ttl_seconds"] = ttl_seconds

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_update_request_metadata import ArtifactUpdateRequestMetadata # noqa: PLC0415
        d = dict(src_dict)
        content = d.pop("content", UNSET)

        content_type = d.pop("content_type", UNSET)

        name = d.pop("name", UNSET)

        description = d.pop("description", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))


        keywords = cast(list[str], d.pop("keywords", UNSET))


        summary = d.pop("summary", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: ArtifactUpdateRequestMetadata | Unset
        if isinstance(_metadata,  Unset):
            metadata = UNSET
        else:
            metadata = ArtifactUpdateRequestMetadata.from_dict(_metadata)




        status = d.pop("status", UNSET)

        is_pinned = d.pop("is_pinned", UNSET)

        def _parse_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_seconds = _parse_ttl_seconds(d.pop("ttl_seconds", UNSET))


        artifact_update_request = cls(
            content=content,
            content_type=content_type,
            name=name,
            description=description,
            tags=tags,
            keywords=keywords,
            summary=summary,
            metadata=metadata,
            status=status,
            is_pinned=is_pinned,
            ttl_seconds=ttl_seconds,
        )


        artifact_update_request.additional_properties = d
        return artifact_update_request

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
