"""Blob lifecycle: orphan collection after a crash, register_file, the release/upload race."""

import hashlib
import os
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from attachments import services, storage
from attachments.models import Attachment, Blob, blob_key
from sessions_app.errors import InvalidInput
from sessions_app.models import Event, Session
from tests.support import AsgiClient, Tenant, stored_keys

# transaction=True only on the tests that cross threads (the ASGI client serves from another
# thread, so it must see committed rows).
pytestmark = pytest.mark.django_db


def _crash_after_storage_write(content: bytes) -> str:
    """What a process that dies between the storage write and the commit leaves behind:
    promoted bytes and no row (the failure is simulated by never starting the transaction)."""
    staged = storage.write_stream(iter([content]))
    storage.promote(staged)
    return blob_key(staged.sha256)


def _collect(*args: str) -> str:
    out = StringIO()
    call_command("collect_orphans", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_collect_orphans_after_a_crash_between_write_and_commit(asgi_owner: AsgiClient) -> None:
    kept = asgi_owner.upload("/api/uploads/live", b"referenced").json()
    orphan = _crash_after_storage_write(b"orphaned bytes")
    abandoned = storage.write_stream(iter([b"half an upload"])).temp_key
    assert {orphan, abandoned} <= stored_keys()

    # Within the grace period (an upload may be in flight), nothing is touched.
    report = _collect()
    assert orphan in stored_keys() and abandoned in stored_keys()
    assert "orphans removed: 0" in report

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        report = _collect()
    assert orphan not in stored_keys() and abandoned not in stored_keys()
    assert "orphans removed: 2" in report
    referenced = blob_key(kept["sha256"])
    assert referenced in stored_keys()
    download = asgi_owner.get(f"/api/sessions/live/artifacts/{kept['attachment_id']}?mode=stream")
    assert download.content == b"referenced"

    # Idempotent.
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert "orphans removed: 0" in _collect()


@pytest.mark.django_db(transaction=True)
def test_collect_orphans_reports_rows_without_bytes_and_never_deletes_them(
    asgi_owner: AsgiClient,
) -> None:
    created = asgi_owner.upload("/api/uploads/lost", b"will vanish").json()
    storage.delete(blob_key(created["sha256"]))
    report = _collect("--grace-seconds", "0")
    assert f"MISSING bytes for blob {created['sha256']}" in report
    assert "rows with missing bytes: 1" in report
    assert Blob.objects.count() == 1 and Attachment.objects.count() == 1


def test_dry_run_deletes_nothing() -> None:
    orphan = _crash_after_storage_write(b"dry")
    report = _collect("--grace-seconds", "0", "--dry-run")
    assert f"would remove orphan {orphan}" in report
    assert orphan in stored_keys()


@pytest.mark.django_db(transaction=True)
def test_an_upload_heals_a_blob_whose_bytes_vanished(asgi_owner: AsgiClient) -> None:
    first = asgi_owner.upload("/api/uploads/heal", b"same content").json()
    storage.delete(blob_key(first["sha256"]))
    second = asgi_owner.upload("/api/uploads/heal", b"same content", name="again.bin")
    assert second.status_code == 201
    url = f"/api/sessions/heal/artifacts/{first['attachment_id']}?mode=stream"
    assert asgi_owner.get(url).content == b"same content"


@pytest.mark.django_db(transaction=True)
def test_release_then_reupload_of_the_same_content(asgi_owner: AsgiClient) -> None:
    """The bytes of a released blob are deleted after commit; an upload of the same content
    right after must still end with its bytes in place."""
    content = os.urandom(2048)
    first = asgi_owner.upload("/api/uploads/race", content).json()
    staged = storage.write_stream(iter([content]))
    storage.promote(staged)  # the re-upload's bytes landed while the first still existed
    assert asgi_owner.delete(f"/api/uploads/race/{first['attachment_id']}").status_code == 204
    assert blob_key(first["sha256"]) not in stored_keys()  # the release deleted them

    session = Session.objects.get(session_id="race")
    attachment = services.attachment_create(
        session_lookup=lambda: session, staged=staged, original_name="again.bin"
    )
    assert blob_key(attachment.sha256) in stored_keys()
    data = b"".join(storage.read_chunks(blob_key(attachment.sha256)))
    assert hashlib.sha256(data).hexdigest() == first["sha256"]
    assert staged.temp_key not in stored_keys()


def test_register_file_from_a_workspace(tenant: Tenant, tmp_path: Path, owner) -> None:  # type: ignore[no-untyped-def]
    workspace = tmp_path / "ws"
    (workspace / "code_workspace").mkdir(parents=True)
    (workspace / "code_workspace" / "result.json").write_bytes(b'{"answer": 42}')
    owner.post("/api/sessions", {"session_id": "agent-run"}, format="json")
    session = Session.objects.get(session_id="agent-run")
    attachment = services.register_file(
        session=session,
        path="code_workspace/result.json",
        workspace_root=workspace,
        node_id="python_runner",
        description="the answer",
    )
    assert (attachment.source, attachment.workspace_path) == (
        "workspace",
        "code_workspace/result.json",
    )
    assert (attachment.name, attachment.mime_type) == ("result.json", "application/json")
    event = Event.objects.get(session=session)
    assert (event.kind, event.node_id, event.path) == (
        "attachment.created",
        "python_runner",
        "code_workspace/result.json",
    )
    listed = owner.get("/api/uploads/agent-run").json()["attachments"]
    assert listed[0]["source"] == "workspace"


def test_register_file_refuses_paths_outside_the_workspace(
    tenant: Tenant, tmp_path: Path, owner
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "ws").mkdir()
    (tmp_path / "secret.txt").write_text("no")
    owner.post("/api/sessions", {"session_id": "agent-run"}, format="json")
    session = Session.objects.get(session_id="agent-run")
    for path in ("../secret.txt", str(tmp_path / "secret.txt")):
        with pytest.raises(InvalidInput):
            services.register_file(session=session, path=path, workspace_root=tmp_path / "ws")
    with pytest.raises(InvalidInput):
        services.register_file(session=session, path=tmp_path / "ws" / "missing.txt")
    assert not Attachment.objects.exists() and stored_keys() == set()


def test_register_file_command(tenant: Tenant, tmp_path: Path) -> None:
    source = tmp_path / "notes.md"
    source.write_text("# notes")
    out = StringIO()
    call_command(
        "register_file",
        str(source),
        "--org",
        "acme",
        "--session",
        "cli-run",
        "--node-id",
        "cli",
        "--metadata",
        '{"from": "cli"}',
        stdout=out,
    )
    attachment = Attachment.objects.get()
    assert attachment.attachment_id in out.getvalue()
    assert attachment.session.session_id == "cli-run" and attachment.metadata == {"from": "cli"}
    with pytest.raises(CommandError):
        call_command("register_file", str(source), "--org", "nope", "--session", "x")
    with pytest.raises(CommandError):
        call_command("register_file", str(tmp_path / "none"), "--org", "acme", "--session", "x")


@pytest.mark.django_db(transaction=True)
def test_deleting_a_session_releases_its_bytes(asgi_owner: AsgiClient, owner) -> None:  # type: ignore[no-untyped-def]
    asgi_owner.upload("/api/uploads/gone", b"bytes to release")
    assert stored_keys()
    assert owner.delete("/api/sessions/gone").status_code == 204
    assert stored_keys() == set()
    assert not Blob.objects.exists() and not Attachment.objects.exists()
