"""Background tasks (django-tasks). Run by `manage.py db_worker`: by the operator in production, or
started by the server itself on the embedded default (config/lifespan.py).

A task is a doorway: it calls the service and owns the retry policy (HackSoft's style). Services
enqueue tasks inside their own transaction, so a task row commits with the write or not at all.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from artifacts.indexing import IndexRetry, artifact_index, index_failure_record
from artifacts.models import IndexStatus


@task()
def index_artifact(artifact_pk: int) -> str | None:
    try:
        status = artifact_index(artifact_pk=artifact_pk)
    except IndexRetry as retry:
        if retry.attempts >= settings.DEPOT_INDEX_MAX_ATTEMPTS:
            index_failure_record(artifact_pk, retry.attempts, retry.error, retry=False)
            return str(IndexStatus.FAILED)
        # Exponential backoff: the storage outage that caused it may take a while to pass.
        delay = settings.DEPOT_INDEX_RETRY_SECONDS * (2 ** (retry.attempts - 1))
        index_artifact.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(
            artifact_pk
        )
        return str(IndexStatus.PENDING)
    return str(status) if status else None
