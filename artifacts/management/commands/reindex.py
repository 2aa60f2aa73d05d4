from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from artifacts.indexing import artifact_index
from artifacts.models import Artifact, ArtifactChunk
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
        counts: dict[str, int] = {}
        for namespace in namespaces.select_related("workspace__organization"):
            ArtifactChunk.objects.filter(namespace=namespace).delete()
            latest = (
                Artifact.objects.latest_versions()
                .filter(namespace=namespace)
                .values_list("pk", flat=True)
            )
            for artifact_pk in latest.iterator():
                status = artifact_index(artifact_pk=artifact_pk)
                counts[str(status)] = counts.get(str(status), 0) + 1
        summary = (
            ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "nothing"
        )
        self.stdout.write(f"reindexed: {summary}")
