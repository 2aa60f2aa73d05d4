from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from artifacts.services import artifacts_purge_expired


class Command(BaseCommand):
    help = (
        "Delete expired, unpinned artifacts (all their versions), then their unreferenced "
        "bytes. Safe to run repeatedly, e.g. from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        purged = artifacts_purge_expired()
        if not options["quiet"]:
            self.stdout.write(f"purged {purged} expired artifact(s)")
