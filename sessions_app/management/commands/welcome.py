import json
import socket
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Print the URLs and a working API key of the embedded server (used by `make run`)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args: Any, **options: Any) -> None:
        host = options["host"]
        if host in {"0.0.0.0", "::", "[::]"}:  # noqa: S104  (a wildcard bind: name this machine)
            host = socket.gethostname()
        base = f"http://{host}:{options['port']}"
        credentials_file = settings.DATA_DIR / "bootstrap.json"
        credentials: dict[str, Any] = {}
        if credentials_file.exists():
            credentials = json.loads(credentials_file.read_text())
        key = credentials.get("api_key") or "<create one: python manage.py create_api_key>"
        org, workspace = (
            credentials.get("organization", "demo"),
            credentials.get("workspace", "main"),
        )
        lines = [
            "",
            "Depot is starting.",
            f"  API            {base}/api/",
            f"  API docs       {base}/api/docs/   (Redoc: {base}/api/redoc/)",
            f"  OpenAPI schema {base}/api/schema/",
            f"  Admin          {base}/admin/",
            f"  Health         {base}/healthz   {base}/readyz",
            f"  Metrics        {base}/metrics   (loopback only unless DEPOT_METRICS_TOKEN is set)",
            f"  Answers to     {', '.join(settings.ALLOWED_HOSTS)}   (DJANGO_ALLOWED_HOSTS)",
            "",
            f"  API key        {key}",
        ]
        if credentials.get("admin_password"):
            lines.append(f"  Admin login    admin / {credentials['admin_password']}")
        lines += [
            f"  Namespace      orgs/{org}/workspaces/{workspace}/namespaces/default",
            "",
            "Try it:",
            f"  curl -s -X POST {base}/api/sessions -H 'X-API-Key: {key}' \\",
            "       -H 'Content-Type: application/json' -d '{\"session_id\": \"demo-1\"}'",
            f"  curl -s {base}/api/sessions -H 'X-API-Key: {key}'",
            "",
        ]
        self.stdout.write("\n".join(lines))
