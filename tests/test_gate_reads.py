"""The request gate's own answer to `GET /api/uploads/{sid}` (config/gate_reads.py, issue 11):
the bytes and headers Django's view sends, without Django, and Django for everything else.

Requests go through the real ASGI application in process. Whether Django answered is seen by
its `request_started` signal; the Django answers compared with are the same requests with the
gate's shortcut switched off."""

import uuid
from typing import Any

import pytest

from config import gate_reads, loop_reads
from sessions_app import services as session_services
from sessions_app.models import ApiKey, Session
from tests.conftest import AsgiClient, DjangoRequests, Tenant
from tests.test_request_cost import Statements, statements  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def _session_with(client: AsgiClient, count: int, **names: str) -> str:
    session_id = f"reads-{uuid.uuid4().hex[:10]}"
    for number in range(count):
        name = names.get(str(number), f"n{number}.txt")
        response = client.upload(f"/api/uploads/{session_id}", b"item %d" % number, name=name)
        assert response.status_code == 201, response.text
    return session_id


def _answer(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


def _through_django(monkeypatch: pytest.MonkeyPatch, client: AsgiClient, path: str) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(gate_reads, "list_request", lambda scope, headers: None)
        return client.get(path)


@pytest.mark.parametrize(
    "query", ["", "?limit=2", "?limit=200", "?cursor=", "?limit=1&cursor=NEXT"]
)
def test_the_gates_list_is_djangos_byte_for_byte(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
) -> None:
    # Names JSON escapes or not (non-ASCII, U+2028, quotes) must come out as DRF writes them.
    session_id = _session_with(
        asgi_owner, 4, **{"1": "r\u00e9sum\u00e9 \u2028 \u2029.txt", "2": 'a "quoted" \\ name'}
    )
    if "NEXT" in query:
        first = asgi_owner.get(f"/api/uploads/{session_id}?limit=1").json()
        query = query.replace("NEXT", first["next_cursor"])
    path = f"/api/uploads/{session_id}{query}"
    expected = _through_django(monkeypatch, asgi_owner, path)
    before = django_requests.count
    fast = asgi_owner.get(path)
    assert django_requests.count == before, "the gate should have answered"
    assert _answer(fast) == _answer(expected)
    assert fast.status_code == 200 and fast.json()["attachments"]


def test_an_empty_session_and_a_limited_key(
    tenant: Tenant, asgi_owner: AsgiClient, django_requests: DjangoRequests, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # A session of this id in each workspace: the owner's key reads its default workspace's
    # (empty), the key limited to the other workspace reads that one's.
    session_id = f"reads-{uuid.uuid4().hex[:10]}"
    limited = AsgiClient(tenant.limited_key)
    assert limited.upload(f"/api/uploads/{session_id}", b"other").status_code == 201
    namespace = tenant.workspace.namespaces.get(slug="default")
    session_services.session_get_or_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id=session_id
    )
    assert Session.objects.filter(session_id=session_id).count() == 2
    for client, items in ((asgi_owner, 0), (limited, 1)):
        path = f"/api/uploads/{session_id}"
        expected = _through_django(monkeypatch, client, path)
        before = django_requests.count
        fast = client.get(path)
        assert django_requests.count == before
        assert _answer(fast) == _answer(expected)
        assert len(fast.json()["attachments"]) == items


@pytest.mark.parametrize(
    ("path_suffix", "headers", "status"),
    [
        ("", {"Cookie": "theme=dark"}, 200),
        ("", {"Accept": "text/html"}, 200),
        ("?format=json", {}, 422),
        ("?limit=0", {}, 422),
        ("?limit=201", {}, 422),
        ("?limit=abc", {}, 422),
        ("?limit=2&limit=3", {}, 200),
        ("?cursor=not-a-cursor", {}, 422),
        ("?unknown=1", {}, 422),
    ],
)
def test_anything_else_is_djangos(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    django_requests: DjangoRequests,
    path_suffix: str,
    headers: dict[str, str],
    status: int,
) -> None:
    session_id = _session_with(asgi_owner, 1)
    before = django_requests.count
    response = asgi_owner.get(f"/api/uploads/{session_id}{path_suffix}", headers=headers)
    assert django_requests.count == before + 1
    assert response.status_code == status, response.text


def test_unknown_sessions_bad_ids_and_strangers_are_djangos_404s(
    tenant: Tenant, asgi_owner: AsgiClient, django_requests: DjangoRequests, stranger
) -> None:  # type: ignore[no-untyped-def]
    session_id = _session_with(asgi_owner, 1)
    before = django_requests.count
    missing = asgi_owner.get(f"/api/uploads/reads-{uuid.uuid4().hex[:10]}")
    assert missing.status_code == 404 and missing.json()["detail"].startswith("Session ")
    # Another organization's key does not see this session: Django's 404, same words.
    theirs = AsgiClient(stranger.key).get(f"/api/uploads/{session_id}")
    assert theirs.status_code == 404
    assert asgi_owner.get("/api/uploads/bad%20id").status_code == 422
    assert django_requests.count == before + 3
    # A missing session with a bad cursor is still the 404, as it always was.
    gone = asgi_owner.get(f"/api/uploads/reads-{uuid.uuid4().hex[:10]}?cursor=bad")
    assert gone.status_code == 404


def test_a_revoked_key_is_refused_on_its_next_request(tenant: Tenant) -> None:
    """The key is read on every request (no cache), so there is no staleness to bound."""
    client = AsgiClient(tenant.owner_key)
    session_id = _session_with(client, 1)
    assert client.get(f"/api/uploads/{session_id}").status_code == 200
    prefix = tenant.owner_key.removeprefix("dpt_").partition("_")[0]
    session_services.api_key_revoke(api_key=ApiKey.objects.get(prefix=prefix))
    refused = client.get(f"/api/uploads/{session_id}")
    assert refused.status_code == 401
    assert AsgiClient("dpt_nothere_x").get(f"/api/uploads/{session_id}").status_code == 401


def test_the_gates_thread_path_is_two_statements(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    statements: Statements,  # noqa: F811
    django_requests: DjangoRequests,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What answers when the loop's read does not (tests/test_loop_reads.py).
    async def not_on_the_loop(*args: Any) -> None:
        return None

    monkeypatch.setattr(loop_reads, "list_page", not_on_the_loop)
    session_id = _session_with(asgi_owner, 3)
    asgi_owner.get(f"/api/uploads/{session_id}")  # the key's last-used stamp is fresh now
    statements.clear()
    before = django_requests.count
    assert asgi_owner.get(f"/api/uploads/{session_id}").status_code == 200
    assert django_requests.count == before
    # The key, then the session and its page in one statement.
    assert len(statements.sql) == 2, statements.sql
    assert "sessions_app_apikey" in statements.sql[0]
    assert "attachments_attachment" in statements.sql[1]
    assert "sessions_app_session" in statements.sql[1]


# --- the prepared reads every request makes (sessions_app/raw_reads.py) ---


def _fields(instance: Any) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_key_and_default_namespace_read_as_the_orm_reads_them(tenant: Tenant) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions_app.models import Namespace
    from sessions_app.principals import api_key_by_prefix, default_namespace_of

    prefix = tenant.owner_key.removeprefix("dpt_").partition("_")[0]
    with CaptureQueriesContext(connection) as captured:
        key = api_key_by_prefix(prefix)
        namespace = default_namespace_of(tenant.workspace.pk)
    assert len(captured) == 2
    assert key is not None and _fields(key) == _fields(ApiKey.objects.get(prefix=prefix))
    assert not key._state.adding and key.is_usable
    assert api_key_by_prefix("nothere") is None
    expected = Namespace.objects.select_related("workspace__organization").get(
        workspace=tenant.workspace, slug="default"
    )
    assert namespace is not None and _fields(namespace) == _fields(expected)
    with CaptureQueriesContext(connection) as captured:
        assert _fields(namespace.workspace) == _fields(expected.workspace)
        assert _fields(namespace.workspace.organization) == _fields(expected.workspace.organization)
    assert len(captured) == 0, "the related rows come with the namespace, as select_related"
    assert default_namespace_of(-1) is None


def test_ids_and_times_read_as_text_are_what_the_serializers_write(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page reads `uid` and `created_at` as the database's text (attachments/listing.py,
    TEXT_COLUMNS): each must still be what DRF writes for the row, with and without
    microseconds (SQLite's text drops a zero fraction, PostgreSQL's to_char writes six zeros),
    through the gate and through Django."""
    import datetime as dt

    from rest_framework import serializers

    from attachments.models import Attachment

    client = AsgiClient(tenant.owner_key)
    session_id = _session_with(client, 3)
    rows = list(Attachment.objects.filter(session__session_id=session_id).order_by("id"))
    times = [
        dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 4, 5, 6, 7, 120, tzinfo=dt.UTC),
        dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    ]
    for row, at in zip(rows, times, strict=True):
        Attachment.objects.filter(pk=row.pk).update(created_at=at)
    field = serializers.DateTimeField()
    expected = {
        f"att_{row.uid.hex}": field.to_representation(at)
        for row, at in zip(rows, times, strict=True)
    }
    assert sorted(expected.values()) == [
        "2025-12-31T23:59:59.999999Z",
        "2026-03-04T05:06:07.000120Z",
        "2026-03-04T05:06:07Z",
    ]
    path = f"/api/uploads/{session_id}"
    through_django = _through_django(monkeypatch, client, path)
    for answer in (client.get(path), through_django):
        assert answer.status_code == 200, answer.text
        items = answer.json()["attachments"]
        assert {item["attachment_id"]: item["created_at"] for item in items} == expected
        assert all(item["purged"] is False for item in items)
