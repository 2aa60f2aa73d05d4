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
from typing import cast

if TYPE_CHECKING:
  from ..models.artifact_update_form_metadata import ArtifactUpdateFormMetadata





T = TypeVar("T", bound="ArtifactUpdateForm")



@_attrs_define
class ArtifactUpdateForm:
    """ Content (or a file, as multipart) makes a new version; the other fields alone change
    the latest version in place.

        Attributes:
            content (str | Unset):
            content_type (str | Unset):
            file (File | Unset):
            name (str | Unset):
            description (str | Unset):
            tags (list[str] | Unset):
            keywords (list[str] | Unset):
            summary (str | Unset):
            metadata (ArtifactUpdateFormMetadata | Unset):
            status (str | Unset):
            is_pinned (bool | Unset):
            ttl_seconds (int | None | Unset):
     """

    content: str | Unset = UNSET
    content_type: str | Unset = UNSET
    file: File | Unset = UNSET
    name: str | Unset = UNSET
    description: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    keywords: list[str] | Unset = UNSET
    summary: str | Unset = UNSET
    metadata: ArtifactUpdateFormMetadata | Unset = UNSET
    status: str | Unset = UNSET
    is_pinned: bool | Unset = UNSET
    ttl_seconds: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.artifact_update_form_metadata import ArtifactUpdateFormMetadata # noqa: PLC0415
        content = self.content

        content_type = self.content_type

        file: FileTypes | Unset = UNSET
        if not isinstance(self.file, Unset):
            file = self.file.to_tuple()


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
        if file is not UNSET:
            field_dict["file"] = file
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


    def to_multipart(self) -> types.RequestFiles:
        from ..models.artifact_update_form_metadata import ArtifactUpdateFormMetadata # noqa: PLC0415
        files: types.RequestFiles = []

        if not isinstance(self.content, Unset):
            files.append(("content", (None, str(self.content).encode(), "text/plain")))



        if not isinstance(self.content_type, Unset):
            files.append(("content_type", (None, str(self.content_type).encode(), "text/plain")))



        if not isinstance(self.file, Unset):
            files.append(("file", self.file.to_tuple()))



        if not isinstance(self.name, Unset):
            files.append(("name", (None, str(self.name).encode(), "text/plain")))



        if not isinstance(self.description, Unset):
            files.append(("description", (None, str(self.description).encode(), "text/plain")))



        if not isinstance(self.tags, Unset):
            for tags_item_element in self.tags:
                files.append(("tags", (None, str(tags_item_element).encode(), "text/plain")))




        if not isinstance(self.keywords, Unset):
            for keywords_item_element in self.keywords:
                files.append(("keywords", (None, str(keywords_item_element).encode(), "text/plain")))




        if not isinstance(self.summary, Unset):
            files.append(("summary", (None, str(self.summary).encode(), "text/plain")))



        if not isinstance(self.metadata, Unset):
            files.append(("metadata", (None, json.dumps( self.metadata.to_dict()).encode(), "application/json")))



        if not isinstance(self.status, Unset):
            files.append(("status", (None, str(self.status).encode(), "text/plain")))



        if not isinstance(self.is_pinned, Unset):
            files.append(("is_pinned", (None, str(self.is_pinned).encode(), "text/plain")))



        if not isinstance(self.ttl_seconds, Unset):
            if isinstance(self.ttl_seconds, int):

                files.append(("ttl_seconds", (None, str(self.ttl_seconds).encode(), "text/plain")))
            else:
                files.append(("ttl_seconds", (None, str(self.ttl_seconds).encode(), "text/plain")))



        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))



        return files


    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.artifact_update_form_metadata import ArtifactUpdateFormMetadata # noqa: PLC0415
        d = dict(src_dict)
        content = d.pop("content", UNSET)

        content_type = d.pop("content_type", UNSET)

        _file = d.pop("file", UNSET)
        file: File | Unset
        if isinstance(_file,  Unset):
            file = UNSET
        else:
            file = File(
             payload = BytesIO(_file)
        )




        name = d.pop("name", UNSET)

        description = d.pop("description", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))


        keywords = cast(list[str], d.pop("keywords", UNSET))


        summary = d.pop("summary", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: ArtifactUpdateFormMetadata | Unset
        if isinstance(_metadata,  Unset):
            metadata = UNSET
        else:
            metadata = ArtifactUpdateFormMetadata.from_dict(_metadata)




        status = d.pop("status", UNSET)

        is_pinned = d.pop("is_pinned", UNSET)

        def _parse_ttl_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        ttl_seconds = _parse_ttl_seconds(d.pop("ttl_seconds", UNSET))


        artifact_update_form = cls(
            content=content,
            content_type=content_type,
            file=file,
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


        artifact_update_form.additional_properties = d
        return artifact_update_form

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
