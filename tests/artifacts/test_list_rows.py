"""Seed 002's list pages are read as rows and rendered without model instances or the DRF
serializer (artifacts.list_pages.artifact_page, artifacts/api/serializers/list_items.py, issue
11). Every page here must be, byte for byte, what DRF renders of the ORM's instances through
ArtifactResponse field by field: text, HTML (its extracted text differs), large and unicode
texts (U+2028 and U+2029 included), JSON fields of every shape, files and their versions, text
versions, expired and pinned ones, threads, sessions, promoted sources, times with and without
microseconds, another time zone; and every kind of page: filtered, with expired ones, after a
cursor, past the end, empty, indented. The page's JSON (each text encoded once) is
JSONRenderer's under each of its settings, and the list's namespace read is namespace_get's."""

from datetime import timedelta
from typing import Any

import hypothesis
import pytest
from django.utils import timezone
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from artifacts import list_pages, selectors
from artifacts.api.serializers import ArtifactResponse
from artifacts.api.serializers.list_items import PageJSONRenderer, RenderedPage
from artifacts.indexing import artifact_index
from artifacts.models import Artifact
from artifacts.services import NewContent, artifact_create, artifact_put
from attachments import storage
from sessions_app.api.common import encode_cursor, keyset_page
from sessions_app.errors import NotFound
from sessions_app.models import Namespace
from sessions_app.selectors import namespace_get
from sessions_app.services import session_create
from tests.support import Tenant

pytestmark = pytest.mark.django_db
NS = "/api/v1/orgs/acme/workspaces/alpha/namespaces/default"
UNICODE = 'Zeile\u2028zwei\u2029drei \u00e9\u00e8 \u4e2d\u6587 \U0001f600 "q" \\ \t\x01 </script>'


def _drf_page(
    namespace: Namespace,
    *,
    thread_id: str | None = None,
    types: tuple[str, ...] = (),
    include_expired: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> bytes:
    """What DRF renders: the list's queryset, its COUNT, its keyset page, and each instance
    through Serializer.to_representation (DRF's own per-field path, not the planned one)."""
    queryset = selectors.artifact_list(
        namespace=namespace,
        thread_id=thread_id,
        artifact_types=list(types),
        include_expired=include_expired,
        now=timezone.now(),
    )
    total = queryset.count()
    found = keyset_page(queryset, cursor=cursor, limit=limit, key="root_id")
    items = [
        serializers.Serializer.to_representation(ArtifactResponse(row), row) for row in found.items
    ]
    body = {
        "total": total,
        "has_more": found.has_more,
        "next_cursor": found.next_cursor,
        "artifacts": items,
    }
    return JSONRenderer().render(body)


def _file(namespace: Namespace, data: bytes, file_name: str, **fields: Any) -> Artifact:
    staged = storage.write_stream(iter([data]))
    content = NewContent(staged=staged, file_name=file_name)
    return artifact_create(
        namespace=namespace, content=content, fields={"name": file_name, **fields}
    )


def _text(namespace: Namespace, text: str, **fields: Any) -> Artifact:
    content_type = fields.pop("content_type", "text/markdown")
    thread_id, session = fields.pop("thread", None), fields.pop("session", None)
    return artifact_create(
        namespace=namespace,
        content=NewContent(text=text, content_type=content_type),
        fields={"name": fields.pop("name", "Doc"), **fields},
        thread_id=thread_id,
        session_lookup=(lambda: session) if session is not None else None,
    )


@pytest.fixture
def namespace(tenant: Tenant, owner: APIClient) -> Namespace:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    session = session_create(organization_id=tenant.organization.pk, namespace=namespace)
    plain = _text(namespace, "plain words", artifact_type="plan", thread="t-1", session=session)
    _text(namespace, "x" * 120_000 + UNICODE, name=UNICODE, description=UNICODE)
    html = _text(namespace, f"<p>Hello <b>{UNICODE}</b></p>", content_type="text/html")
    _text(namespace, "", tags=["a", UNICODE], keywords=[], summary=UNICODE)
    _text(
        namespace,
        "json",
        metadata={"n": 1, "f": 1.5, "none": None, "list": [1, "two", {"x": UNICODE}], "u": UNICODE},
        is_primary_deliverable=True,
        workflow_id="wf",
        phase_id="p",
        source="s",
        scope="sc",
        status="draft",
    )
    expired = _text(namespace, "gone soon", ttl_seconds=3600, artifact_type="plan")
    pinned = _text(namespace, "kept", ttl_seconds=3600, is_pinned=True)
    living = _text(namespace, "later", ttl_seconds=7200)
    past = timezone.now() - timedelta(seconds=30)
    Artifact.objects.filter(pk__in=[expired.pk, pinned.pk]).update(expires_at=past)
    # A time without microseconds (isoformat then writes none).
    Artifact.objects.filter(pk=living.pk).update(created_at=past.replace(microsecond=0))
    upload = _file(namespace, b"file words " * 50, "notes.txt")
    artifact_put(artifact=upload, data={}, upload=(storage.write_stream(iter([b"v2"])), "v2.bin"))
    artifact_put(artifact=plain, data={"content": "plain words, second version"})
    artifact_put(artifact=html, data={"summary": "changed in place"})
    promoted = owner.post(f"{NS}/artifacts/{plain.artifact_id}/promote", {}, format="json")
    assert promoted.status_code == 200, promoted.content
    for artifact in Artifact.objects.filter(is_latest=True, namespace=namespace)[:4]:
        artifact_index(artifact_pk=artifact.pk)
    # Stored JSON that no API write makes: ListField and DictField render it their way.
    odd = _text(namespace, "odd json")
    Artifact.objects.filter(pk=odd.pk).update(tags=[1, None, True], keywords=["k", 2.5])
    return namespace


def test_every_page_is_what_drf_renders(namespace: Namespace, owner: APIClient) -> None:
    latest = Artifact.objects.filter(namespace=namespace, is_latest=True).order_by("-root_id")
    middle = encode_cursor(latest[4].root_id)
    cases: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
        ("/artifacts", {}, {}),
        ("/artifacts", {"include_expired": "true"}, {"include_expired": True}),
        ("/artifacts", {"limit": 3}, {"limit": 3}),
        ("/artifacts", {"limit": 3, "cursor": middle}, {"limit": 3, "cursor": middle}),
        ("/artifacts", {"cursor": encode_cursor(1)}, {"cursor": encode_cursor(1)}),
        ("/artifacts", {"cursor": ""}, {"cursor": ""}),
        ("/artifacts", {"artifact_types": "plan"}, {"types": ("plan",)}),
        (
            "/artifacts",
            {"artifact_types": "plan, ,other", "include_expired": "true"},
            {"types": ("plan", "other"), "include_expired": True},
        ),
        ("/artifacts", {"thread_id": "t-1"}, {"thread_id": "t-1"}),
        ("/threads/t-1/artifacts", {}, {"thread_id": "t-1"}),
        ("/threads/none/artifacts", {}, {"thread_id": "none"}),
        ("/artifacts", {"artifact_types": "nothing"}, {"types": ("nothing",)}),
    ]
    for path, query, expect in cases:
        response = owner.get(f"{NS}{path}", query)
        assert response.status_code == 200, response.content
        assert response.content == _drf_page(namespace, **expect), (path, query)
    with timezone.override("America/St_Johns"):
        for query in ({}, {"include_expired": "true"}):
            response = owner.get(f"{NS}/artifacts", query)
            assert response.content == _drf_page(namespace, **{"include_expired": bool(query)})
    body = owner.get(f"{NS}/artifacts", {"include_expired": "true"}).json()
    items = body["artifacts"]
    assert {item["is_expired"] for item in items} == {True, False}
    assert any(item["has_file"] and item["version"] == 2 for item in items)
    assert any(item["root_artifact_id"] != item["artifact_id"] for item in items)
    assert any(item["indexed_at"] for item in items)
    assert any(item["promoted_to_source_id"] and item["session_id"] for item in items)
    assert any(item["thread_id"] == "t-1" for item in items)
    assert any(item["content_text"] != item["content"] for item in items)
    assert any(len(item["content"] or "") > 100_000 for item in items)
    assert b"\\u2028" in owner.get(f"{NS}/artifacts").content


def test_an_empty_namespace_and_the_browsable_page(tenant: Tenant, owner: APIClient) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    response = owner.get(f"{NS}/artifacts")
    assert (
        response.content
        == _drf_page(namespace)
        == (b'{"total":0,"has_more":false,"next_cursor":null,"artifacts":[]}')
    )
    _text(namespace, UNICODE)
    html = owner.get(f"{NS}/artifacts", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")


def test_bad_input_is_the_same_4xx(tenant: Tenant, owner: APIClient) -> None:
    bad = owner.get(f"{NS}/artifacts", {"cursor": "not-a-cursor"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "cursor"]
    filtered = owner.get(f"{NS}/artifacts", {"cursor": "bm8", "artifact_types": "plan"})
    assert filtered.status_code == 422
    missing = owner.get("/api/v1/orgs/acme/workspaces/alpha/namespaces/nope/artifacts")
    assert missing.status_code == 404
    assert owner.get(f"{NS}/artifacts", {"limit": 0}).status_code == 422


def test_an_indented_page_is_what_drf_renders(namespace: Namespace, owner: APIClient) -> None:
    indented = owner.get(f"{NS}/artifacts", HTTP_ACCEPT="application/json; indent=4")
    assert indented.status_code == 200
    body = indented.json()
    assert indented.content == JSONRenderer().render(body, "application/json; indent=4")


def _page_data(**texts: Any) -> RenderedPage:
    item = {
        "artifact_id": "a1",
        "name": f"n {UNICODE}",
        "content": "same text " * 80,
        "content_preview": ("same text " * 80)[:500],
        "content_text": "same text " * 80,
        "metadata": {"k": [UNICODE, 1.5, None]},
        "tags": [],
    }
    others = [
        {**item, "artifact_id": "a2", **texts},
        {**item, "artifact_id": "a3", "content": None, "content_preview": "", "content_text": ""},
        {**item, "content": UNICODE, "content_preview": UNICODE, "content_text": UNICODE},
        {**item, "content": "short", "content_preview": "short", "content_text": "other"},
    ]
    return RenderedPage(total=4, has_more=True, next_cursor="c", artifacts=[item, *others])


@pytest.mark.parametrize("compact", [True, False])
@pytest.mark.parametrize("ensure_ascii", [False, True])
@pytest.mark.parametrize("media_type", ["application/json", "application/json; indent=2"])
def test_a_page_renders_as_json_renderer_renders_it(
    compact: bool, ensure_ascii: bool, media_type: str
) -> None:
    """The texts spliced into the page's JSON, under every setting JSONRenderer has."""
    options = {"compact": compact, "ensure_ascii": ensure_ascii}
    ours = type("Ours", (PageJSONRenderer,), options)()
    drf = type("Drf", (JSONRenderer,), options)()
    data = _page_data(content_text=f"{UNICODE} differs")
    assert ours.render(data, media_type) == drf.render(dict(data), media_type)
    assert ours.render({"detail": UNICODE}, media_type) == drf.render(
        {"detail": UNICODE}, media_type
    )


def test_a_stored_value_that_is_a_marker_renders_all_the_same(monkeypatch: Any) -> None:
    """A value equal to a text marker (SQLite can hold a NUL) makes the page render plainly."""
    nonce = "ab" * 8
    monkeypatch.setattr("artifacts.api.serializers.list_items.secrets.token_hex", lambda n: nonce)
    for data in (
        _page_data(name=f"\x00{nonce}:1", content_text=f"\x00{nonce}:0"),
        _page_data(name=f"\x00{nonce}:15"),
        _page_data(summary=f"\x00{'0' * 16}:0", content_text=f"\x00{'0' * 16}:3"),
    ):
        assert PageJSONRenderer().render(data) == JSONRenderer().render(dict(data))


def _namespace_fields(found: Namespace) -> list[Any]:
    rows = (found, found.workspace, found.workspace.organization)
    return [
        [getattr(row, field.attname) for field in type(row)._meta.concrete_fields] for row in rows
    ]


def test_the_lists_namespace_read_answers_as_namespace_get(
    tenant: Tenant, stranger: Any, django_assert_num_queries: Any
) -> None:
    from sessions_app.principals import authenticate_raw_key, principal_for_key

    def principal(raw: str) -> Any:
        key = authenticate_raw_key(raw)
        assert key is not None
        return principal_for_key(key)

    keys = [tenant.owner_key, tenant.read_only_key, tenant.limited_key, stranger.key]
    paths = [
        {"org": "acme", "workspace": "alpha", "namespace": "default"},
        {"org": None, "workspace": "alpha", "namespace": "default"},
        {"org": "acme", "workspace": "beta", "namespace": "default"},
        {"org": "globex", "workspace": "alpha", "namespace": "default"},
        {"org": "acme", "workspace": "alpha", "namespace": "missing"},
        {"org": "ACME", "workspace": "Alpha", "namespace": "default"},
    ]
    for raw in keys:
        caller = principal(raw)
        for path in paths:
            try:
                expected = _namespace_fields(namespace_get(principal=caller, **path))
            except NotFound:
                expected = None
            try:
                with django_assert_num_queries(1):
                    found = list_pages.namespace_get(principal=caller, **path)
                    got = _namespace_fields(found)
            except NotFound as error:
                assert str(error.detail) == "Namespace not found."
                got = None
            assert got == expected, (raw, path)


TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


@hypothesis.settings(max_examples=200, deadline=None)
@hypothesis.given(
    st.lists(
        st.tuples(st.one_of(st.none(), TEXT), TEXT, st.booleans(), JSON_VALUES, TEXT),
        max_size=4,
    )
)
def test_any_texts_render_as_json_renderer_renders_them(rows: list[tuple[Any, ...]]) -> None:
    items = []
    for content, other, same, metadata, name in rows:
        text = (content or "") if same else other
        items.append(
            {
                "name": name,
                "content": content,
                "content_preview": text[:5],
                "content_text": text,
                "metadata": metadata,
            }
        )
    data = RenderedPage(total=len(items), has_more=False, next_cursor=None, artifacts=items)
    assert PageJSONRenderer().render(data) == JSONRenderer().render(dict(data))


def test_every_code_point_below_u3000_in_a_text() -> None:
    points = [chr(point) for point in [*range(0x3000), 0xFEFF, 0x1F600, 0x10FFFF]]
    text = "".join(point for point in points if not 0xD800 <= ord(point) <= 0xDFFF)
    data = _page_data(content=text, content_preview=text[:500], content_text=text)
    assert PageJSONRenderer().render(data) == JSONRenderer().render(dict(data))


def test_what_json_refuses_is_refused_the_same() -> None:
    data = _page_data(metadata={"x": float("inf")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        JSONRenderer().render(dict(data))
    with pytest.raises(ValueError, match="not JSON compliant"):
        PageJSONRenderer().render(data)
