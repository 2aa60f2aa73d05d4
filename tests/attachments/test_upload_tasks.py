"""Background work only where there is work (issue 11): an upload enqueues its text extraction
only for a type that has an extractor; any other type is marked at once with the state that
task would have left, and no task is queued (the worker spent about 2.7 ms of CPU on each)."""

import pytest
from django_tasks_db.models import DBTaskResult

from attachments.extraction import extractor_for
from attachments.models import Attachment, IndexStatus
from tests.support import AsgiClient

pytestmark = pytest.mark.django_db(transaction=True)


def _extraction_tasks() -> list[DBTaskResult]:
    return [t for t in DBTaskResult.objects.all() if "extract_attachment_text" in t.task_path]


def test_a_type_without_an_extractor_queues_no_task(asgi_owner: AsgiClient) -> None:
    content = bytes(range(256)) * 8  # binary: application/octet-stream
    response = asgi_owner.upload("/api/uploads/no-task", content, name="weights.bin")
    assert response.status_code == 201, response.text
    attachment = Attachment.objects.get(session__session_id="no-task")
    assert extractor_for(attachment.mime_type) is None
    assert _extraction_tasks() == []
    assert attachment.index_status == IndexStatus.FAILED
    assert attachment.index_error == f"no text extractor for {attachment.mime_type}"


def test_a_type_with_an_extractor_queues_one(asgi_owner: AsgiClient) -> None:
    response = asgi_owner.upload("/api/uploads/one-task", b"# Notes\nhello\n", name="notes.md")
    assert response.status_code == 201, response.text
    attachment = Attachment.objects.get(session__session_id="one-task")
    assert extractor_for(attachment.mime_type) is not None
    tasks = _extraction_tasks()
    assert len(tasks) == 1 and tasks[0].args_kwargs["args"] == [attachment.pk]
    assert attachment.index_status == IndexStatus.PENDING
