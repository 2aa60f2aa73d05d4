from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from attachments import storage
from attachments.models import Blob, blob_key
from sessions_app.audit import audit_record
from sessions_app.models import AuditAction


class Command(BaseCommand):
    help = (
        "Delete stored bytes that no blob row refers to (and abandoned temporary uploads, "
        "unfinished S3 multipart uploads included), "
        "older than a grace period so uploads in flight are left alone; report, never delete, "
        "rows whose bytes are missing. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-seconds",
            type=int,
            default=None,
            help="Leave bytes younger than this (default: DEPOT_ORPHAN_GRACE_SECONDS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report only.")

    def handle(self, *args: Any, **options: Any) -> None:
        grace = options["grace_seconds"]
        if grace is None:
            grace = settings.DEPOT_ORPHAN_GRACE_SECONDS
        cutoff = timezone.now() - timedelta(seconds=grace)
        dry_run = options["dry_run"]

        removed = kept_young = 0
        for prefix in (storage.BLOB_PREFIX, storage.TEMP_PREFIX):
            for key, modified in storage.iter_keys(prefix):
                if modified > cutoff:
                    kept_young += 1
                    continue
                if prefix == storage.BLOB_PREFIX:
                    sha256 = key.rsplit("/", 1)[-1]
                    if key != blob_key(sha256) or Blob.objects.filter(sha256=sha256).exists():
                        continue
                if not dry_run:
                    storage.delete(key)
                removed += 1
                self.stdout.write(f"{'would remove' if dry_run else 'removed'} orphan {key}")

        aborted = 0
        for key, upload_id, started in storage.iter_unfinished_uploads(storage.TEMP_PREFIX):
            if started > cutoff:
                kept_young += 1
                continue
            if not dry_run:
                storage.abort_unfinished_upload(key, upload_id)
            aborted += 1
            self.stdout.write(f"{'would abort' if dry_run else 'aborted'} unfinished upload {key}")

        missing = 0
        for blob in Blob.objects.only("id", "sha256").iterator(chunk_size=2000):
            if not storage.exists(blob.storage_key):
                missing += 1
                self.stdout.write(f"MISSING bytes for blob {blob.sha256} (row {blob.pk})")
        if not dry_run and (removed or aborted):
            audit_record(
                action=AuditAction.ORPHANS_COLLECTED,
                actor="command:collect_orphans",
                organization_id=None,  # blobs are shared by every organization
                target="storage",
                detail={"removed": removed, "aborted": aborted, "missing": missing},
            )
        self.stdout.write(
            f"orphans removed: {removed}; unfinished uploads aborted: {aborted}; "
            f"young keys left for later: {kept_young}; rows with missing bytes: {missing}"
        )
