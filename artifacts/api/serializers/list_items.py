"""Seed 002's list page from its rows (artifacts.list_pages.artifact_page): each item as
ArtifactResponse renders the instance, and the page's JSON written with each text encoded
once. The rows' texts repeat: `content_text` is `content` but where an extractor made it
(HTML, files), and `content_preview` is its first 500 characters, so about 40% of a page's
JSON was the same text encoded again (issue 11)."""

import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.compat import INDENT_SEPARATORS, LONG_SEPARATORS, SHORT_SEPARATORS
from rest_framework.renderers import JSONRenderer

from artifacts.api.serializers.namespaced import ArtifactResponse
from artifacts.list_pages import PageRows
from artifacts.models import PREVIEW_CHARS
from sessions_app.models import Namespace

TEXTS = ("content", "content_preview", "content_text")
# A text's marker as JSON writes it: NUL, the nonce, its number (secrets.token_hex(8)).
MARKER = re.compile(r'"\\u0000([0-9a-f]{16}):(\d+)"')


class RenderedPage(dict[str, Any]):
    """The page's data, which any renderer renders as it renders a dict, and which
    `render` writes as JSONRenderer does with each item's texts encoded once."""

    def render(self, encoder: Any) -> bytes:
        """What JSONRenderer makes of this page with `encoder` (`encoder.encode(self)`,
        U+2028 and U+2029 escaped, UTF-8), each text encoded once: the page is encoded in one
        call with a marker for each text (the request's own random nonce after a NUL), then
        each marker replaced by its text's encoding, `content`'s for `content_text` and
        `content_preview` where they are the same text. The pieces are joined as bytes, so no
        wide text is copied again. Should the markers not come back each once and in order
        (a stored value that is one of them), the page is encoded as it is instead."""
        nonce = secrets.token_hex(8)
        # Each marker's text, None where it is its item's content (encoded just before it).
        texts: list[tuple[str, str | None]] = []
        items = []
        for item in self["artifacts"]:
            marked, content = dict(item), item["content"]
            for name in TEXTS:
                value = item[name]
                if type(value) is str:
                    marked[name] = f"\x00{nonce}:{len(texts)}"
                    same = name != "content" and type(content) is str and value == content
                    texts.append((name, None if same else value))
            items.append(marked)
        pieces = MARKER.split(encoder.encode({**self, "artifacts": items}))
        if (
            encoder.encode("\x00") != '"\\u0000"'
            or pieces[1::3] != [nonce] * len(texts)
            or pieces[2::3] != [str(index) for index in range(len(texts))]
        ):
            return _bytes(encoder.encode(self))
        out = [_bytes(pieces[0])]
        content_written = b""
        # orjson writes a string as json does without ensure_ascii (tests/test_list_render.py
        # and test_list_rows check it over arbitrary text), at a fraction of the cost.
        fast = not encoder.ensure_ascii
        for index, (name, text) in enumerate(texts):
            if text is None:
                written = content_written
            else:
                written = _text(text) if fast else _bytes(encoder.encode(text))
            if name == "content":
                content_written = written
            out += (written, _bytes(pieces[3 * index + 3]))
        return b"".join(out)


def _text(text: str) -> bytes:
    """A text's JSON string as _bytes writes it (ensure_ascii off)."""
    try:
        written = orjson.dumps(text)
    except TypeError:  # a lone surrogate (orjson.JSONEncodeError is a TypeError)
        return _bytes(json.dumps(text, ensure_ascii=False))
    return written.replace(_LS, rb"\u2028").replace(_PS, rb"\u2029")


_LS, _PS = "\u2028".encode(), "\u2029".encode()


def _bytes(text: str) -> bytes:
    # As JSONRenderer: U+2028 and U+2029 escaped (for JavaScript), then UTF-8.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


class PageJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, which renders a RenderedPage (the same bytes) by its `render`."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        if not isinstance(data, RenderedPage):
            return super().render(data, accepted_media_type, renderer_context)
        # JSONRenderer.render's json.dumps, its encoder made as json.dumps makes it.
        indent = self.get_indent(accepted_media_type or "", renderer_context or {})
        if indent is None:
            separators = SHORT_SEPARATORS if self.compact else LONG_SEPARATORS
        else:
            separators = INDENT_SEPARATORS
        encoder = self.encoder_class(
            ensure_ascii=self.ensure_ascii,
            allow_nan=not self.strict,
            indent=indent,
            separators=separators,
        )
        return data.render(encoder)


class _Items:
    """An ArtifactResponse item from a converted row, field by field as DRF renders the
    instance: str and int columns as they are (the database's own types), the lists and the
    object as ListField and DictField copy them, the times as DateTimeField writes them; a
    value of any other kind goes through the serializer's own field."""

    _fields: dict[str, Any] | None = None

    def __init__(self, namespace: Namespace) -> None:
        if _Items._fields is None:
            _Items._fields = dict(ArtifactResponse().fields)
        self.fields = _Items._fields
        self.workspace, self.namespace = namespace.workspace.slug, namespace.slug
        # DateTimeField's zone (USE_TZ): the current one, as it asks per value.
        self.zone = timezone.get_current_timezone() if settings.USE_TZ else None
        # UTC itself (not a zone that is at +00:00 now): its times need only their "Z".
        self.utc = self.zone is not None and str(self.zone) == "UTC"

    def _utc_text(self, name: str, value: Any) -> Any:
        """A time read as list_pages.TIME_TEXT's text, as DateTimeField writes it."""
        if type(value) is not str:
            return self._time(name, value)
        if len(value) == 26 and value[19] == "." and value.endswith(".000000"):
            value = value[:19]  # isoformat writes no microseconds when there are none
        if self.utc and (len(value) == 19 or (len(value) == 26 and value[19] == ".")):
            return value + "Z"
        found = parse_datetime(value)
        if found is not None and timezone.is_naive(found):
            found = found.replace(tzinfo=UTC)
        return self._time(name, found if found is not None else value)

    def _time(self, name: str, value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is not None and self.zone is not None:
            text = value.astimezone(self.zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return None if value is None else self.fields[name].to_representation(value)

    def _strings(self, name: str, value: Any) -> Any:
        if type(value) is list:
            return [None if item is None else str(item) for item in value]
        return None if value is None else self.fields[name].to_representation(value)

    def _object(self, name: str, value: Any) -> Any:
        if type(value) is dict:
            return {str(key): item for key, item in value.items()}
        return None if value is None else self.fields[name].to_representation(value)

    def item(self, row: tuple[Any, ...]) -> dict[str, Any]:
        (
            pk, artifact_id, root_id, version, is_latest, replaced_by_version, name,
            description, artifact_type, workflow_id, phase_id, content, file_name,
            content_type, size_bytes, blob_id, content_hash, summary, keywords, tags, metadata,
            source, source_execution_id, source_step_id, source_tool, scope, status,
            is_primary_deliverable, ttl_seconds, expires_at, is_pinned, index_status,
            is_indexed, indexed_at, index_collection, index_error, index_attempts,
            embedding_model_id, chunk_count, created_by, created_at, updated_at,
            unlike_content, root_public_id, thread_id, session_id, source_id,
        ) = row[:47]  # fmt: skip
        # content_text only where it differs from content; content_preview is its start.
        text = (content or "") if unlike_content is None else unlike_content
        if root_id is None or root_id == pk or root_public_id is None:
            root_public_id = artifact_id  # Artifact.root_artifact_id
        expired = bool(expires_at and not is_pinned and expires_at <= timezone.now())
        return {
            "artifact_id": artifact_id,
            "workspace_id": self.workspace,
            "namespace_id": self.namespace,
            "thread_id": thread_id,
            "session_id": session_id,
            "name": name,
            "description": description,
            "artifact_type": artifact_type,
            "workflow_id": workflow_id,
            "phase_id": phase_id,
            "version": version,
            "root_artifact_id": root_public_id,
            "is_latest": bool(is_latest),
            "replaced_by_version": replaced_by_version,
            "content": content,
            "content_preview": text[:PREVIEW_CHARS],
            "content_text": text,
            "file_name": file_name or None,
            "mime_type": content_type,
            "size_bytes": size_bytes,
            "has_file": blob_id is not None,
            "content_hash": content_hash,
            "summary": summary,
            "keywords": self._strings("keywords", keywords),
            "tags": self._strings("tags", tags),
            "metadata": self._object("metadata", metadata),
            "source": source,
            "source_execution_id": source_execution_id,
            "source_step_id": source_step_id,
            "source_tool": source_tool,
            "scope": scope,
            "status": status,
            "is_primary_deliverable": bool(is_primary_deliverable),
            "ttl_seconds": ttl_seconds,
            "expires_at": self._time("expires_at", expires_at),
            "is_pinned": bool(is_pinned),
            "is_expired": expired,
            "index_status": index_status,
            "is_indexed": bool(is_indexed),
            "indexed_at": self._utc_text("indexed_at", indexed_at),
            "index_collection": index_collection,
            "index_error": index_error,
            "index_attempts": index_attempts,
            "embedding_model_id": embedding_model_id,
            "chunk_count": chunk_count,
            "promoted_to_source_id": source_id,
            "created_by": created_by,
            "created_at": self._utc_text("created_at", created_at),
            "updated_at": self._utc_text("updated_at", updated_at),
        }


def page(found: PageRows, namespace: Namespace) -> RenderedPage:
    """The ArtifactPageResponse of a page's rows."""
    items = _Items(namespace)
    return RenderedPage(
        total=found.total,
        has_more=found.has_more,
        next_cursor=found.next_cursor,
        artifacts=[items.item(row) for row in found.rows],
    )


def with_page_renderer(renderers: list[Any]) -> list[Any]:
    """A view's renderers with its JSONRenderer (exactly that class) as a PageJSONRenderer."""
    return [PageJSONRenderer() if type(found) is JSONRenderer else found for found in renderers]
