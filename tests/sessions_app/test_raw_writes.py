"""`sessions_app.raw_writes.insert` writes the row `Model.objects.create` writes (an upload's
attachment row goes through it): the same stored values, defaults and `auto_now_add` applied,
the instance marked saved, and the save signals sent (the upload metrics count on them)."""

from typing import Any

import pytest
from django.db import transaction
from django.db.models.signals import post_save, pre_save

from attachments import storage
from attachments.models import Attachment, Blob, IndexStatus
from sessions_app import raw_writes, services
from sessions_app.models import DEFAULT_NAMESPACE, Namespace
from tests.support import Tenant

pytestmark = pytest.mark.django_db


def _stored(pk: int) -> dict[str, Any]:
    row = Attachment.objects.get(pk=pk)
    skip = {"id", "uid", "created_at"}
    return {
        f.attname: getattr(row, f.attname)
        for f in Attachment._meta.concrete_fields
        if f.attname not in skip
    }


def test_the_same_row_as_create(tenant: Tenant) -> None:
    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    session = services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="raw-insert"
    )
    staged = storage.write_stream(iter([b"raw insert\n"]))
    blob = Blob.objects.create(sha256=staged.sha256, size=staged.size)
    fields: dict[str, Any] = {
        "session": session,
        "blob": blob,
        "name": "ü notes.txt",
        "original_name": "dir/ü notes.txt",
        "mime_type": "text/plain",
        "size": staged.size,
        "sha256": staged.sha256,
        "metadata": {"nested": {"list": [1, "two", None]}, "ü": 1.5},
        "node_id": "runner",
        "path": "out/notes.txt",
        "index_status": IndexStatus.FAILED,
        "index_error": "no text extractor for x",
    }
    signals: list[tuple[str, bool | None]] = []

    def before(sender: Any, instance: Any, **kwargs: Any) -> None:
        signals.append(("pre_save", None))

    def after(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
        signals.append(("post_save", created))
        assert instance.pk is not None and kwargs["using"] == "default"

    pre_save.connect(before, sender=Attachment, dispatch_uid="test-raw-before")
    post_save.connect(after, sender=Attachment, dispatch_uid="test-raw-after")
    try:
        with transaction.atomic():
            created = Attachment.objects.create(**fields)
            inserted = raw_writes.insert(Attachment(**fields))
    finally:
        pre_save.disconnect(dispatch_uid="test-raw-before", sender=Attachment)
        post_save.disconnect(dispatch_uid="test-raw-after", sender=Attachment)
    assert signals == [("pre_save", None), ("post_save", True)] * 2
    assert inserted.pk is not None and inserted.pk != created.pk
    assert not inserted._state.adding and inserted._state.db == "default"
    assert _stored(inserted.pk) == _stored(created.pk)
    again = Attachment.objects.get(pk=inserted.pk)
    assert again.uid == inserted.uid and again.created_at == inserted.created_at
    assert again.created_at.tzinfo is not None
    # Defaults the caller did not pass, as create leaves them.
    assert (again.purged, again.content_text, again.description, again.source) == (
        False,
        "",
        "",
        created.source,
    )


def test_a_saved_upload_is_counted_once_committed(
    tenant: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    from ops.metrics import UPLOAD_FILES

    namespace = Namespace.objects.get(workspace=tenant.workspace, slug=DEFAULT_NAMESPACE)
    session = services.session_create(
        organization_id=tenant.organization.pk, namespace=namespace, session_id="raw-count"
    )
    before = UPLOAD_FILES.labels("attachment")._value.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        raw_writes.insert(
            Attachment(session=session, name="a", mime_type="text/plain", size=1, sha256="0" * 64)
        )
    assert len(callbacks) == 1
    assert UPLOAD_FILES.labels("attachment")._value.get() == before + 1
