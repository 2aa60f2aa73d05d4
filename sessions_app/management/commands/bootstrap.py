import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from sessions_app import services
from sessions_app.models import Membership, Organization

DEMO_ORG = "demo"
DEMO_WORKSPACE = "main"


class Command(BaseCommand):
    help = (
        "On an empty database, create a demo organization, workspace, API key and admin user, "
        "and keep their credentials in DEPOT_DATA_DIR/bootstrap.json. Does nothing afterwards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet-if-done", action="store_true", help="Print nothing when already bootstrapped."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        credentials_file = settings.DATA_DIR / "bootstrap.json"
        if Organization.objects.exists():
            if not options["quiet_if_done"]:
                self.stdout.write("Already bootstrapped: the database has an organization.")
            return
        with transaction.atomic():
            organization = services.organization_create(slug=DEMO_ORG, name="Demo")
            workspace = services.workspace_create(
                organization=organization, slug=DEMO_WORKSPACE, name="Main"
            )
            _, raw_key = services.api_key_create(
                organization=organization, default_workspace=workspace, name="bootstrap"
            )
            password = secrets.token_urlsafe(12)
            user_model = get_user_model()
            admin = user_model.objects.filter(username="admin").first()
            if admin is None:
                admin = user_model.objects.create_superuser("admin", "", password)
            else:
                password = None
            Membership.objects.create(user=admin, organization=organization)
        # The embedded default is a single-user install; the file is what lets `make run`
        # print a working key on every start although only the key's hash is in the database.
        credentials_file.write_text(
            json.dumps(
                {
                    "organization": DEMO_ORG,
                    "workspace": DEMO_WORKSPACE,
                    "api_key": raw_key,
                    "admin_user": "admin",
                    "admin_password": password,
                },
                indent=2,
            )
        )
        credentials_file.chmod(0o600)
        self.stdout.write(f"Bootstrapped organization '{DEMO_ORG}', workspace '{DEMO_WORKSPACE}'.")
        self.stdout.write(f"API key (also in {credentials_file}): {raw_key}")
