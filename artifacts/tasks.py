"""Background tasks (django-tasks). Run by `manage.py db_worker`: by the operator in production, or
started by the server itself on the embedded default (config/lifespan.py)."""

from django_tasks import task

from artifacts.indexing import artifact_index


@task()
def index_artifact(artifact_pk: int) -> str | None:
    status = artifact_index(artifact_pk=artifact_pk)
    return str(status) if status else None
