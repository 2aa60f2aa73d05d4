"""Artifact row locks. The order every writer follows is in sessions_app/locks.py: **artifact
root → latest version** → blob → session → namespace."""

from artifacts.models import Artifact
from sessions_app.locks import require_atomic


def artifact_root_for_update(pk: int) -> Artifact:
    """The root row stands for the whole artifact: its lock serialises version numbering,
    in-place updates and deletion of that artifact."""
    require_atomic("artifact_root_for_update")
    return Artifact.objects.select_for_update().get(pk=pk)


def artifact_latest_for_update(root_pk: int) -> Artifact:
    require_atomic("artifact_latest_for_update")
    return Artifact.objects.select_for_update().get(root_id=root_pk, is_latest=True)
