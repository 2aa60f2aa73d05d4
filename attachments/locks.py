"""Blob row locks. The order every writer follows is in sessions_app/locks.py: artifact root →
latest version → **blob** → session → namespace."""

from django.db import connection
from django.utils import timezone

from attachments.models import Blob
from sessions_app.locks import require_atomic

# Blob._meta.db_table and its columns (tests/test_request_cost.py checks them).
INSERT_BLOB = (
    "INSERT INTO attachments_blob (sha256, size, created_at) VALUES (%s, %s, %s) "
    "ON CONFLICT (sha256) DO NOTHING RETURNING id"
)


def blob_for_update(sha256: str, *, size: int) -> tuple[Blob, bool]:
    """The locked row of these bytes, made if missing; returns (blob, created). A row we have
    just made is locked too: another writer inserting the same sha256 waits for our commit.

    One `INSERT … ON CONFLICT DO NOTHING RETURNING` for new bytes (get_or_create took a read,
    a savepoint, the insert and its release); bytes already stored add one locked read. An
    insert that meets another writer's uncommitted row waits for that commit, then reads it."""
    require_atomic("blob_for_update")
    created_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_BLOB, [sha256, size, connection.ops.adapt_datetimefield_value(created_at)]
        )
        inserted = cursor.fetchone()
    if inserted is not None:
        fields = ["id", "sha256", "size", "created_at"]
        return Blob.from_db(connection.alias, fields, [inserted[0], sha256, size, created_at]), True
    return Blob.objects.select_for_update().get(sha256=sha256), False


def existing_blob_for_update(pk: int) -> Blob | None:
    require_atomic("existing_blob_for_update")
    return Blob.objects.select_for_update().filter(pk=pk).first()
