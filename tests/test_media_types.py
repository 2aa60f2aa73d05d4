"""Every content type Depot stores is one well-formed MIME type, and only types on an allow-list
of harmless ones are ever served inline (issue 14, holes 1 and 8).

The hole: browsers act on the *last* type of a comma-separated Content-Type, so a stored
`text/plain, text/html` with a script body ran in Chromium on Depot's own origin."""

import pytest

from artifacts.models import Artifact
from attachments.file_identity import is_active, normalize_media_type, served_media_type
from sessions_app.models import Event
from tests.support import AsgiClient

# transaction=True only on the tests that cross threads (the ASGI client serves from another
# thread, so it must see committed rows).
pytestmark = pytest.mark.django_db

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
SCRIPT = "<script>document.title='owned'</script>"
HOSTILE_TYPES = [
    "text/plain, text/html",
    "text/plain,text/html",
    'text/plain; a="x,y", text/html',
    "text/plain\r\nX-Injected: 1",
    "text/plain\nContent-Type: text/html",
    "text/plain\x00",
    "text/",
    "/html",
    "text plain",
    "text/plain; charset",
    "text/plain; charset=\u00e9",
    "t" * 300 + "/plain",
    "",
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("text/plain", "text/plain"),
        ("TEXT/Markdown", "text/markdown"),
        ("text/plain;charset=UTF-8", "text/plain; charset=UTF-8"),
        ("text/plain ; Charset=utf-8 ;", "text/plain; charset=utf-8"),
        ('text/plain; name="a \\"b\\""', 'text/plain; name="a \\"b\\""'),
        ("application/vnd.api+json", "application/vnd.api+json"),
        # The API's fields trim surrounding whitespace first; the parser itself does not.
        ("text/plain; charset=utf-8\r\n", None),
        *((hostile, None) for hostile in HOSTILE_TYPES),
    ],
)
def test_only_one_well_formed_media_type_is_accepted(raw: str, expected: str | None) -> None:
    assert normalize_media_type(raw) == expected


@pytest.mark.parametrize(
    ("mime", "active"),
    [
        ("text/plain", False),
        ("text/markdown; charset=utf-8", False),
        ("application/json", False),
        ("image/png", False),
        ("application/pdf", False),
        ("text/html", True),
        ("image/svg+xml", True),
        ("application/xml", True),
        ("text/xml", True),
        ("application/atom+xml", True),
        ("text/javascript", True),
        ("application/wasm", True),
        ("multipart/x-mixed-replace", True),  # not harmless, not known: unlisted means active
        ("application/octet-stream", True),
        ("text/plain, text/html", True),
        ("text/plain\r\nX: y", True),
    ],
)
def test_only_allow_listed_types_may_be_inline(mime: str, active: bool) -> None:
    assert is_active(mime) is active


def test_a_malformed_stored_type_is_served_as_opaque_bytes() -> None:
    assert served_media_type("text/plain, text/html") == "application/octet-stream"
    assert served_media_type("text/plain\r\nX: y") == "application/octet-stream"
    assert served_media_type("Text/Plain") == "text/plain"


def _nothing_created() -> None:
    assert not Artifact.objects.exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize("content_type", HOSTILE_TYPES)
def test_flat_create_refuses_a_hostile_content_type(owner, content_type: str) -> None:  # type: ignore[no-untyped-def]
    response = owner.post(
        "/api/artifacts",
        {
            "workflow_id": "wf",
            "artifact_type": "report",
            "title": "x",
            "content": SCRIPT,
            "content_type": content_type,
        },
        format="json",
    )
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "content_type"]
    _nothing_created()


@pytest.mark.parametrize("content_type", ["text/plain, text/html", "text/plain\r\nX: 1"])
def test_namespaced_create_and_put_refuse_a_hostile_content_type(owner, content_type: str) -> None:  # type: ignore[no-untyped-def]
    response = owner.post(
        f"{NS}/artifacts",
        {"name": "x", "content": SCRIPT, "content_type": content_type},
        format="json",
    )
    assert response.status_code == 422, response.content
    _nothing_created()

    created = owner.post(f"{NS}/artifacts", {"name": "x", "content": "v1"}, format="json")
    assert created.status_code == 201
    artifact_id = created.json()["artifact_id"]
    events = Event.objects.count()
    put = owner.put(
        f"{NS}/artifacts/{artifact_id}",
        {"content": SCRIPT, "content_type": content_type},
        format="json",
    )
    assert put.status_code == 422, put.content
    assert Artifact.objects.count() == 1
    assert Event.objects.count() == events


def test_a_stored_type_is_kept_in_canonical_form(owner) -> None:  # type: ignore[no-untyped-def]
    created = owner.post(
        "/api/artifacts",
        {
            "workflow_id": "wf",
            "artifact_type": "report",
            "title": "x",
            "content": "hi",
            "content_type": "Text/Plain;Charset=utf-8",
        },
        format="json",
    )
    assert created.status_code == 201
    assert Artifact.objects.get().content_type == "text/plain; charset=utf-8"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "stored",
    ["text/plain, text/html", "text/plain\r\nX-Injected: 1", "text/html", "text/plain,text/html"],
)
def test_rows_written_before_the_check_are_served_as_sandboxed_attachments(
    owner,  # type: ignore[no-untyped-def]
    asgi_owner: AsgiClient,
    stored: str,
) -> None:
    """A row that already holds a bad type (written before types were checked, or by an
    operator) is never inline and never breaks the response."""
    created = owner.post(
        "/api/artifacts",
        {
            "workflow_id": "wf",
            "artifact_type": "report",
            "title": "page",
            "content": SCRIPT,
            "session_id": "xss",
        },
        format="json",
    )
    assert created.status_code == 201
    artifact = Artifact.objects.get()
    Artifact.objects.filter(pk=artifact.pk).update(content_type=stored)
    response = asgi_owner.get(
        f"/api/sessions/xss/artifacts/{artifact.artifact_id}",
        params={"mode": "stream", "download": "false"},
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-security-policy"] == "sandbox"
    assert "," not in response.headers["content-type"]
    assert "x-injected" not in response.headers
    meta = asgi_owner.get(f"/api/sessions/xss/artifacts/{artifact.artifact_id}").json()
    assert meta["data_uri"].split(";")[0].split(",")[0] in {
        "data:text/html",
        "data:application/octet-stream",
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("content", "name", "inline"),
    [
        (b"plain words", "notes.txt", True),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "pic.png", True),
        (b"PK\x03\x04" + b"\x00" * 32, "bundle.zip", False),
        (b"\x00\x01\x02binary", "blob.bin", False),
    ],
)
def test_uploads_are_inline_only_when_their_type_is_harmless(
    asgi_owner: AsgiClient, content: bytes, name: str, inline: bool
) -> None:
    upload = asgi_owner.upload("/api/uploads/types", content, name=name)
    assert upload.status_code == 201, upload.content
    response = asgi_owner.get(
        f"/api/sessions/types/artifacts/{upload.json()['attachment_id']}",
        params={"mode": "stream", "download": "false"},
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("inline;" if inline else "attachment;")
    assert ("content-security-policy" in response.headers) is not inline
