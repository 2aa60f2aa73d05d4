"""The request gate's key read on the event loop (config/loop_keys.usable_key, issue 11): every
keyed request's key in one statement on the loop's own connection, with the session an upload
names read by the same statement and used as the write's starting point. The thread path
answers every case the loop does not say yes to. Requests go through the real ASGI
application, on both profiles."""

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from django.utils import timezone

from attachments.models import Attachment
from config import loop_keys, loop_reads, request_gate
from sessions_app import services as session_services
from sessions_app.models import ApiKey, Event, Session
from tests.conftest import AsgiClient, Tenant
from tests.test_request_cost import Statements, statements  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


class Seen:
    """The loop's statements, and the thread path's key reads."""

    def __init__(self) -> None:
        self.loop: list[str] = []
        self.thread_reads = 0


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    found = Seen()
    monkeypatch.setattr(loop_reads, "observers", [found.loop.append])
    on_thread = request_gate._authenticate_key_on_thread

    async def counted(raw_key: str) -> Any:
        found.thread_reads += 1
        return await on_thread(raw_key)

    monkeypatch.setattr(request_gate, "_authenticate_key_on_thread", counted)
    yield found


def _sid() -> str:
    return f"gate-{uuid.uuid4().hex[:10]}"


def _key(raw_key: str) -> ApiKey:
    return ApiKey.objects.get(prefix=raw_key.removeprefix("dpt_").partition("_")[0])


def _attachment(answer: Any) -> Attachment:
    return Attachment.objects.get(
        uid=uuid.UUID(answer.json()["attachment_id"].removeprefix("att_"))
    )


def _upload(client: AsgiClient, session_id: str, data: bytes = b"\x00 bytes") -> Any:
    return client.upload(f"/api/uploads/{session_id}", data)


def test_a_keyed_request_reads_its_key_on_the_loop_only(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    seen: Seen,
    statements: Statements,  # noqa: F811
) -> None:
    session_id = _sid()
    assert _upload(asgi_owner, session_id).status_code == 201  # stamps the new key
    seen.loop.clear()
    seen.thread_reads = 0
    statements.clear()
    answer = asgi_owner.get(f"/api/sessions/{session_id}")
    assert answer.status_code == 200, answer.text
    assert seen.thread_reads == 0
    assert len(seen.loop) == 1 and "sessions_app_apikey" in seen.loop[0]
    # Not an upload: the key alone, no session read with it.
    assert "sessions_app_session" not in seen.loop[0]
    assert not [sql for sql in statements.sql if "sessions_app_apikey" in sql], statements.sql


def test_a_stale_stamp_wrong_secret_revoked_and_expired_go_by_the_thread(
    tenant: Tenant, asgi_owner: AsgiClient, seen: Seen
) -> None:
    session_id = _sid()
    assert _upload(asgi_owner, session_id).status_code == 201
    key = _key(tenant.owner_key)
    # Due its last-used stamp: the thread path answers and writes it; then the loop again.
    stale = timezone.now() - dt.timedelta(minutes=5)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=stale)
    before = seen.thread_reads
    assert _upload(asgi_owner, session_id).status_code == 201
    assert seen.thread_reads == before + 1
    assert _key(tenant.owner_key).last_used_at > stale
    assert _upload(asgi_owner, session_id).status_code == 201
    assert seen.thread_reads == before + 1
    # A real prefix with a wrong secret: 401, and no row.
    wrong = AsgiClient(
        tenant.owner_key[:-4] + ("aaaa" if tenant.owner_key[-4:] != "aaaa" else "bbbb")
    )
    rows = Attachment.objects.count()
    refused = _upload(wrong, session_id)
    assert refused.status_code == 401 and Attachment.objects.count() == rows
    # Expired, then revoked: refused on the very next request.
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _upload(asgi_owner, session_id).status_code == 401
    ApiKey.objects.filter(pk=key.pk).update(expires_at=None)
    assert _upload(asgi_owner, session_id).status_code == 201
    session_services.api_key_revoke(api_key=_key(tenant.owner_key))
    assert _upload(asgi_owner, session_id).status_code == 401
    assert asgi_owner.get(f"/api/sessions/{session_id}").status_code == 401
    assert Attachment.objects.count() == rows + 1


def test_a_failing_loop_read_is_answered_by_the_thread(
    tenant: Tenant, asgi_owner: AsgiClient, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: Any, *args: Any) -> Any:
        raise OSError("the loop's connection is gone")

    for reader in (loop_reads._SqliteReader, loop_reads._PostgresReader):
        monkeypatch.setattr(reader, "key_row", broken)
    session_id = _sid()
    assert _upload(asgi_owner, session_id).status_code == 201
    assert _upload(asgi_owner, session_id).status_code == 201
    assert seen.thread_reads == 2
    assert Session.objects.get(session_id=session_id).file_count == 2


def test_the_upload_starts_from_the_session_the_gate_read(
    tenant: Tenant,
    asgi_owner: AsgiClient,
    seen: Seen,
    statements: Statements,  # noqa: F811
) -> None:
    session_id = _sid()
    assert _upload(asgi_owner, session_id).status_code == 201
    session = Session.objects.get(session_id=session_id)
    seen.loop.clear()
    statements.clear()
    answer = _upload(asgi_owner, session_id, b"\x00 second")
    assert answer.status_code == 201, answer.text
    assert "sessions_app_session" in seen.loop[0]
    django_reads = [sql for sql in statements.sql if sql.startswith("SELECT")]
    assert not [sql for sql in django_reads if "sessions_app_session" in sql], django_reads
    attachment = _attachment(answer)
    assert attachment.session_id == session.pk
    session.refresh_from_db()
    assert session.file_count == 2 and session.last_event_sequence == 2
    events = Event.objects.filter(session_id=session.pk).order_by("sequence")
    assert [event.sequence for event in events] == [1, 2]
    assert events.last().attachment_id == attachment.attachment_id  # type: ignore[union-attr]


def test_a_session_deleted_after_the_gate_read_is_made_again(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hint names a row deleted before the write: the upload goes where a lookup at that
    moment would have sent it, a new session of that id, as if there had been no hint."""
    session_id = _sid()
    assert _upload(asgi_owner, session_id).status_code == 201
    old = Session.objects.get(session_id=session_id)
    read = loop_keys.usable_key

    async def then_deleted(raw_key: str, wanted: str | None = None) -> Any:
        found = await read(raw_key, wanted)
        assert found is not None and found.session_pk == old.pk
        await sync_to_async(lambda: session_services.session_delete(session=old))()
        return found

    monkeypatch.setattr(loop_keys, "usable_key", then_deleted)
    answer = _upload(asgi_owner, session_id, b"\x00 after the delete")
    assert answer.status_code == 201, answer.text
    new = Session.objects.get(session_id=session_id)
    assert new.pk != old.pk and new.file_count == 1
    assert _attachment(answer).session_id == new.pk
    assert not Session.objects.filter(pk=old.pk).exists()


def test_the_file_limit_through_the_hint_names_the_session_and_leaves_nothing(
    tenant: Tenant, asgi_owner: AsgiClient
) -> None:
    session_id = _sid()
    assert _upload(asgi_owner, session_id).status_code == 201
    rows, events = Attachment.objects.count(), Event.objects.count()
    with override_settings(DEPOT_MAX_FILES_PER_SESSION=1):
        refused = _upload(asgi_owner, session_id, b"\x00 one too many")
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"] == f"Session '{session_id}' already holds 1 files."
    assert (Attachment.objects.count(), Event.objects.count()) == (rows, events)
    assert Session.objects.get(session_id=session_id).file_count == 1


def test_the_hint_chooses_the_session_the_lookup_chooses(
    tenant: Tenant, asgi_owner: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An id held in both workspaces: the key's default workspace's session, with or without
    the loop; held only in the other workspace: that one, again either way."""
    from sessions_app.models import DEFAULT_NAMESPACE, Namespace

    other = Namespace.objects.get(workspace=tenant.other_workspace, slug=DEFAULT_NAMESPACE)

    def target(session_id: str) -> int:
        answer = _upload(asgi_owner, session_id, uuid.uuid4().bytes)
        assert answer.status_code == 201, answer.text
        return _attachment(answer).session_id

    both, elsewhere = _sid(), _sid()
    in_default = tenant.session(both)
    tenant.session(both, other)
    only_other = tenant.session(elsewhere, other)
    assert target(both) == in_default.pk
    assert target(elsewhere) == only_other.pk

    async def no_loop(raw_key: str, wanted: str | None = None) -> None:
        return None

    monkeypatch.setattr(loop_keys, "usable_key", no_loop)
    assert target(both) == in_default.pk
    assert target(elsewhere) == only_other.pk
