import pytest

from attachments.file_identity import display_name, is_active, sniff_mime


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "x.txt", "image/png"),
        (b"%PDF-1.7\n", "noext", "application/pdf"),
        (b"PK\x03\x04" + b"\x00" * 30, "a.zip", "application/zip"),
        (b"PK\x03\x04" + b"\x00" * 30, "noext", "application/zip"),
        (
            b"PK\x03\x04" + b"\x00" * 30,
            "r.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"just words", "a.png", "text/plain"),
        (b"# Title\n", "readme.md", "text/markdown"),
        (b'{"a": 1}', "data", "application/json"),
        (b"a,b\n1,2\n", "t.csv", "text/csv"),
        (b"<!DOCTYPE html><p>x", "a.txt", "text/html"),
        (b"  <svg viewBox='0 0 1 1'/>", "pic.png", "image/svg+xml"),
        (b"<?xml version='1.0'?><a/>", "a", "application/xml"),
        (b"\x00\x01\x02\x03", "blob", "application/octet-stream"),
        # Binary bytes that open like JSON (puremagic's one-byte `{` signature) or a JSON array
        # are not JSON; a named binary type still comes from the name.
        (b"{\x00\x01\xff" + bytes(range(256)), "weights.bin", "application/octet-stream"),
        (b"[\x00\xfe\xff" + bytes(range(256)), "", "application/octet-stream"),
        (b"{\x00\x01\xff" + bytes(range(256)), "clip.mp4", "video/mp4"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00", "noext", "image/gif"),
        (b"", "empty.txt", "text/plain"),
        ("café".encode(), "c.txt", "text/plain"),
    ],
)
def test_sniff_mime(head: bytes, name: str, expected: str) -> None:
    assert sniff_mime(head, name) == expected


def test_a_multibyte_character_cut_by_the_window_is_still_text() -> None:
    head = ("a" * 8191 + "é").encode()[:8192]
    assert sniff_mime(head, "long.txt") == "text/plain"


@pytest.mark.parametrize(
    ("mime", "active"),
    [
        ("text/html", True),
        ("image/svg+xml", True),
        ("application/xml", True),
        ("text/javascript", True),
        ("application/atom+xml", True),
        ("text/plain", False),
        ("image/png", False),
        ("application/pdf", False),
    ],
)
def test_is_active(mime: str, active: bool) -> None:
    assert is_active(mime) is active


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a/b/c.txt", "c.txt"),
        ("C:\\x\\y.txt", "y.txt"),
        ("   ", "file"),
        ("", "file"),
        (None, "file"),
        ("...", "file"),
        (".env", ".env"),
        ("a\u200bb", "ab"),
    ],
)
def test_display_name(raw: str | None, expected: str) -> None:
    assert display_name(raw) == expected
