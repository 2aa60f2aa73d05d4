from typing import Any

from django.core.management.base import BaseCommand

from artifacts.tus.cleanup import expire_uploads


class Command(BaseCommand):
    help = (
        "Remove expired tus uploads (DEPOT_TUS_EXPIRE_SECONDS after creation), bytes and rows, "
        "and bytes under tus/ that no upload names."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = expire_uploads()
        self.stdout.write(
            f"removed {result['removed']} expired uploads, {result['orphans']} orphans"
            + (f", {result['failed']} failed (storage)" if result["failed"] else "")
        )
