from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from artifacts.indexing import artifacts_reindex
from sessions_app.models import Namespace


class Command(BaseCommand):
    help = (
        "Rebuild the search index of a namespace (or of all): drop its chunks and index the "
        "latest version of every artifact again, in this process. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument(
            "--namespace", help="org/workspace/namespace slugs, e.g. demo/main/default"
        )
        target.add_argument("--all", action="store_true", help="Every namespace.")

    def handle(self, *args: Any, **options: Any) -> None:
        namespaces = Namespace.objects.all()
        if options["namespace"]:
            try:
                org, workspace, namespace = options["namespace"].split("/")
            except ValueError as error:
                raise CommandError("--namespace must look like org/workspace/namespace") from error
            namespaces = namespaces.filter(
                workspace__organization__slug=org, workspace__slug=workspace, slug=namespace
            )
            if not namespaces.exists():
                raise CommandError(f"No namespace {options['namespace']}.")
        counts: Counter[str] = Counter()
        for namespace in namespaces:
            counts += artifacts_reindex(namespace=namespace)
        summary = (
            ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "nothing"
        )
        self.stdout.write(f"reindexed: {summary}")
