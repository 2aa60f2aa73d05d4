"""Background text extraction for attachments (never inside the upload request)."""

from django_tasks import task

from attachments.extraction import ExtractionError, extract_from_storage
from attachments.models import Attachment, IndexStatus


@task()
def extract_attachment_text(attachment_pk: int) -> str | None:
    attachment = Attachment.objects.select_related("blob").filter(pk=attachment_pk).first()
    if attachment is None or attachment.blob is None:
        return None
    try:
        text = extract_from_storage(
            attachment.blob.storage_key, attachment.mime_type, attachment.size
        )
    except ExtractionError as error:
        Attachment.objects.filter(pk=attachment_pk).update(
            index_status=IndexStatus.FAILED, index_error=str(error)[:2000]
        )
        return IndexStatus.FAILED
    Attachment.objects.filter(pk=attachment_pk).update(
        content_text=text, index_status=IndexStatus.INDEXED, index_error=""
    )
    return IndexStatus.INDEXED
