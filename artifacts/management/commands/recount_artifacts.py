from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from artifacts.services import artifacts_recount


class Command(BaseCommand):
    help = (
        "Set each namespace's artifact count (the seed-002 list's total) to the artifacts it "
        "holds. Run once after a rolling deploy that had servers from before the counter "
        "writing; safe to run at any time."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        corrected = artifacts_recount()
        if not options["quiet"]:
            self.stdout.write(f"corrected {corrected} namespace count(s)")
