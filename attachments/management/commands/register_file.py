import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from attachments.services import register_file
from sessions_app.errors import DepotError
from sessions_app.models import Namespace, Organization
from sessions_app.services import session_get_or_create


class Command(BaseCommand):
    help = (
        "Turn a file from an agent's workspace into an attachment of a session (emits its event)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The file to register.")
        parser.add_argument("--org", required=True, help="Organization slug.")
        parser.add_argument("--session", required=True, help="Session id (created if missing).")
        parser.add_argument(
            "--workspace", default=None, help="Workspace slug for a new session (default: first)."
        )
        parser.add_argument(
            "--workspace-root", default=None, help="Store the path relative to this."
        )
        parser.add_argument("--name", default=None, help="Display name (default: the file name).")
        parser.add_argument("--description", default="")
        parser.add_argument("--node-id", default="")
        parser.add_argument("--metadata", default="{}", help="A JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"No organization '{options['org']}'.")
        namespaces = Namespace.objects.filter(
            workspace__organization=organization, slug="default"
        ).order_by("workspace_id")
        if options["workspace"]:
            namespaces = namespaces.filter(workspace__slug=options["workspace"])
        namespace = namespaces.first()
        if namespace is None:
            raise CommandError("No such workspace in that organization.")
        try:
            metadata = json.loads(options["metadata"])
        except ValueError as error:
            raise CommandError("--metadata must be a JSON object.") from error
        try:
            session = session_get_or_create(
                organization_id=organization.pk, namespace=namespace, session_id=options["session"]
            )
            attachment = register_file(
                session=session,
                path=options["path"],
                workspace_root=options["workspace_root"],
                name=options["name"],
                description=options["description"],
                metadata=metadata,
                node_id=options["node_id"],
            )
        except DepotError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"{attachment.attachment_id} {attachment.name} {attachment.size} B "
            f"sha256:{attachment.sha256}"
        )
