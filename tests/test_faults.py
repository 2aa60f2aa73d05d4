"""Faults in the parts Depot stands on (issue 14, "Faults"): storage that fails mid-upload or
after the bytes are staged, and a database that fails after the bytes are written. Each gives
a clear JSON 503 with Retry-After, and leaves no row and no event, and, once collect_orphans
has run, no bytes."""

import io

import pytest
from django.core.management import call_command
from django.db import OperationalError

from attachments import storage
from attachments.models import Attachment, Blob
from sessions_app.models import Event
from tests.support import AsgiClient, Tenant, stored_keys

pytestmark = pytest.mark.django_db(transaction=True)

MIB = 1024 * 1024


def _nothing_left() -> None:
    assert not Attachment.objects.exists()
    assert not Blob.objects.exists()
    assert not Event.objects.exists()
    call_command("collect_orphans", grace_seconds=0, stdout=io.StringIO())
    assert stored_keys() == set()


def _assert_503(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.content
    assert response.headers["content-type"] == "application/json"
    assert "unavailable" in response.json()["detail"]
    assert int(response.headers["retry-after"]) > 0


def test_a_storage_write_that_fails_mid_upload_is_503(tenant: Tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    writer_class = type(storage.open_writer())
    real = writer_class.write_many
    calls = 0

    def failing(self, chunks):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        real(self, chunks[:1])  # some bytes reach storage, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_class, "write_many", failing)
    response = AsgiClient(tenant.owner_key).upload("/api/uploads/s1", b"x" * (4 * MIB))
    _assert_503(response)
    assert calls == 1
    _nothing_left()


def test_storage_failing_after_the_bytes_are_staged_is_503(tenant: Tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def failing(staged):  # type: ignore[no-untyped-def]
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(storage, "promote", failing)
    response = AsgiClient(tenant.owner_key).upload("/api/uploads/s1", b"some bytes")
    _assert_503(response)
    _nothing_left()


def test_the_database_failing_after_the_bytes_are_written_leaves_only_orphans(
    tenant: Tenant,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from attachments import services

    def failing(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services.events, "event_append", failing)
    response = AsgiClient(tenant.owner_key).upload("/api/uploads/s1", b"bytes before the fault")
    assert response.status_code == 503, response.content
    assert "database" in response.json()["detail"]
    # The bytes reached their content key before the transaction failed: an orphan.
    assert not Attachment.objects.exists()
    _nothing_left()
