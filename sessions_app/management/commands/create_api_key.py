from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sessions_app import services
from sessions_app.models import Organization, Workspace


class Command(BaseCommand):
    help = "Create an API key and print it once. Only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organization slug (created if missing).")
        parser.add_argument(
            "--workspace", required=True, help="Default workspace slug (created if missing)."
        )
        parser.add_argument(
            "--limit-to-workspace",
            action="store_true",
            help="The key sees only this workspace (default: the whole organization).",
        )
        parser.add_argument("--read-only", action="store_true")
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument("--expires-in-days", type=int, help="Expire after N days.")
        expiry.add_argument("--expires-at", help="Expire at an ISO 8601 time.")
        parser.add_argument("--name", default="", help="A label shown in the admin.")

    def handle(self, *args: Any, **options: Any) -> None:
        expires_at = None
        if options["expires_in_days"] is not None:
            if options["expires_in_days"] < 1:
                raise CommandError("--expires-in-days must be at least 1.")
            expires_at = timezone.now() + timedelta(days=options["expires_in_days"])
        elif options["expires_at"]:
            expires_at = parse_datetime(options["expires_at"])
            if expires_at is None:
                raise CommandError("--expires-at must be an ISO 8601 date and time.")
            if timezone.is_naive(expires_at):
                expires_at = timezone.make_aware(expires_at, timezone.UTC)

        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            organization = services.organization_create(slug=options["org"])
        workspace = Workspace.objects.filter(
            organization=organization, slug=options["workspace"]
        ).first()
        if workspace is None:
            workspace = services.workspace_create(
                organization=organization, slug=options["workspace"]
            )
        _, raw_key = services.api_key_create(
            organization=organization,
            default_workspace=workspace,
            limit_to_workspace=options["limit_to_workspace"],
            read_only=options["read_only"],
            expires_at=expires_at,
            name=options["name"],
        )
        self.stdout.write(raw_key)
