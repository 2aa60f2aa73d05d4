"""One rule for "is this text" (attachments/file_types.py): the sniffer, text extraction and
seed 001's /content agree. A TOML file was text when sniffed and base64 from /content."""

import pytest
from rest_framework.test import APIClient

from attachments.extraction import extractor_for
from attachments.file_identity import sniff_mime
from attachments.file_types import is_textual
from tests.support import AsgiClient

TOML = b'[tool.depot]\nname = "r\xc3\xa9sum\xc3\xa9"\n'


@pytest.mark.parametrize(
    ("mime_type", "textual"),
    [
        ("text/plain", True),
        ("Text/Markdown; charset=utf-8", True),
        ("application/toml", True),
        ("application/json", True),
        ("application/ld+json", True),
        ("image/svg+xml", True),
        ("application/sql", True),
        ("application/pdf", False),
        ("application/octet-stream", False),
        ("image/png", False),
    ],
)
def test_is_textual_reads_the_type_without_its_parameters(mime_type: str, textual: bool) -> None:
    assert is_textual(mime_type) is textual


@pytest.mark.parametrize("mime_type", ["application/toml", "application/xml", "text/x-rst"])
def test_extraction_reads_every_textual_type_as_utf8(mime_type: str) -> None:
    assert extractor_for(mime_type) is not None


# The ASGI client serves the upload from another thread: it must see committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_toml_file_is_text_when_sniffed_and_from_content(
    owner: APIClient, asgi_owner: AsgiClient
) -> None:
    assert sniff_mime(TOML, "pyproject.toml") == "application/toml"
    created = owner.post(
        "/api/artifacts",
        {"workflow_id": "wf", "artifact_type": "config", "title": "t", "content": ""},
        format="json",
    )
    artifact_id = created.json()["id"]
    uploaded = asgi_owner.upload(
        f"/api/artifacts/{artifact_id}/upload", TOML, name="pyproject.toml"
    )
    assert uploaded.status_code == 200, uploaded.text
    body = asgi_owner.get(f"/api/artifacts/{artifact_id}/content").json()
    assert body["content_type"] == "application/toml"
    assert body["content_encoding"] == "utf-8"
    assert body["content"] == TOML.decode()
