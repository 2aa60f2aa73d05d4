"""Previews of an artifact version for the artifact page: text, Markdown, JSON, CSV as a table,
images, and a diff between two text versions.

Nothing from the content runs. Markdown goes through markdown-it-py with raw HTML off (HTML in
the source comes out as text), and its output then through nh3 (Ammonia), which keeps only
harmless tags and attributes and drops `javascript:` and other unsafe URLs; everything else is
escaped by the template. Images are shown only for the harmless types the API would serve
inline (attachments.file_identity.is_active); SVG and anything active are never previewed."""

import csv
import difflib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import nh3
from markdown_it import MarkdownIt

from artifacts.models import Artifact
from artifacts.version_bytes import artifact_bytes
from attachments.file_identity import is_active, media_type_base

# Larger versions are offered as downloads only: a preview reads the whole content.
PREVIEW_MAX_BYTES = 512 * 1024
CSV_MAX_ROWS = 200
CSV_MAX_COLUMNS = 50
DIFF_MAX_LINES = 2000

MARKDOWN_TYPES = {"text/markdown", "text/x-markdown"}
JSON_TYPES = {"application/json"}
CSV_TYPES = {"text/csv", "text/tab-separated-values"}
TEXT_TYPES = {
    "application/jsonl",
    "application/x-ndjson",
    "application/yaml",
    "application/toml",
}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


@dataclass
class Preview:
    kind: str  # markdown | json | csv | image | text | none
    html: str = ""  # sanitised Markdown output
    text: str = ""
    rows: list[list[str]] = field(default_factory=list)
    truncated: bool = False
    note: str = ""


def is_text(artifact: Artifact) -> bool:
    base = media_type_base(artifact.content_type)
    return base.startswith("text/") or base in JSON_TYPES | TEXT_TYPES


def render_markdown(source: str) -> str:
    return nh3.clean(_markdown.render(source), link_rel="noopener noreferrer nofollow")


def _decoded(artifact: Artifact) -> str | None:
    try:
        return artifact_bytes(artifact).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _table(text: str, delimiter: str) -> tuple[list[list[str]], bool]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for row in reader:
            if len(rows) == CSV_MAX_ROWS:
                return rows, True
            rows.append(row[:CSV_MAX_COLUMNS])
    except csv.Error:
        pass
    return rows, False


def preview(artifact: Artifact) -> Preview:
    base = media_type_base(artifact.content_type)
    if base.startswith("image/"):
        if is_active(artifact.content_type):
            return Preview("none", note="This image type is not shown inline; download it.")
        return Preview("image")
    if not is_text(artifact):
        return Preview("none", note="No preview for this type; download it.")
    if artifact.size_bytes > PREVIEW_MAX_BYTES:
        return Preview("none", note="Too large to preview here; download it.")
    text = _decoded(artifact)
    if text is None:
        return Preview("none", note="Not valid UTF-8 text; download it.")
    if base in MARKDOWN_TYPES:
        return Preview("markdown", html=render_markdown(text), text=text)
    if base in JSON_TYPES:
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            return Preview("text", text=text, note="Not valid JSON; shown as text.")
        return Preview("json", text=json.dumps(parsed, indent=2, ensure_ascii=False))
    if base in CSV_TYPES:
        rows, truncated = _table(text, "\t" if base == "text/tab-separated-values" else ",")
        return Preview("csv", rows=rows, truncated=truncated, text=text)
    return Preview("text", text=text)


@dataclass
class DiffLine:
    kind: str  # add | remove | hunk | context | header
    text: str


def diff_versions(old: Artifact, new: Artifact) -> tuple[list[DiffLine], str]:
    """A unified diff of two text versions, or ([], why not)."""
    for version in (old, new):
        if not is_text(version) or version.size_bytes > PREVIEW_MAX_BYTES:
            return [], f"Version {version.version} is not text small enough to compare."
    old_text, new_text = _decoded(old), _decoded(new)
    if old_text is None or new_text is None:
        return [], "One of the versions is not valid UTF-8 text."
    lines = difflib.unified_diff(
        old_text.splitlines(),
        new_text.splitlines(),
        fromfile=f"version {old.version}",
        tofile=f"version {new.version}",
        lineterm="",
    )
    out: list[DiffLine] = []
    for line in lines:
        if len(out) == DIFF_MAX_LINES:
            out.append(DiffLine("hunk", "… (diff cut short)"))
            break
        if line.startswith(("---", "+++")):
            kind = "header"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "remove"
        else:
            kind = "context"
        out.append(DiffLine(kind, line))
    return out, "" if out else "The two versions have the same text."
