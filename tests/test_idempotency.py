"""`Idempotency-Key` on every POST under /api/, with Stripe's semantics (issue 14): a replay
gets the same answer and makes nothing; the same key with another request is a 422; a key
still being answered is a 409; keys are per caller and expire."""

import asyncio
import time
from typing import Any

import pytest

from attachments.models import Attachment
from sessions_app.models import Event, Session
from tests.support import AsgiClient, Stranger, Tenant, http_scope, multipart_body, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)


def _keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def test_a_replayed_create_answers_the_same_and_makes_nothing(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    first = client.post("/api/sessions", json={"reference": "r1"}, headers=_keyed("k-1"))
    assert first.status_code == 201
    again = client.post("/api/sessions", json={"reference": "r1"}, headers=_keyed("k-1"))
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert Session.objects.count() == 1
    # Another key is another request.
    third = client.post("/api/sessions", json={"reference": "r1"}, headers=_keyed("k-2"))
    assert third.status_code == 201 and third.json()["session_id"] != first.json()["session_id"]


def test_a_replayed_upload_stores_nothing_twice(tenant: Tenant) -> None:
    """Clients pick a new multipart boundary per attempt: it does not make another request."""
    client = AsgiClient(tenant.owner_key)
    answers = []
    for boundary in ("first-boundary-1", "second-boundary-22"):
        body, content_type = multipart_body("file", "notes.txt", b"hello there")
        body = body.replace(b"depot-test-boundary-7c1f", boundary.encode())
        content_type = content_type.replace("depot-test-boundary-7c1f", boundary)
        answers.append(
            client.post(
                "/api/uploads/s1",
                content=body,
                headers={"Content-Type": content_type, **_keyed("upload-1")},
            )
        )
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].content == answers[1].content
    assert Attachment.objects.count() == 1
    assert Event.objects.count() == 1
    assert len(stored_keys()) == 1  # the blob; the replay's bytes were never staged


def test_the_same_key_with_another_request_is_422(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    assert (
        client.post("/api/sessions", json={"reference": "a"}, headers=_keyed("k")).status_code
        == 201
    )
    other = client.post("/api/sessions", json={"reference": "b"}, headers=_keyed("k"))
    assert other.status_code == 422
    (problem,) = other.json()["detail"]
    assert problem["loc"] == ["header", "Idempotency-Key"]
    assert "different request" in problem["msg"]
    elsewhere = client.post("/api/sessions?x=1", json={"reference": "a"}, headers=_keyed("k"))
    assert elsewhere.status_code == 422
    assert Session.objects.count() == 1


def test_a_refused_request_does_not_keep_its_key(tenant: Tenant) -> None:
    client = AsgiClient(tenant.owner_key)
    bad = client.post("/api/sessions", json={"session_id": "bad id!"}, headers=_keyed("k"))
    assert bad.status_code == 422
    good = client.post("/api/sessions", json={"session_id": "good"}, headers=_keyed("k"))
    assert good.status_code == 201


def test_keys_are_per_caller(tenant: Tenant, stranger: Stranger) -> None:
    mine = AsgiClient(tenant.owner_key).post("/api/sessions", json={}, headers=_keyed("shared"))
    theirs = AsgiClient(stranger.key).post("/api/sessions", json={}, headers=_keyed("shared"))
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert "idempotent-replayed" not in theirs.headers
    assert Session.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "two words"])
def test_a_malformed_key_is_422(tenant: Tenant, key: str) -> None:
    response = AsgiClient(tenant.owner_key).post(
        "/api/sessions", json={}, headers={"Idempotency-Key": key.encode()}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert not Session.objects.exists()


def test_kept_answers_expire(tenant: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEPOT_IDEMPOTENCY_SECONDS = 1
    client = AsgiClient(tenant.owner_key)
    assert client.post("/api/sessions", json={}, headers=_keyed("short")).status_code == 201
    time.sleep(1.5)
    again = client.post("/api/sessions", json={}, headers=_keyed("short"))
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert Session.objects.count() == 2


def test_a_concurrent_request_with_the_same_key_is_409(tenant: Tenant) -> None:
    """The first request is held mid-body; the second arrives meanwhile and gets 409 before
    its body is read; the first then completes with one result."""
    from config.asgi import application

    body = b'{"reference": "only-once"}'
    headers = [
        (b"host", b"testserver"),
        (b"x-api-key", tenant.owner_key.encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"idempotency-key", b"race"),
    ]

    async def run() -> tuple[int, int, int]:
        release = asyncio.Event()
        statuses: dict[str, int] = {}
        second_reads = 0

        def sender(name: str) -> Any:
            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses[name] = message["status"]

            return send

        sent_body = False

        async def slow_receive() -> dict[str, Any]:
            nonlocal sent_body
            if sent_body:  # Django listens for a disconnect after the body
                await asyncio.Event().wait()
            await release.wait()
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def second_receive() -> dict[str, Any]:
            nonlocal second_reads
            second_reads += 1
            return {"type": "http.request", "body": body, "more_body": False}

        scope = http_scope("POST", "/api/sessions", headers=headers)
        first = asyncio.ensure_future(application(scope, slow_receive, sender("first")))
        await asyncio.sleep(0.5)  # the first has claimed the key and waits for its body
        await application(scope, second_receive, sender("second"))
        release.set()
        await asyncio.wait_for(first, 20)
        return statuses["first"], statuses["second"], second_reads

    first, second, second_reads = asyncio.run(run())
    assert (first, second, second_reads) == (201, 409, 0)
    assert Session.objects.count() == 1


def test_every_post_documents_the_idempotency_key() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    posts = [
        operation
        for path, item in schema["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
        if method == "post"
    ]
    assert posts
    for operation in posts:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert names.count("Idempotency-Key") == 1, operation["operationId"]


def test_without_its_store_a_keyed_request_is_refused_not_run_twice(
    tenant: Tenant,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from django.core.cache import cache

    async def down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("Redis is gone")

    monkeypatch.setattr(cache, "aget", down)
    client = AsgiClient(tenant.owner_key)
    response = client.post("/api/sessions", json={}, headers=_keyed("k"))
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert not Session.objects.exists()
    # Without a key the request does not need the store.
    assert client.post("/api/sessions", json={}).status_code == 201
