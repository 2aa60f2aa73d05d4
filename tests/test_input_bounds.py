"""Valid-looking input gets a 4xx with a JSON detail, never a 500, and leaves no row, no bytes
and no event (issue 14, items 4, 6 and 13).

- Item 4: every number a client sends is bounded by the column it lands in (and by the dates
  Python can hold); every string fits its column or is cut where it is copied. PostgreSQL is
  where the overflows showed ("integer out of range", "value too long"); SQLite's driver
  overflows past 64 bits.
- Item 6: stored JSON nests at most MAX_JSON_DEPTH levels, and a body too deep for Python's
  parser is a 400, as any other unparseable JSON.
- Item 13: every download names the file by the display-name rules of product.md §6.
"""

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from django.db import models
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.test import APIClient

from artifacts.api import serializers as artifact_serializers
from artifacts.models import Artifact, Source
from attachments.api import serializers as attachment_serializers
from attachments.models import Attachment, Blob
from sessions_app.api import common
from sessions_app.api import serializers as session_serializers
from sessions_app.api.common import MAX_JSON_DEPTH, DepotJSONParser, StrictSerializer
from sessions_app.models import Event, Session, Thread
from tests.support import AsgiClient, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"


def nested(depth: int) -> dict[str, Any]:
    """An object whose containers nest `depth` levels deep, the top level being 1."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def deep_array_text(depth: int) -> str:
    return "[" * depth + "]" * depth


def snapshot() -> dict[str, Any]:
    """What a rejected request must not change."""
    return {
        "sessions": Session.objects.count(),
        "artifacts": Artifact.objects.count(),
        "attachments": Attachment.objects.count(),
        "blobs": Blob.objects.count(),
        "events": Event.objects.count(),
        "threads": Thread.objects.count(),
        "keys": stored_keys(),
    }


def assert_422(response: Any, loc: list[str | int]) -> None:
    assert response.status_code == 422, (response.status_code, response.content[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail, detail
    assert loc in [item["loc"] for item in detail], detail
    assert all(set(item) == {"loc", "msg", "type"} for item in detail), detail


def _new_artifact(owner: APIClient, **fields: Any) -> dict[str, Any]:
    response = owner.post(
        f"{NS}/artifacts", {"name": "base", "content": "v1", **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


# --- item 4: numbers within their columns and the date range ---

TOO_LONG_TTLS = [2**31, 3_000_000_000, 10**12, 10**30]


@pytest.mark.parametrize("ttl", TOO_LONG_TTLS)
def test_a_ttl_past_the_column_is_422_on_create(owner: APIClient, ttl: int) -> None:
    before = snapshot()
    response = owner.post(
        f"{NS}/artifacts",
        {"name": "n", "content": "c", "session_id": "ttl", "ttl_seconds": ttl},
        format="json",
    )
    assert_422(response, ["body", "ttl_seconds"])
    assert snapshot() == before


@pytest.mark.parametrize("ttl", TOO_LONG_TTLS)
def test_a_ttl_past_the_column_is_422_on_upload_and_update(owner: APIClient, ttl: int) -> None:
    artifact = _new_artifact(owner)
    before = snapshot()
    upload = owner.post(
        f"{NS}/artifacts/upload",
        {"file": io.BytesIO(b"bytes"), "name": "u", "ttl_seconds": str(ttl)},
        format="multipart",
    )
    assert_422(upload, ["body", "ttl_seconds"])
    update = owner.put(
        f"{NS}/artifacts/{artifact['artifact_id']}", {"ttl_seconds": ttl}, format="json"
    )
    assert_422(update, ["body", "ttl_seconds"])
    new_version = owner.put(
        f"{NS}/artifacts/{artifact['artifact_id']}",
        {"content": "v2", "ttl_seconds": ttl},
        format="json",
    )
    assert_422(new_version, ["body", "ttl_seconds"])
    assert snapshot() == before
    assert Artifact.objects.get(artifact_id=artifact["artifact_id"]).ttl_seconds is None


def test_the_longest_ttl_fits_the_column_and_the_date(owner: APIClient) -> None:
    created = _new_artifact(owner, ttl_seconds=common.MAX_TTL_SECONDS)
    assert created["ttl_seconds"] == common.MAX_TTL_SECONDS
    assert created["expires_at"] > "2090"  # now + 68 years, far inside year 9999


@pytest.mark.parametrize("version", [2**31, 10**30])
def test_a_version_past_the_column_is_422(owner: APIClient, version: int) -> None:
    artifact_id = _new_artifact(owner)["artifact_id"]
    for url in (
        f"/api/artifacts/{artifact_id}?version={version}",
        f"/api/artifacts/{artifact_id}/content?version={version}",
        f"/api/artifacts/{artifact_id}/file?version={version}",
        f"{NS}/artifacts/{artifact_id}?version={version}",
    ):
        assert_422(owner.get(url), ["query", "version"])


@pytest.mark.parametrize(
    "url", ["/api/sessions", "/api/uploads/curs", f"{NS}/artifacts", f"{NS}/threads/t/artifacts"]
)
def test_a_cursor_past_bigint_is_422(owner: APIClient, url: str) -> None:
    owner.post("/api/sessions", {"session_id": "curs"}, format="json")
    for value in (2**63, 10**30, -1):
        cursor = common.encode_cursor(value)
        assert_422(owner.get(url, {"cursor": cursor}), ["query", "cursor"])
    assert owner.get(url, {"cursor": common.encode_cursor(common.MAX_BIGINT)}).status_code == 200


# --- item 4: strings fit their columns, or are cut where they are copied ---


# Artifacts names (titles) may be 500 characters; the event's `name` (a display name, like the
# meta `name` that GET /api/sessions/{sid}/artifacts/{id} answers) holds 255.
def test_a_long_flat_title_is_stored_whole_and_its_event_name_fits(owner: APIClient) -> None:
    title = "t" * 500
    response = owner.post(
        "/api/artifacts",
        {
            "workflow_id": "w",
            "artifact_type": "report",
            "title": title,
            "content": "c",
            "session_id": "titles",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Artifact.objects.get(artifact_id=response.json()["id"]).name == title
    event = Event.objects.get(artifact_id=response.json()["id"])
    assert event.name is not None and len(event.name) <= 255


def test_long_names_on_create_update_and_version_keep_event_names_fitting(
    owner: APIClient,
) -> None:
    created = _new_artifact(owner, name="n" * 300, session_id="names")
    artifact_id = created["artifact_id"]
    renamed = owner.put(f"{NS}/artifacts/{artifact_id}", {"name": "r" * 500}, format="json")
    assert renamed.status_code == 200, renamed.content
    versioned = owner.put(f"{NS}/artifacts/{artifact_id}", {"content": "v2"}, format="json")
    assert versioned.status_code == 200, versioned.content
    names = list(Event.objects.filter(session__session_id="names").values_list("name", flat=True))
    assert len(names) == 3
    assert all(name is not None and len(name) <= 255 for name in names), names


def test_a_long_uploaded_file_name_becomes_a_name_that_fits(asgi_owner: AsgiClient) -> None:
    """With no `name` field, an upload's artifact is named after its file: a client's raw file
    name of any length, which must be cut (and cleaned) to fit the 500-character column."""
    response = asgi_owner.upload(
        f"{NS}/artifacts/upload", b"data", name="dir/" + "f" * 600 + "\x01.csv"
    )
    assert response.status_code == 201, response.text
    artifact = Artifact.objects.get(artifact_id=response.json()["artifact_id"])
    assert artifact.name == artifact.file_name == "f" * 251 + ".csv"


# Where each request field lands. A field whose name is a column of its serializer's model
# lands there; the others are listed, with the columns they are written to, or `()` when the
# value is only compared (a filter or a lookup) or not stored at all.
MODELS: dict[type[serializers.Serializer], type[models.Model] | None] = {
    common.PageQuerySerializer: None,
    session_serializers.SessionCreate: Session,
    session_serializers.SessionUpdate: Session,
    session_serializers.SessionComplete: Session,
    session_serializers.SessionListQuery: None,
    attachment_serializers.AttachmentUpload: Attachment,
    attachment_serializers.AppUpload: Attachment,
    attachment_serializers.AppDelete: None,
    artifact_serializers.SessionItemQuery: None,
    artifact_serializers.FlatArtifactListQuery: None,
    artifact_serializers.FlatArtifactCreate: Artifact,
    artifact_serializers.FlatArtifactQuery: None,
    artifact_serializers.FlatArtifactVersionQuery: None,
    artifact_serializers.FlatArtifactUpload: None,
    artifact_serializers.ArtifactListQuery: None,
    artifact_serializers.ThreadArtifactListQuery: None,
    artifact_serializers.ArtifactDetailQuery: None,
    artifact_serializers.ArtifactCreate: Artifact,
    artifact_serializers.ArtifactUpload: Artifact,
    artifact_serializers.ArtifactUpdate: Artifact,
    artifact_serializers.DownloadQuery: None,
    artifact_serializers.Promote: Source,
    artifact_serializers.Query: None,
}
LANDS_IN: dict[tuple[str, str], tuple[models.Field, ...]] = {
    ("AttachmentUpload", "node_id"): (
        Attachment._meta.get_field("node_id"),
        Event._meta.get_field("node_id"),
    ),
    ("AttachmentUpload", "path"): (
        Attachment._meta.get_field("path"),
        Event._meta.get_field("path"),
    ),
    ("AttachmentUpload", "metadata"): (),  # a JSON string, stored parsed
    ("AppUpload", "userReference"): (
        Attachment._meta.get_field("user_reference"),
        Session._meta.get_field("reference"),  # the session made on demand
    ),
    ("AppUpload", "sessionId"): (Session._meta.get_field("session_id"),),
    ("AppUpload", "uploadType"): (),
    ("FlatArtifactCreate", "title"): (Artifact._meta.get_field("name"),),
    ("FlatArtifactCreate", "session_id"): (Session._meta.get_field("session_id"),),
    ("FlatArtifactCreate", "content_type"): (
        Artifact._meta.get_field("content_type"),
        Event._meta.get_field("mime"),
    ),
    ("FlatArtifactCreate", "derived_from"): (),  # artifact ids looked up
    ("ArtifactCreate", "session_id"): (Session._meta.get_field("session_id"),),
    ("ArtifactCreate", "thread_id"): (Thread._meta.get_field("thread_id"),),
    ("ArtifactCreate", "content_type"): (
        Artifact._meta.get_field("content_type"),
        Event._meta.get_field("mime"),
    ),
    ("ArtifactCreate", "derived_from"): (),
    ("ArtifactUpload", "session_id"): (Session._meta.get_field("session_id"),),
    ("ArtifactUpload", "thread_id"): (Thread._meta.get_field("thread_id"),),
    ("ArtifactUpload", "derived_from"): (),
    ("ArtifactUpdate", "content_type"): (
        Artifact._meta.get_field("content_type"),
        Event._meta.get_field("mime"),
    ),
}
# Columns typed `integer` and `bigint` on PostgreSQL (SQLite's are wider), and those that hold
# no negative numbers.
INTEGER_COLUMNS = (models.IntegerField,)
BIGINT_COLUMNS = (models.BigIntegerField, models.PositiveBigIntegerField)
POSITIVE_COLUMNS = (
    models.PositiveBigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
)


def _request_serializers() -> Iterator[type[serializers.Serializer]]:
    modules = (common, session_serializers, attachment_serializers, artifact_serializers)
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, StrictSerializer)
                and value is not StrictSerializer
                and value.__module__.startswith(module.__name__)
            ):
                yield value


def _columns(serializer: type[serializers.Serializer], name: str) -> tuple[models.Field, ...]:
    if (serializer.__name__, name) in LANDS_IN:
        return LANDS_IN[(serializer.__name__, name)]
    model = MODELS[serializer]
    if model is None:
        return ()
    try:
        return (model._meta.get_field(name),)
    except Exception:
        pytest.fail(f"{serializer.__name__}.{name}: where does it land? Add it to LANDS_IN.")


def _column_range(column: models.Field) -> tuple[int, int]:
    low = 0 if isinstance(column, POSITIVE_COLUMNS) else None
    if isinstance(column, BIGINT_COLUMNS):
        return (low if low is not None else -(2**63), 2**63 - 1)
    if isinstance(column, INTEGER_COLUMNS):
        return (low if low is not None else -(2**31), 2**31 - 1)
    raise AssertionError(f"{column} is not an integer column")


def test_every_request_serializer_is_classified() -> None:
    assert set(_request_serializers()) == set(MODELS)


@pytest.mark.parametrize("serializer", list(MODELS), ids=lambda s: s.__name__)
def test_every_field_fits_the_column_it_lands_in(serializer: type[serializers.Serializer]) -> None:
    problems = []
    for name, field in serializer().fields.items():
        if isinstance(field, serializers.FileField):
            continue  # staged bytes, not a column
        columns = _columns(serializer, name)
        checked = [(name, field)]
        if isinstance(field, serializers.ListField):
            checked.append((f"{name}[]", field.child))
        for label, item in checked:
            if isinstance(item, serializers.IntegerField):
                # Compared or stored, an integer past bigint is a 500 on SQLite.
                ranges = [_column_range(column) for column in columns] or [(-(2**63), 2**63 - 1)]
                low, high = max(r[0] for r in ranges), min(r[1] for r in ranges)
                if item.max_value is None or item.max_value > high:
                    problems.append(f"{label}: max_value {item.max_value} > column's {high}")
                if item.min_value is None or item.min_value < low:
                    problems.append(f"{label}: min_value {item.min_value} < column's {low}")
            elif isinstance(item, serializers.ChoiceField):
                longest = max(len(str(choice)) for choice in item.choices)
                for column in columns:
                    if column.max_length is not None and longest > column.max_length:
                        problems.append(f"{label}: a choice is longer than {column}")
            elif isinstance(item, serializers.CharField) and not label.endswith("[]"):
                for column in columns:
                    if isinstance(column, models.CharField) and (
                        item.max_length is None or item.max_length > column.max_length
                    ):
                        problems.append(f"{label}: max_length {item.max_length} > {column}")
    assert not problems, problems


# --- item 6: nesting depth ---


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900])
def test_deep_metadata_in_a_json_body_is_422(owner: APIClient, depth: int) -> None:
    artifact_id = _new_artifact(owner)["artifact_id"]
    owner.post("/api/sessions", {"session_id": "deep"}, format="json")
    before = snapshot()
    metadata = nested(depth)
    requests = [
        owner.post("/api/sessions", {"session_id": "deeper", "metadata": metadata}, format="json"),
        owner.patch("/api/sessions/deep", {"metadata": metadata}, format="json"),
        owner.post(
            "/api/artifacts",
            {"workflow_id": "w", "artifact_type": "t", "title": "t", "content": "c"}
            | {"metadata": metadata},
            format="json",
        ),
        owner.post(f"{NS}/artifacts", {"name": "n", "metadata": metadata}, format="json"),
        owner.put(f"{NS}/artifacts/{artifact_id}", {"metadata": metadata}, format="json"),
    ]
    for response in requests:
        assert_422(response, ["body", "metadata"])
        assert response.json()["detail"][0]["type"] == "json_too_deep"
    assert snapshot() == before


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, 100_000])
def test_deep_metadata_in_a_form_field_is_422(asgi_owner: AsgiClient, depth: int) -> None:
    text = json.dumps(nested(depth)) if depth < 1000 else '{"a":' * depth + "{}" + "}" * depth
    before = snapshot()
    for url in ("/api/uploads/deepform", f"{NS}/artifacts/upload"):
        response = asgi_owner.upload(url, b"bytes", name="f.txt", metadata=text)
        assert_422(response, ["body", "metadata"])
    assert snapshot() == before


def test_deep_tags_in_a_form_field_are_422(asgi_owner: AsgiClient) -> None:
    before = snapshot()
    response = asgi_owner.upload(
        f"{NS}/artifacts/upload", b"bytes", name="f.txt", tags=deep_array_text(100_000)
    )
    assert_422(response, ["body", "tags"])
    assert snapshot() == before


def test_metadata_at_the_depth_limit_is_stored(owner: APIClient, asgi_owner: AsgiClient) -> None:
    metadata = nested(MAX_JSON_DEPTH)
    session = owner.post("/api/sessions", {"metadata": metadata}, format="json")
    assert session.status_code == 201, session.content
    assert session.json()["metadata"] == metadata
    upload = asgi_owner.upload(
        "/api/uploads/limit", b"bytes", name="f.txt", metadata=json.dumps(metadata)
    )
    assert upload.status_code == 201, upload.text
    assert Attachment.objects.get().metadata == metadata


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ('{"a": "\\ud800"}', "surrogate_characters"),
        ('{"a": ["\\udfff"]}', "surrogate_characters"),
        ('{"\\ud800": 1}', "surrogate_characters"),
        ('{"a": 1e999}', "finite_number"),
        ('{"a": {"b": "\\u0000"}}', "null_characters"),
    ],
)
def test_json_that_cannot_be_stored_is_422(
    owner: APIClient, asgi_owner: AsgiClient, raw: str, kind: str
) -> None:
    """Parsed fine, but PostgreSQL's jsonb refuses it (and SQLite's JSON check, or UTF-8)."""
    before = snapshot()
    body = ('{"session_id": "js", "metadata": ' + raw + "}").encode()
    response = owner.post("/api/sessions", data=body, content_type="application/json")
    assert_422(response, ["body", "metadata"])
    assert response.json()["detail"][0]["type"] == kind
    form = asgi_owner.upload("/api/uploads/js", b"bytes", name="f.txt", metadata=raw)
    assert_422(form, ["body", "metadata"])
    assert snapshot() == before


@pytest.mark.parametrize("raw", ['{"a": NaN}', '{"a": -Infinity}', '{"a": Infinity}'])
def test_nan_and_infinity_in_a_form_field_are_422(asgi_owner: AsgiClient, raw: str) -> None:
    before = snapshot()
    for url in ("/api/uploads/nan", f"{NS}/artifacts/upload"):
        response = asgi_owner.upload(url, b"bytes", name="f.txt", metadata=raw)
        assert_422(response, ["body", "metadata"])
    assert snapshot() == before


def test_the_json_parser_answers_a_body_too_deep_for_python_with_a_parse_error() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        DepotJSONParser().parse(io.BytesIO(deep_array_text(100_000).encode()))
    assert DepotJSONParser().parse(io.BytesIO(b'{"a": [1]}')) == {"a": [1]}


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", f"{NS}/artifacts"),
        ("post", f"{NS}/artifacts/query"),
        ("put", f"{NS}/artifacts/{{artifact}}"),
        ("post", "/api/artifacts"),
        ("delete", "/api/v2/apps/alpha/environments/default/attachments/f-{uuid}"),
    ],
)
def test_a_body_too_deep_for_python_is_400(owner: APIClient, method: str, url: str) -> None:
    artifact_id = _new_artifact(owner)["artifact_id"]
    url = url.replace("{artifact}", artifact_id).replace(
        "{uuid}", "00000000-0000-4000-8000-000000000000"
    )
    before = snapshot()
    for body in (deep_array_text(100_000), '{"metadata": ' + deep_array_text(100_000) + "}"):
        response = getattr(owner, method)(url, data=body, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code, response.content[:200])
        assert "nested too deeply" in response.json()["detail"]
    assert snapshot() == before


def test_a_session_body_too_deep_for_python_is_400(owner: APIClient) -> None:
    before = snapshot()
    response = owner.post(
        "/api/sessions", data=deep_array_text(100_000), content_type="application/json"
    )
    assert response.status_code == 400, response.content[:200]
    assert snapshot() == before


# --- item 13: download names ---

HOSTILE_TITLE = "../a\\b/c\r\nd\u202eevil" + "x" * 400
# Basename after `/` and `\`, control and format characters dropped, cut to 255 with `.md` kept.
EXPECTED_NAME = "cdevil" + "x" * (255 - len("cdevil") - len(".md")) + ".md"


def disposition_name(header: str) -> str:
    """The file name a Content-Disposition header gives (Django writes one of the two forms)."""
    star = re.search(r"filename\*=utf-8''([^;]+)", header)
    if star:
        return unquote(star.group(1))
    plain = re.search(r'filename="((?:[^"\\]|\\.)*)"', header)
    assert plain, header
    return re.sub(r"\\(.)", r"\1", plain.group(1))


def assert_display_name(name: str) -> None:
    assert 0 < len(name) <= 255, len(name)
    assert "/" not in name and "\\" not in name
    assert not any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in name), repr(name)


def _titled(owner: APIClient, title: str, content: str) -> str:
    """An inline artifact in session `dn` whose stored title is `title`.

    The title is written to the row directly: on PostgreSQL, a title over 255 characters is
    refused by the event's copy of it before that copy was cut (artifacts/services.py), and
    what is tested here is how a stored title is served."""
    response = owner.post(
        "/api/artifacts",
        {
            "workflow_id": "w",
            "artifact_type": "report",
            "title": "placeholder",
            "content": content,
            "session_id": "dn",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    Artifact.objects.filter(artifact_id=response.json()["id"]).update(name=title)
    return response.json()["id"]


@pytest.fixture
def hostile_artifact(owner: APIClient) -> str:
    return _titled(owner, HOSTILE_TITLE, "# hi")


def test_an_inline_titles_download_header_carries_its_display_name(
    asgi_owner: AsgiClient, hostile_artifact: str
) -> None:
    for url in (
        f"/api/sessions/dn/artifacts/{hostile_artifact}?mode=stream&download=true",
        f"/api/sessions/dn/artifacts/{hostile_artifact}?mode=stream",
        f"/api/artifacts/{hostile_artifact}/file",
    ):
        response = asgi_owner.get(url)
        assert response.status_code == 200, response.text
        header = response.headers["content-disposition"]
        assert "%0D" not in header.upper() and "%0A" not in header.upper(), header
        assert "%E2%80%AE" not in header.upper(), header  # U+202E, percent-encoded
        assert disposition_name(header) == EXPECTED_NAME
    meta = asgi_owner.get(f"/api/sessions/dn/artifacts/{hostile_artifact}").json()
    assert meta["name"] == EXPECTED_NAME


def test_the_signed_download_names_the_same_display_name(
    asgi_owner: AsgiClient, hostile_artifact: str
) -> None:
    answer = asgi_owner.get(f"{NS}/artifacts/{hostile_artifact}/download").json()
    assert answer["file_name"] == EXPECTED_NAME
    parts = urlsplit(answer["download_url"])
    signed = AsgiClient().get(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert signed.status_code == 200, signed.text
    assert disposition_name(signed.headers["content-disposition"]) == EXPECTED_NAME


def test_zip_entries_of_long_titles_stay_display_names(
    owner: APIClient, asgi_owner: AsgiClient, hostile_artifact: str
) -> None:
    # A second artifact of the same title: its entry gets ` (2)` and must still fit 255.
    _titled(owner, HOSTILE_TITLE, "two")
    response = asgi_owner.get("/api/sessions/dn/download")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert names[0] == f"artifacts/{EXPECTED_NAME}"
    assert names[1].startswith("artifacts/cdevilxxx") and names[1].endswith(" (2).md")
    for name in names:
        folder, _, file_name = name.partition("/")
        assert folder == "artifacts"
        assert_display_name(file_name)


def test_a_stored_file_name_is_cleaned_again_when_served() -> None:
    """Rows written under older rules may hold any name; downloads still get a display name."""
    from artifacts.version_bytes import download_name

    artifact = Artifact(name="n", file_name="a/b\u202e\r\n.csv", content_type="text/csv")
    assert download_name(artifact) == "b.csv"
    untyped = Artifact(name="t" * 600, content_type="text/plain\r\nX: y")
    assert download_name(untyped) == "t" * 251 + ".txt"


def test_a_422_loc_may_hold_a_list_index_and_the_schema_says_so(owner: APIClient) -> None:
    response = owner.post(
        f"{NS}/artifacts", {"name": "n", "tags": ["ok", "x" * 256]}, format="json"
    )
    assert_422(response, ["body", "tags", 1])
    schema = owner.get("/api/schema/", {"format": "json"}).json()
    loc = schema["components"]["schemas"]["ValidationErrorItem"]["properties"]["loc"]
    assert loc["items"] == {"oneOf": [{"type": "string"}, {"type": "integer"}]}
