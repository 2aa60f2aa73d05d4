"""What a file is and what it may be called: MIME sniffing, active content, display names.

The MIME type comes from the bytes first (puremagic's signatures, then a text sniff for
markup), the file name's extension second. A client's Content-Type is never trusted.
"""

import mimetypes
import re
import unicodedata
from typing import Any

import puremagic
import puremagic.main as puremagic_main

from attachments.file_types import is_textual

SNIFF_BYTES = 8192
MAX_NAME_LENGTH = 255
FALLBACK_NAME = "file"

# Types a browser shows without running anything of the file's: the only ones served inline.
# Everything else (HTML, SVG, XML, scripts, and any type not listed) goes out as an attachment
# under a sandbox CSP. An allow-list, because a deny-list misses the types nobody thought of.
HARMLESS_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/x-markdown",
        "text/csv",
        "text/tab-separated-values",
        "text/x-python",
        "text/x-typescript",
        "text/x-log",
        "application/json",
        "application/jsonl",
        "application/x-ndjson",
        "application/yaml",
        "application/toml",
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "audio/flac",
        "video/mp4",
        "video/webm",
        "video/ogg",
    }
)
# RFC 9110 §8.3.1: type "/" subtype *( OWS ";" OWS name "=" ( token / quoted-string ) ).
_TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[^\x00-\x08\x0a-\x1f\x7f])*"'
_MEDIA_TYPE = re.compile(
    rf"({_TCHARS})/({_TCHARS})((?:[ \t]*;[ \t]*{_TCHARS}=(?:{_TCHARS}|{_QUOTED}))*)"
)
_PARAMETER = re.compile(rf"[ \t]*;[ \t]*({_TCHARS})=({_TCHARS}|{_QUOTED})")
MAX_MEDIA_TYPE_LENGTH = 255
FALLBACK_MEDIA_TYPE = "application/octet-stream"


def normalize_media_type(value: str) -> str | None:
    """`value` as one well-formed MIME type in canonical form (`type/subtype; name=value`, the
    type and parameter names lower-cased), or None when it is anything else.

    Browsers read a comma-separated Content-Type as a list and act on its last type, so
    `text/plain, text/html` must never pass as text/plain: a comma, a line break or any other
    character outside the grammar makes the whole value invalid rather than being cut off.
    A comma inside a quoted parameter value is refused too, since not every parser honours
    the quotes."""
    if len(value) > MAX_MEDIA_TYPE_LENGTH or "," in value or not value.isascii():
        return None
    match = _MEDIA_TYPE.fullmatch(value.strip(" \t").rstrip("; \t"))
    if match is None:
        return None
    base = f"{match.group(1)}/{match.group(2)}".lower()
    parameters = "".join(
        f"; {name.lower()}={parameter}" for name, parameter in _PARAMETER.findall(match.group(3))
    )
    return base + parameters


def media_type_base(mime_type: str) -> str:
    """The `type/subtype` of a stored type, lower-cased (parameters dropped)."""
    return mime_type.split(";", 1)[0].strip().lower()


def served_media_type(mime_type: str) -> str:
    """The Content-Type a stored type goes out with: itself when well formed, else the opaque
    fallback (rows written before types were checked may hold anything)."""
    return normalize_media_type(mime_type) or FALLBACK_MEDIA_TYPE


def is_active(mime_type: str) -> bool:
    """Whether a file of this type must only ever be served as an attachment under a sandbox
    CSP: every type that is not well formed and on the harmless list."""
    normalized = normalize_media_type(mime_type)
    return normalized is None or media_type_base(normalized) not in HARMLESS_TYPES


_HTML_MARKERS = re.compile(
    rb"<\s*(!doctype\s+html|html|head|body|script|iframe|frameset|object|embed|style|meta|a\s|img\s|div|table|form)",
    re.IGNORECASE,
)
_EXTRA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".jsonl": "application/jsonl",
    ".ndjson": "application/x-ndjson",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".ts": "text/x-typescript",
    ".parquet": "application/vnd.apache.parquet",
}


# Formats that are zip archives inside; only the name tells them apart from a plain zip.
ZIP_CONTAINERS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/epub+zip",
    "application/java-archive",
    "application/vnd.android.package-archive",
}


def guess_from_name(name: str) -> str | None:
    lowered = name.lower()
    for extension, mime_type in _EXTRA_TYPES.items():
        if lowered.endswith(extension):
            return mime_type
    return mimetypes.guess_type(lowered, strict=False)[0]


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return not head
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut off by the end of the sniff window is still text; a short
        # file has no such excuse.
        truncated = len(head) >= SNIFF_BYTES and error.start >= len(head) - 3
        if not truncated:
            return False
    return True


def _header_index() -> dict[int, dict[int, list[tuple[int, Any]]]] | None:
    """puremagic's header signatures by offset and first byte, each with its place in
    puremagic's list: `puremagic.magic_string` compares all 1,437 of them with every head
    (0.4 ms of an upload's CPU, issue 11), where one dictionary look-up per offset (41 of them)
    finds the few that can match. None (use puremagic itself) if its tables are not as
    expected."""
    try:
        rows = list(puremagic_main.magic_header_array)
        for name in ("magic_footer_array", "multi_part_dict", "_confidence", "_string_details"):
            getattr(puremagic_main, name)
    except AttributeError:
        return None
    index: dict[int, dict[int, list[tuple[int, Any]]]] = {}
    for place, row in enumerate(rows):
        if not row.byte_match or row.offset < 0:
            return None
        index.setdefault(row.offset, {}).setdefault(row.byte_match[0], []).append((place, row))
    return index


_HEADER_INDEX = _header_index()
# Every extension puremagic's signatures name: `puremagic.main.ext_from_filename` built this
# list anew on each call, 40 of a binary upload's 68 us of sniffing (issue 11).
_EXTENSIONS = frozenset(
    row.extension
    for row in (*puremagic_main.magic_header_array, *puremagic_main.magic_footer_array)
)


def _ext_from_filename(filename: str) -> str:
    """`puremagic.main.ext_from_filename(filename)` (a test compares the two): the extension,
    lower-cased with its dot, or a known double one such as `.tar.gz`; "" for none."""
    try:
        base, ext = filename.lower().rsplit(".", 1)
    except ValueError:
        return ""
    ext = f".{ext}"
    if base[-4:].startswith(".") and base[-4:] + ext in _EXTENSIONS:
        return base[-4:] + ext
    return ext


def _magic_string(head: bytes, filename: str | None) -> list[Any]:
    """`puremagic.magic_string(head, filename=filename)`, the same matches in the same order
    (tests/test_upload_cost_sniff.py compares the two), with the header signatures looked up
    by offset and first byte instead of compared one by one. The rest is puremagic's own
    `_identify_all` after its first loop."""
    if _HEADER_INDEX is None:
        return list(puremagic.magic_string(head, filename=filename))
    if not head:
        raise ValueError("Input was empty")
    header, footer = puremagic_main._string_details(head)
    ext = _ext_from_filename(filename) if filename else None
    found: list[tuple[int, Any]] = []
    size = len(header)
    for offset, by_byte in _HEADER_INDEX.items():
        if offset >= size:
            continue
        for place, row in by_byte.get(header[offset], ()):
            end = offset + len(row.byte_match)
            if end <= size and header[offset:end] == row.byte_match:
                found.append((place, row))
    found.sort(key=lambda entry: entry[0])
    matches = [row for _, row in found]
    for row in puremagic_main.magic_footer_array:
        end = row.offset + len(row.byte_match)
        area = footer[row.offset : end] if end != 0 else footer[row.offset :]
        if area == row.byte_match:
            matches.append(row)
    extra = set()
    for matched in matches:
        for row in puremagic_main.multi_part_dict.get(matched.byte_match, ()):
            end = row.offset + len(row.byte_match)
            if row.offset < 0:
                area = footer[row.offset : end] if end != 0 else footer[row.offset :]
                if area == row.byte_match:
                    extra.add(row._replace(byte_match=matched.byte_match + row.byte_match))
            elif end <= len(header) and header[row.offset : end] == row.byte_match:
                extra.add(row._replace(byte_match=header[matched.offset : end]))
    matches.extend(list(extra))
    info = puremagic_main._confidence(matches, ext)
    info.sort(key=lambda match: match.confidence, reverse=True)
    return list(info)


def sniff_mime(head: bytes, name: str) -> str:
    """The MIME type of a file whose first bytes are `head`, named `name`."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        by_name = guess_from_name(name)
        return by_name if by_name in ZIP_CONTAINERS else "application/zip"
    if _looks_like_text(head):
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if b"<svg" in stripped[:2048]:
            return "image/svg+xml"
        if _HTML_MARKERS.search(stripped[:2048]):
            return "text/html"
        if stripped.startswith(b"<?xml"):
            return "application/xml"
        by_name = guess_from_name(name)
        if by_name and is_textual(by_name):
            return by_name
        if stripped.startswith((b"{", b"[")):
            return "application/json"
        return "text/plain"
    # Bytes that are not text are no text type, whatever a signature says: puremagic's
    # one-byte `{` is JSON's (confidence 0.1), which made any binary starting with `{`
    # application/json, served inline and let past an allow-list that names JSON.
    try:
        matches = _magic_string(head, name or None)
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        if match.mime_type and not is_textual(match.mime_type):
            return str(match.mime_type)
    by_name = guess_from_name(name)
    if by_name and not is_textual(by_name):
        return by_name
    return "application/octet-stream"


def display_name(raw: str | None) -> str:
    """product.md §6: basename after treating `\\` and `/` as separators, control and format
    characters removed, at most 255 characters, never empty."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"})
    name = name.strip().strip(".") if set(name.strip()) <= {"."} else name.strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 16:
            name = stem[: MAX_NAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or FALLBACK_NAME
