"""Multipart bodies built by hand."""


def multipart_body(
    field: str, file_name: str, content: bytes, fields: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A hand-built multipart body, so a test controls every byte of the part headers
    (clients such as httpx escape hostile file names before they reach the server)."""
    boundary = "depot-test-boundary-7c1f"
    parts = []
    for name, value in (fields or {}).items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    # Escaped as browsers and HTTP clients do (HTML5): quotes and line breaks cannot appear raw.
    quoted = (
        file_name.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r", "%0D")
        .replace("\n", "%0A")
    )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
