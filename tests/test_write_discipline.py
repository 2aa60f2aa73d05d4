"""The write discipline of sessions_app/locks.py: one lock order for every writer (artifact root
→ latest version → blob → session → namespace) and the namespace row locked last."""

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from artifacts.models import Artifact, ArtifactChunk
from artifacts.services import (
    NewContent,
    artifact_create,
    artifact_delete,
    artifact_version_create,
)
from attachments import storage
from attachments.models import Attachment, Blob, blob_key
from attachments.services import attachment_create, blob_acquire, blob_staged
from sessions_app import services as session_services
from sessions_app.models import Event, EventKind, Namespace, Session
from tests.support import AsgiClient, Tenant

pytestmark = pytest.mark.django_db(transaction=True)

PAIRS = 50


def _stored_sha256(key: str) -> str:
    digest = hashlib.sha256()
    for chunk in storage.read_chunks(key):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.postgres
def test_an_upload_and_an_artifact_version_of_the_same_bytes_never_deadlock(
    tenant: Tenant,
) -> None:
    """Fifty pairs at once, each an attachment upload and a new artifact version carrying the
    same new bytes into the same session. Before the fix uploads locked session → blob and
    artifact writes blob → session, and PostgreSQL aborted one writer of a pair (a 500)."""
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    artifacts = []
    for number in range(PAIRS):
        session = session_services.session_create(
            organization_id=tenant.organization.pk, namespace=namespace, session_id=f"race-{number}"
        )
        artifacts.append(
            artifact_create(
                namespace=namespace,
                content=NewContent(text="first"),
                fields={"name": f"report-{number}"},
                session_lookup=lambda session=session: session,
            )
        )
    contents = [os.urandom(32 * 1024) for _ in range(PAIRS)]
    client = AsgiClient(tenant.owner_key)
    barrier = threading.Barrier(2 * PAIRS)
    statuses: dict[tuple[str, int], int] = {}
    bodies: dict[tuple[str, int], str] = {}
    errors: list[BaseException] = []

    def send(kind: str, number: int) -> None:
        url = (
            f"/api/uploads/race-{number}"
            if kind == "attachment"
            else f"/api/artifacts/{artifacts[number].artifact_id}/upload"
        )
        try:
            barrier.wait(timeout=60)
            response = client.upload(url, contents[number], name="same.bin")
            statuses[kind, number] = response.status_code
            bodies[kind, number] = response.text
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=send, args=(kind, number))
        for number in range(PAIRS)
        for kind in ("attachment", "artifact")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    failed = {key: (code, bodies[key][:200]) for key, code in statuses.items() if code >= 300}
    assert not failed, failed
    assert len(statuses) == 2 * PAIRS
    for number, content in enumerate(contents):
        expected = hashlib.sha256(content).hexdigest()
        attachment = Attachment.objects.select_related("blob").get(
            session__session_id=f"race-{number}"
        )
        version = Artifact.objects.select_related("blob").get(
            root=artifacts[number], is_latest=True
        )
        assert (attachment.sha256, version.version) == (expected, 2)
        assert attachment.blob_id == version.blob_id is not None
        assert _stored_sha256(blob_key(expected)) == expected


@contextmanager
def _slow_chunk_deletes(seconds: float) -> Iterator[None]:
    """Every DELETE on the chunk table takes `seconds` longer: a cascade as slow as one over
    millions of chunks, without building them (PostgreSQL; a statement trigger that sleeps)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION depot_test_slow_delete() RETURNS trigger AS $$"
            f" BEGIN PERFORM pg_sleep({seconds}); RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER depot_test_slow_delete BEFORE DELETE ON artifacts_artifactchunk"
            " FOR EACH STATEMENT EXECUTE FUNCTION depot_test_slow_delete()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER IF EXISTS depot_test_slow_delete ON artifacts_artifactchunk"
            )
            cursor.execute("DROP FUNCTION IF EXISTS depot_test_slow_delete()")


def _upload(session: Session, content: bytes) -> Attachment:
    return attachment_create(
        session_lookup=lambda: session,
        staged=storage.write_stream(iter([content])),
        original_name="during.bin",
    )


@pytest.mark.postgres
def test_a_slow_cascade_delete_does_not_hold_up_an_upload_into_its_namespace(
    tenant: Tenant,
) -> None:
    """The namespace row is locked last (by the event append), so an artifact delete whose
    cascade takes seconds stalls no other writer of the namespace: an upload started during
    the cascade commits long before the delete does. Before the fix `artifact_delete` appended
    its event first and held the namespace row through the whole cascade."""
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    session = session_services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="busy"
    )
    doomed = artifact_create(
        namespace=namespace, content=NewContent(text="v1"), fields={"name": "x"}
    )
    for number in range(2, 6):
        artifact_version_create(artifact=doomed, content=NewContent(text=f"v{number}"))
    ArtifactChunk.objects.bulk_create(
        ArtifactChunk(artifact=doomed, namespace=namespace, ordinal=number, text="words")
        for number in range(100)
    )
    cascade_seconds = 1.0
    timings: dict[str, float] = {}
    go = threading.Event()
    warm = threading.Event()
    errors: list[BaseException] = []

    def delete() -> None:
        try:
            timings["delete_start"] = time.perf_counter()
            artifact_delete(artifact=doomed)
            timings["delete_end"] = time.perf_counter()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def upload() -> None:
        try:
            # Warm this thread's storage client and connection, so the measured upload
            # waits only for what the database makes it wait for.
            _upload(session, b"warm-up")
            warm.set()
            go.wait(timeout=30)
            timings["upload_start"] = time.perf_counter()
            _upload(session, b"during the cascade")
            timings["upload_end"] = time.perf_counter()
        except BaseException as error:
            errors.append(error)
        finally:
            warm.set()
            connection.close()

    uploader = threading.Thread(target=upload)
    uploader.start()
    assert warm.wait(timeout=60)
    with _slow_chunk_deletes(cascade_seconds):
        deleter = threading.Thread(target=delete)
        deleter.start()
        time.sleep(0.3)  # the deleter is inside its cascade now
        go.set()
        uploader.join(timeout=60)
        deleter.join(timeout=60)
    assert not errors, errors
    upload_ms = (timings["upload_end"] - timings["upload_start"]) * 1000
    delete_ms = (timings["delete_end"] - timings["delete_start"]) * 1000
    print(
        f"\ncascade delete {delete_ms:.0f} ms; an upload started 300 ms into it took "
        f"{upload_ms:.0f} ms and committed "
        f"{(timings['delete_end'] - timings['upload_end']) * 1000:.0f} ms before the delete"
    )
    assert not Artifact.objects.filter(root_id=doomed.pk).exists()
    assert Attachment.objects.filter(session=session).count() == 2
    # The upload is held by nothing the delete holds: it commits a whole second before it.
    assert timings["upload_end"] < timings["delete_end"] - 1.0, (upload_ms, delete_ms)
    # Both events are in the feed, the upload's first: each was appended just before its commit.
    kinds = list(
        Event.objects.filter(namespace=namespace)
        .order_by("-namespace_sequence")
        .values_list("kind", flat=True)[:2]
    )
    assert kinds == [EventKind.ARTIFACT_DELETED, EventKind.ATTACHMENT_CREATED]


@pytest.mark.postgres
def test_a_failed_write_keeps_bytes_that_an_uncommitted_upload_has_claimed(
    tenant: Tenant,
) -> None:
    """A failed write removes the bytes it promoted unless a blob row claims them. An upload of
    the same bytes that has made its blob row but not committed yet claims them too: the failed
    writer must wait for it, not read past its invisible row and delete the bytes under it."""
    content = os.urandom(4096)
    sha256 = hashlib.sha256(content).hexdigest()
    failed_write = storage.write_stream(iter([content]))
    claiming = storage.write_stream(iter([content]))
    claimed = threading.Event()
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            with blob_staged(claiming), transaction.atomic():
                blob_acquire(staged=claiming)
                claimed.set()
                time.sleep(1.0)  # still uncommitted while the other writer fails
        except BaseException as error:
            errors.append(error)
        finally:
            claimed.set()
            connection.close()

    claimer = threading.Thread(target=claim)
    with pytest.raises(RuntimeError), blob_staged(failed_write):
        # The failed writer promoted first, so the bytes it drops are the ones the claimer uses.
        claimer.start()
        assert claimed.wait(timeout=30)
        raise RuntimeError("the write failed after its bytes were promoted")
    claimer.join(timeout=30)
    assert not errors, errors
    assert Blob.objects.filter(sha256=sha256).exists()
    assert storage.exists(blob_key(sha256)), "the claimed bytes were deleted"


@pytest.mark.postgres
def test_deleting_a_file_while_its_session_is_deleted_never_deadlocks(tenant: Tenant) -> None:
    """A session's attachment rows are written under the session's lock. Before the fix a
    session delete removed the attachments and then locked the session, while a file delete
    locked the session (its event) and then removed the attachment: one of them died (500)."""
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug="default")
    client = AsgiClient(tenant.owner_key)
    pairs = 30
    targets = []
    for number in range(pairs):
        session = session_services.session_create(
            organization_id=tenant.organization.pk, namespace=namespace, session_id=f"gone-{number}"
        )
        for copy in range(3):
            attachment = _upload(session, f"{number}-{copy}".encode())
        targets.append(attachment.attachment_id)
    barrier = threading.Barrier(2 * pairs)
    statuses: dict[tuple[str, int], int] = {}
    errors: list[BaseException] = []

    def send(kind: str, number: int) -> None:
        path = f"/api/sessions/gone-{number}"
        if kind == "file":
            path = f"/api/uploads/gone-{number}/{targets[number]}"
        try:
            barrier.wait(timeout=60)
            statuses[kind, number] = client.delete(path).status_code
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=send, args=(kind, number))
        for number in range(pairs)
        for kind in ("session", "file")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    # The file delete is a 204 when it went first, else a 404 (its session is gone).
    assert {key: code for key, code in statuses.items() if code not in (204, 404)} == {}
    assert all(statuses["session", number] == 204 for number in range(pairs))
    assert not Attachment.objects.exists()
