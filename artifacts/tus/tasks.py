"""The expiry job as a task, for deployments that schedule tasks rather than commands."""

from django_tasks import task

from artifacts.tus.cleanup import expire_uploads


@task()
def expire_tus_uploads() -> dict[str, int]:
    return expire_uploads()
