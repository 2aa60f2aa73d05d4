"""A multipart/form-data body with one file part, built up front so that building it is off
the clock."""

from __future__ import annotations

import uuid


def multipart_body(
    data: bytes, file_name: str, mime: str = "application/octet-stream"
) -> tuple[bytes, str]:
    """(body, Content-Type header) for `data` as the form field `file`."""
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )
